"""LLM judge over real HTTP against the project's scripted OpenAI-compatible server."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from interactcs.llm.openai_client import OpenAIChatClient
from interactcs.rewards.compose import from_trajectories
from interactcs.rewards.judges import LLMJudge, parse_judge_output
from interactcs.testing.openai_server import Reply, ScriptedServer, SequenceHandler

NAMES = ("persona_fit", "dialogue_stage", "response_quality", "scenario_rules")
TURNS = [
    ("", "Sorry! Could you send a photo?", "chat"),
    ("[Sent Picture: cold]", "Voucher sent.", "voucher"),
]


def answer(p=1, s=1, q=0.5, r=1, **extra) -> str:
    scores = dict(zip(NAMES, [p, s, q, r], strict=True))
    return json.dumps({"scores": {**scores, **extra}, "reason": "fine"})


def _client(srv: ScriptedServer, **kw) -> OpenAIChatClient:
    kw.setdefault("timeout_s", 5.0)
    kw.setdefault("max_retries", 0)
    return OpenAIChatClient(srv.base_url, "judge", api_key_env=None, backoff_s=0.01, **kw)


def test_valid_json_scores_every_turn(make_traj):
    """Answer (1, 1, 0.5, 1) -> (1 + 1 + 0.5 + 2)/5 = 0.9 on both turns; one request each."""
    t = make_traj(TURNS, category=1)
    with ScriptedServer(lambda body: answer()) as srv:
        stats = LLMJudge(_client(srv)).judge([t])
        bodies = list(srv.requests)
    assert [x.process_score for x in t.turns] == [pytest.approx(0.9)] * 2
    assert t.turns[0].process_detail["scores"]["response_quality"] == 0.5
    assert stats.requests == 2 and stats.judged == 2 and stats.failed == 0
    system = bodies[0]["messages"][0]["content"]
    assert all(n in system for n in NAMES) and "hostile" in system  # category-1 guidance
    users = sorted(b["messages"][1]["content"] for b in bodies)
    assert "Score agent turn 1" in users[0] and "Voucher sent." not in users[0]
    assert "Score agent turn 2" in users[1] and "[Sent Picture: cold]" in users[1]
    assert bodies[0]["temperature"] == 0.0


def test_malformed_then_valid(make_traj):
    """First answer is not JSON; the judge sends it back with the error and the retry counts."""
    t = make_traj(TURNS[:1])
    with ScriptedServer(SequenceHandler(["{scores: oops", answer(0, 0, 0, 0)])) as srv:
        stats = LLMJudge(_client(srv)).judge([t])
        second = srv.requests[1]["messages"]
    assert t.turns[0].process_score == 0.0  # a real 0 from the judge, not a failure
    assert t.turns[0].process_detail["attempts"] == 2 and stats.requests == 2
    assert second[2] == {"role": "assistant", "content": "{scores: oops"}
    assert "not valid JSON" in second[3]["content"]


def test_timeout_recorded_and_excluded(make_traj):
    """The server answers after 1 s, the client gives up at 0.2 s: recorded as a failure,
    process_score None -> NaN in the batch -> no process contribution."""
    t = make_traj(TURNS[:1])
    with ScriptedServer(lambda body: Reply(content=answer(), delay_s=1.0)) as srv:
        stats = LLMJudge(_client(srv, timeout_s=0.2)).judge([t])
    assert t.turns[0].process_score is None
    assert "timeout" in t.turns[0].process_detail["failure"]
    assert stats.failed == 1 and stats.failure_rate == 1.0
    assert stats.failures[0]["scenario_id"] == "s0" and stats.failures[0]["turn"] == 0
    assert np.isnan(from_trajectories([t]).process).all()


def test_score_outside_levels_is_never_scored(make_traj):
    """0.7 is not in {0, 0.5, 1}: three invalid answers -> failure, no score."""
    t = make_traj(TURNS[:1])
    with ScriptedServer(lambda body: answer(r=0.7)) as srv:
        stats = LLMJudge(_client(srv), max_attempts=3).judge([t])
    assert t.turns[0].process_score is None
    detail = t.turns[0].process_detail
    assert "not one of 0, 0.5, 1" in detail["failure"] and detail["attempts"] == 3
    assert stats.requests == 3 and stats.failed == 1


def test_calls_run_concurrently(make_traj):
    """8 turns, each answered after 0.3 s: serial would take 2.4 s."""
    trajs = [make_traj(TURNS) for _ in range(4)]
    with ScriptedServer(lambda body: Reply(content=answer(), delay_s=0.3)) as srv:
        t0 = time.perf_counter()
        stats = LLMJudge(_client(srv), concurrency=8).judge(trajs)
        wall = time.perf_counter() - t0
    assert stats.judged == 8 and wall < 1.2


def test_dialogue_mode_one_call_per_dialogue(make_traj):
    t = make_traj(TURNS)
    with ScriptedServer(lambda body: answer(1, 1, 1, 1)) as srv:
        stats = LLMJudge(_client(srv), mode="dialogue", json_mode=True).judge([t])
        body = srv.requests[0]
    assert stats.requests == 1 and t.dialogue_scores["process"] == 1.0
    assert body["response_format"] == {"type": "json_object"}
    assert "Score the dialogue" in body["messages"][1]["content"]
    assert "whole dialogue" in body["messages"][0]["content"]


@pytest.mark.parametrize(
    "text, error",
    [
        ("", "empty"),
        ("[1, 2]", "scores"),
        (answer(p=True), "not a number"),
        (answer(p="1"), "not a number"),
        (json.dumps({"scores": {"persona_fit": 1}}), "missing"),
        (answer(clarity=1), "unknown"),
        ("Sure! " + answer(), "not valid JSON"),
    ],
)
def test_parser_is_strict(text, error):
    with pytest.raises(ValueError, match=error):
        parse_judge_output(text, NAMES)


def test_parser_accepts_fenced_json():
    scores, reason = parse_judge_output("```json\n" + answer() + "\n```", NAMES)
    assert scores["response_quality"] == 0.5 and reason == "fine"
