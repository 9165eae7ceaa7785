"""The LLM user simulator, the LLM process judge and the ``api:`` agent against a real
model: SmolLM2-135M-Instruct served by ``transformers serve`` on loopback (see conftest).

A 135 M model often breaks the protocols (no ``<response>`` tags, truncated JSON, ...).
What is checked is the project's contract, not the model's quality: every dialogue comes
back, and every problem is a *recorded* format, simulator or judge failure, never a crash,
never a made-up score. Transport failures are not tolerated: the server must answer every
request (a change in its responses would surface here as ``malformed completion body``).

Sizes are small on purpose (2 dialogues, ≤ 2 agent turns, ``max_tokens`` 32-64, greedy
decoding, 11 model requests in all): the server answers one request at a time and an
~900-token prompt costs ≈ 10-20 s on one CPU core, so the module takes ≈ 2-3 minutes on a
2-core box.
"""

from __future__ import annotations

import asyncio
import json
import math

import pytest
from real_model_helpers import RealServer, get_json

from interactcs.llm.openai_client import OpenAIChatClient
from interactcs.policies.factory import make_policy
from interactcs.rewards.compose import from_trajectories
from interactcs.rewards.judges.llm import LLMJudge
from interactcs.rollout.runner import run_dialogues
from interactcs.scenarios.fixtures import small_scenarios
from interactcs.types import EndReason, FormatStatus, Trajectory
from interactcs.users.factory import make_simulator

pytestmark = [pytest.mark.slow, pytest.mark.real_model]

SCEN = small_scenarios(12)
# two customers who differ: category (cooperation) and complaint
PAIR = [SCEN[0], next(s for s in SCEN if s.category != SCEN[0].category)]
LEVELS = {0.0, 0.5, 1.0}


def _client(srv: RealServer, model: str | None = None) -> OpenAIChatClient:
    # max_retries=0: a slow CPU server is not helped by asking twice
    return OpenAIChatClient(
        srv.base_url, model or srv.model, api_key_env=None, timeout_s=srv.timeout_s, max_retries=0
    )


def _show(title: str, trajs: list[Trajectory]) -> None:
    """What the real model did (visible with ``-s`` / in the captured output of a failure)."""
    print(f"\n== {title}")
    for t in trajs:
        print(
            f"  {t.scenario_id}: end={t.end_reason} turns={len(t.turns)} "
            f"satisfaction={t.satisfaction} failures={json.dumps(t.failures)[:400]}"
        )
        print(f"    customer: {t.opening[:160]!r}")
        for turn in t.turns:
            print(f"    agent {turn.index}: status={turn.status} raw={turn.raw[:160]!r}")
            if turn.reply is not None:
                print(f"    customer: {turn.reply[:160]!r}")


def _no_transport_failure(detail: str, srv: RealServer) -> None:
    assert "request failed" not in detail, (
        f"the server did not answer: {detail}\nserver log tail:\n{srv.log_tail()}"
    )


# -- the server itself -------------------------------------------------------------------
def test_server_answers_openai_chat_completions(real_server: RealServer) -> None:
    """/v1/models lists the pinned folder; a completion has text and usage; another model
    name is refused with HTTP 400 (not retried) because the server is pinned."""
    models = get_json(f"{real_server.base_url}/models")["data"]
    assert [m["id"] for m in models] == [real_server.model]

    async def ask() -> tuple:
        msgs = [{"role": "user", "content": "Say hello."}]
        ok = await _client(real_server).complete(msgs, temperature=0.0, max_tokens=4)
        wrong = await _client(real_server, "smollm2").complete(msgs, max_tokens=4)
        return ok, wrong

    ok, wrong = asyncio.run(ask())
    print(f"\nstartup {real_server.startup_s:.1f} s; reply {ok.text!r} usage {ok.usage}")
    assert ok.error is None and isinstance(ok.text, str) and ok.text
    assert ok.usage is not None and 1 <= ok.usage["completion_tokens"] <= 4
    assert wrong.text is None and wrong.attempts == 1 and "HTTP 400" in str(wrong.error)
    assert "pinned" in str(wrong.error)


# -- (a) LLM user simulator x rule agent -------------------------------------------------
def test_llm_user_simulator_plays_rule_agent(real_server: RealServer) -> None:
    sim = make_simulator(
        f"llm:{real_server.model}",
        base_url=real_server.base_url,
        api_key_env="INTERACTCS_NO_KEY",
        temperature=0.0,
        max_tokens=32,
        max_repairs=1,
        timeout_s=real_server.timeout_s,
        max_retries=0,
    )
    trajs = run_dialogues(make_policy("rule"), sim, PAIR, seeds=[0, 1], max_turns=2)
    _show("LLM user simulator x rule agent", trajs)

    assert [t.scenario_id for t in trajs] == [s.scenario_id for s in PAIR]
    for t in trajs:
        assert t.user_sim == f"llm:{real_server.model}" and t.agent == "rule"
        sim_failures = [f for f in t.failures if f["type"] == "simulator"]
        assert not [f for f in t.failures if f["type"] != "simulator"]  # the rule agent is clean
        if t.end_reason == EndReason.SIMULATOR_FAILURE:
            assert len(sim_failures) == 1 and sim_failures[0]["detail"]
            _no_transport_failure(sim_failures[0]["detail"], real_server)
            assert t.satisfaction is None  # never made up
        else:
            assert not sim_failures and t.opening and t.turns
            assert t.end_reason in (EndReason.USER_END, EndReason.TURN_CAP)
            assert all(turn.ok for turn in t.turns) and t.finished
            if t.end_reason == EndReason.USER_END:
                assert t.satisfaction in range(1, 6)
            else:
                assert t.satisfaction is None and len(t.turns) == 2
                assert all(turn.reply for turn in t.turns)
        for turn in t.turns:  # replies the simulator did give keep the model's raw text
            if turn.reply is not None:
                assert turn.user_meta["raw"] is not None
                assert turn.user_meta["repairs"] in (0, 1)


# -- (b) LLM process judge on rule-agent dialogues ---------------------------------------
def test_llm_judge_scores_or_records_failure(real_server: RealServer) -> None:
    offline = make_simulator("offline")
    trajs = run_dialogues(make_policy("rule"), offline, PAIR, seeds=[0, 1], max_turns=1)
    assert all(len(t.turns) == 1 for t in trajs)
    # one answer per unit (the re-ask loop is covered against the scripted server); 64
    # tokens fit the JSON object asked for with a short reason
    judge = LLMJudge(_client(real_server), max_attempts=1, max_tokens=64, temperature=0.0)
    stats = judge.judge(trajs, scenarios={s.scenario_id: s for s in PAIR})
    print(f"\n== LLM judge: {stats}")
    for t in trajs:
        d = t.turns[0].process_detail
        print(f"  {t.scenario_id}: score={t.turns[0].process_score} detail={json.dumps(d)[:400]}")

    assert stats.units == 2 and stats.judged + stats.failed == 2
    assert stats.requests == 2
    names = judge.principles.names
    for t in trajs:
        turn = t.turns[0]
        detail = turn.process_detail
        assert detail is not None and detail["judge"] == "llm"
        assert detail["attempts"] == 1
        if turn.process_score is None:  # a recorded failure, never a default score
            assert "scores" not in detail
            assert detail["failure"].startswith("invalid answer:"), detail["failure"]
            assert detail["raw"] is not None
        else:
            assert "failure" not in detail and 0.0 <= turn.process_score <= 1.0
            assert set(detail["scores"]) == set(names)
            assert set(detail["scores"].values()) <= LEVELS
            assert turn.process_score == pytest.approx(judge.principles.combine(detail["scores"]))
    assert [f["scenario_id"] for f in stats.failures] == [
        t.scenario_id for t in trajs if t.turns[0].process_score is None
    ]
    # failures stay out of the advantage: NaN in the reward batch, not 0
    process = from_trajectories(trajs).process  # one row per turn, one turn per dialogue
    for t, value in zip(trajs, process, strict=True):
        assert math.isnan(value) == (t.turns[0].process_score is None)


# -- (c) api: agent (served SmolLM2) x offline simulator ---------------------------------
def test_api_agent_plays_offline_simulator(real_server: RealServer) -> None:
    policy = make_policy(
        f"api:{real_server.model}",
        base_url=real_server.base_url,
        api_key_env="INTERACTCS_NO_KEY",
        temperature=0.0,
        max_tokens=64,
        timeout_s=real_server.timeout_s,
        max_retries=0,
    )
    offline = make_simulator("offline")
    trajs = run_dialogues(policy, offline, PAIR, seeds=[0, 1], max_turns=2, prompt_style="compact")
    _show("api: agent x offline simulator", trajs)

    assert [t.scenario_id for t in trajs] == [s.scenario_id for s in PAIR]
    for t in trajs:
        assert t.agent == f"api:{real_server.model}" and t.turns
        for f in t.failures:
            _no_transport_failure(str(f.get("detail", "")), real_server)
        assert t.end_reason != EndReason.POLICY_FAILURE
        bad = [turn for turn in t.turns if not turn.ok]
        fmt = [f for f in t.failures if f["type"] == "format"]
        if t.end_reason == EndReason.FORMAT_FAILURE:
            # exactly the last turn broke the protocol, and it is recorded as such
            assert bad == [t.turns[-1]] and len(fmt) == 1
            assert fmt[0]["turn"] == t.turns[-1].index
            assert fmt[0]["status"] == str(t.turns[-1].status) != FormatStatus.OK
            assert not t.finished and t.satisfaction is None and not t.turns[-1].costs
        else:
            assert not bad and not fmt and t.finished
            assert t.end_reason in (EndReason.USER_END, EndReason.TURN_CAP)
        assert all(turn.raw is not None for turn in t.turns)  # the model's text, kept
