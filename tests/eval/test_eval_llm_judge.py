"""LLM Comm / Logic judges over real HTTP against the project's scripted server."""

from __future__ import annotations

import json
import time

import pytest
from conftest import BAD, GOOD, build_dialogue

from interactcs.eval.aggregate import dialogue_metrics
from interactcs.eval.judges import judge_dialogues
from interactcs.eval.llm_judge import LLMRubricJudge, RubricOutputError, parse_rubric_output
from interactcs.eval.rubrics import COMM, LOGIC, Rubric
from interactcs.llm.openai_client import OpenAIChatClient
from interactcs.testing.openai_server import Reply, ScriptedServer, SequenceHandler, system_text


def answer(rubric: Rubric, value: int = 1, **overrides: object) -> str:
    scores = {i.key: min(value, i.max) for i in rubric.items}
    scores.update(overrides)
    return json.dumps({"scores": scores, "reason": "ok"})


def _client(srv: ScriptedServer, **kw) -> OpenAIChatClient:
    kw.setdefault("timeout_s", 5.0)
    kw.setdefault("max_retries", 0)
    return OpenAIChatClient(srv.base_url, "judge", api_key_env=None, backoff_s=0.01, **kw)


def test_parse_is_strict():
    ok = answer(COMM, 2)
    assert sum(parse_rubric_output(f"```json\n{ok}\n```", COMM)[0].values()) == 28
    for bad, msg in [
        ("", "empty"),
        ("{nope", "not valid JSON"),
        ('{"score": {}}', '"scores" object'),
        (answer(COMM, 2, in_role=True), "not a whole number"),
        (answer(COMM, 2, extra=1), "unknown"),
        (answer(LOGIC, 1, sop=2), "outside 0..1"),
    ]:
        rubric = LOGIC if "sop" in bad else COMM
        with pytest.raises(RubricOutputError, match=msg):
            parse_rubric_output(bad, rubric)


def test_comm_valid_answer_and_what_it_sees():
    """All items 2 -> 28; Comm sees customer text and replies, never reasoning or actions."""
    t = build_dialogue(**GOOD)
    with ScriptedServer(lambda body: answer(COMM, 2)) as srv:
        stats = judge_dialogues([LLMRubricJudge(_client(srv), COMM)], [t])
        body = srv.requests[0]
    assert t.dialogue_scores["comm"] == 28
    assert t.dialogue_scores["comm_detail"] == {
        "judge": "llm:judge", "attempts": 1, "items": {k: 2 for k in COMM.keys}, "reasons": "ok",
    }  # fmt: skip
    assert stats["comm"].requests == 1 and stats["comm"].judged == 1
    system, user = body["messages"][0]["content"], body["messages"][1]["content"]
    assert all(f'"{k}"' in system for k in COMM.keys)
    assert "Customer: Hi, my burger from Joe's arrived cold." in user
    assert "Agent: I've issued a voucher to your account." in user
    assert "No, thanks, that's all." in user  # the customer's last reply
    assert "I need the facts" not in user  # the reasoning is hidden from Comm
    assert "action" not in user.lower() and "reasoning" not in user.lower()
    assert body["temperature"] == 0.0


def test_logic_sees_reasoning_actions_and_case_facts():
    t = build_dialogue(**BAD, rc_tag=True)
    with ScriptedServer(lambda body: answer(LOGIC, 1, emotion=0)) as srv:
        judge_dialogues([LLMRubricJudge(_client(srv), LOGIC)], [t])
        user = srv.requests[0]["messages"][1]["content"]
    assert t.dialogue_scores["logic"] == 8  # 2*1 + 0 + 6*1
    assert "Agent reasoning: Customer agreed, complaint supported" in user
    assert "Agent action: voucher" in user
    assert "Risk-control flag on the order (visible to the agent): set" in user
    assert "Highly Uncooperative" in user and "Refund Insistence" in user
    assert "the customer ended it" in user


def test_malformed_then_valid_is_retried():
    t = build_dialogue(**GOOD)
    replies = ["{scores: oops", answer(COMM, 1)]
    with ScriptedServer(SequenceHandler(replies)) as srv:
        stats = judge_dialogues([LLMRubricJudge(_client(srv), COMM)], [t])
        second = srv.requests[1]["messages"]
    assert t.dialogue_scores["comm"] == 14
    assert t.dialogue_scores["comm_detail"]["attempts"] == 2 and stats["comm"].requests == 2
    assert second[2] == {"role": "assistant", "content": "{scores: oops"}
    assert "not valid JSON" in second[3]["content"]


def test_out_of_range_item_is_sent_back_then_accepted():
    t = build_dialogue(**GOOD)
    replies = [answer(COMM, 2, novelty=3), answer(COMM, 2, novelty=0)]
    with ScriptedServer(SequenceHandler(replies)) as srv:
        judge_dialogues([LLMRubricJudge(_client(srv), COMM)], [t])
        note = srv.requests[1]["messages"][3]["content"]
    assert '"novelty": 3 is outside 0..2' in note
    assert t.dialogue_scores["comm"] == 26


def test_invalid_every_time_is_a_recorded_failure():
    """Three answers missing an item -> failure recorded, no score, excluded from the mean."""
    t_bad, t_ok = build_dialogue(**GOOD, scenario_id="a"), build_dialogue(**BAD, scenario_id="b")
    missing = json.dumps({"scores": {k: 1 for k in LOGIC.keys if k != "sop"}})

    def handler(body):
        return missing if "burger" in body["messages"][1]["content"] else answer(LOGIC, 1)

    with ScriptedServer(handler) as srv:
        stats = judge_dialogues([LLMRubricJudge(_client(srv), LOGIC)], [t_bad, t_ok])
    assert t_bad.dialogue_scores["logic"] is None
    detail = t_bad.dialogue_scores["logic_detail"]
    assert detail["attempts"] == 3 and "missing ['sop']" in detail["failure"]
    assert detail["raw"].startswith('{"scores"')
    st = stats["logic"]
    assert (st.units, st.judged, st.failed, st.requests) == (2, 1, 1, 4)
    assert st.failures[0]["scenario_id"] == "a"
    m = dialogue_metrics([t_bad, t_ok])
    assert m["logic"] == 9.0 and m["logic_failures"] == 1  # the failure is not a 0


def test_timeout_is_a_failure_excluded_from_means():
    slow, fast = (
        build_dialogue(**GOOD, scenario_id="slow"),
        build_dialogue(**BAD, scenario_id="fast"),
    )

    def handler(body):
        if "burger" in body["messages"][1]["content"]:
            return Reply(answer(COMM, 2), delay_s=1.0)
        return answer(COMM, 1)

    with ScriptedServer(handler) as srv:
        stats = judge_dialogues([LLMRubricJudge(_client(srv, timeout_s=0.2), COMM)], [slow, fast])
    assert slow.dialogue_scores["comm"] is None
    assert "request failed" in slow.dialogue_scores["comm_detail"]["failure"]
    assert fast.dialogue_scores["comm"] == 14
    assert stats["comm"].failed == 1 and stats["comm"].judged == 1
    m = dialogue_metrics([slow, fast])
    assert m["comm"] == 14.0 and m["comm_failures"] == 1


def test_calls_are_concurrent():
    """8 dialogues x 2 rubrics with a 0.3 s server delay finish far below 16 x 0.3 s."""
    trajs = [build_dialogue(**GOOD, scenario_id=f"s{i}") for i in range(8)]

    def handler(body):
        rubric = LOGIC if "reasoning" in system_text(body) else COMM
        return Reply(answer(rubric, 1), delay_s=0.3)

    with ScriptedServer(handler) as srv:
        client = _client(srv)
        judges = [LLMRubricJudge(client, COMM), LLMRubricJudge(client, LOGIC)]
        t0 = time.perf_counter()
        stats = judge_dialogues(judges, trajs)
        wall = time.perf_counter() - t0
    assert stats["comm"].judged == 8 and stats["logic"].judged == 8
    assert {t.dialogue_scores["logic"] for t in trajs} == {9}
    assert wall < 2.0, wall


def test_a_judge_that_raises_is_a_recorded_failure():
    class Broken:
        name, rubric = "broken", COMM

        async def ascore(self, traj, scenario=None):
            raise RuntimeError("boom")

    t = build_dialogue(**GOOD)
    stats = judge_dialogues([Broken()], [t])
    assert t.dialogue_scores["comm"] is None and stats["comm"].failed == 1
    assert "boom" in t.dialogue_scores["comm_detail"]["failure"]
