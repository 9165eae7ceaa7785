"""A pack scenario end to end: generated cases, the environment's actions / costs / limits /
claim checks, the pack-driven simulator's trade-offs, the pack rule agent."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from pathlib import Path

import pytest

from interactcs.env.prompt import render_agent_output as out
from interactcs.env.service_env import ServiceEnv
from interactcs.packs import load_pack
from interactcs.policies.factory import make_policy
from interactcs.rollout.metrics import summarize
from interactcs.rollout.runner import run_dialogues
from interactcs.scenarios.loaders import load_scenarios, save_jsonl
from interactcs.scenarios.schema import Scenario
from interactcs.types import FormatStatus
from interactcs.users.offline import OfflinePersonaSimulator
from interactcs.users.pack_sim import PackSession

PACK = "packs/returns"


@pytest.fixture(scope="module")
def scenarios() -> list[Scenario]:
    return load_scenarios(PACK, n=256, seed=0)


def test_generated_cases(scenarios: list[Scenario], tmp_path: Path) -> None:
    pack = load_pack(PACK)
    again = load_scenarios(PACK, n=256, seed=0)
    assert [s.model_dump() for s in again] == [s.model_dump() for s in scenarios]
    assert load_scenarios(PACK, n=256, seed=1)[0].scenario_id != scenarios[0].scenario_id
    cats = Counter(s.category for s in scenarios)
    assert [cats[c] for c in range(1, 6)] == [26, 77, 64, 64, 25]  # 10/30/25/25/10 of 256
    assert set(Counter(s.need for s in scenarios)) == {1, 2, 3, 4}
    s = scenarios[0]
    assert s.pack == PACK and s.order.complaint.startswith("returns:")
    assert s.order.complaint.split(":")[1] in pack.issues
    assert set(s.case) == set(pack.spec.case.fields)
    assert s.order.food_info == f"{s.case['product']}*1" and s.order.merchant == s.case["seller"]
    assert load_scenarios(PACK, n=10, scene="easy")[0].scene == "easy"
    path = save_jsonl(scenarios[:5], tmp_path / "r.jsonl")
    assert [x.model_dump() for x in load_scenarios(path)] == [x.model_dump() for x in scenarios[:5]]


def test_need_mix_follows_the_table() -> None:
    many = load_scenarios(PACK, n=4000, seed=5)
    table = load_pack(PACK).spec.need_given_category
    for cat in (2, 3):
        rows = [s for s in many if s.category == cat]
        share = Counter(s.need for s in rows)
        for need in (1, 2, 3, 4):
            assert abs(share[need] / len(rows) - table[need][cat - 1]) < 0.05


def _env(scenario: Scenario) -> tuple[ServiceEnv, str]:
    env = ServiceEnv(OfflinePersonaSimulator())
    _, info = env.reset(scenario, seed=1)
    return env, info["system_prompt"]


def test_prompt_shows_agent_fields_only(scenarios: list[Scenario]) -> None:
    s = scenarios[0]
    _, prompt = _env(s)
    assert "daysSinceDelivery: " in prompt and s.case["product"] in prompt
    assert (
        "issueType" not in prompt and s.case["issue"] not in prompt.split("# Case")[1].split("#")[0]
    )
    assert "<action>one of: chat, refund, voucher, replacement</action>" in prompt


def test_actions_costs_limits_and_claims(scenarios: list[Scenario]) -> None:
    s = scenarios[1]
    env, _ = _env(s)
    env.step(out("t", "Could you send me a photo of it?", "chat"))
    if not env.done:
        env.step(out("t", "I've processed a full refund for the item.", "refund"))
    turn = env.last_turn()
    assert turn.ok and turn.costs == {"refund": 1.0} and "issue_refund" in turn.acts
    cases = [
        (out("t", "Here is another refund.", "refund"), FormatStatus.ACTION_LIMIT),
        (out("t", "I've processed a full refund for you.", "chat"), FormatStatus.CONTRADICTION),
        (out("t", "I'm not able to refund this order.", "refund"), FormatStatus.CONTRADICTION),
        (out("t", "Here is a gift card.", "gift"), FormatStatus.UNKNOWN_ACTION),
    ]
    for text, status in cases:
        env, _ = _env(s)
        if status is FormatStatus.ACTION_LIMIT:
            env.step(out("t", "Sorry! Could you tell me what exactly is wrong?", "chat"))
            env._actions_taken["refund"] = 1  # as after an earlier refund
        env.step(text)
        assert env.last_turn().status is status, (text, env.last_turn().detail)
        assert env.last_turn().costs == {}


def _play(s: Scenario, seed: int, plan: list[tuple[str, str]]) -> int:
    """Run a fixed agent script; returns the final satisfaction (1 when never ended)."""
    env = ServiceEnv(OfflinePersonaSimulator())
    env.reset(s, seed=seed)
    for response, action in plan:
        if env.done:
            break
        env.step(out("t", response, action))
    return env.trajectory().satisfaction or 1


INVESTIGATE = [
    ("Sorry to hear that. What happened with the item exactly?", "chat"),
    ("Could you send me a photo of the item?", "chat"),
]
REMEDY = {
    "refund": ("I've processed a full refund for the item.", "refund"),
    "voucher": ("I've issued a store voucher to your account.", "voucher"),
    "replacement": ("I've sent a replacement unit to your address.", "replacement"),
}


def _mean(rows: list[Scenario], plan: list[tuple[str, str]]) -> float:
    return statistics.fmean(_play(s, i, plan) for i, s in enumerate(rows) for _ in range(1))


def test_each_remedy_helps_some_needs_and_not_others() -> None:
    many = load_scenarios(PACK, n=1500, seed=2)
    by_need = {
        k: [s for s in many if s.need == k and s.case["issue"] != "changed_mind"] for k in (1, 2, 3)
    }
    sat = {
        (k, a): _mean(rows[:150], [*INVESTIGATE, REMEDY[a]])
        for k, rows in by_need.items()
        for a in REMEDY
    }
    assert (
        sat[1, "refund"] > sat[1, "voucher"] + 1.0
        and sat[1, "refund"] > sat[1, "replacement"] + 1.0
    )
    assert sat[2, "replacement"] > sat[2, "refund"] > sat[2, "voucher"]
    assert min(sat[3, a] for a in REMEDY) > sat[1, "voucher"] + 1.0  # flexible: anything helps


def test_premature_remedy_and_false_claim_cost_satisfaction() -> None:
    rows = [s for s in load_scenarios(PACK, n=600, seed=4) if s.need == 3][:150]
    careful = _mean(rows, [*INVESTIGATE, REMEDY["refund"]])
    rushed = _mean(rows, [REMEDY["refund"]])
    assert careful > rushed + 0.2
    lie = _mean(rows[:30], [("I've processed a full refund for the item.", "chat")])
    assert lie == 1.0  # claiming a refund without the action: contradiction, lowest outcome


def test_simulator_is_seeded_and_fast(scenarios: list[Scenario]) -> None:
    pack = load_pack(PACK)
    a = PackSession(pack, scenarios[3], seed=7)
    b = PackSession(pack, scenarios[3], seed=7)
    assert a.open().text == b.open().text and a.profile == b.profile
    policy = make_policy("rule")
    start = time.perf_counter()
    trajs = run_dialogues(policy, OfflinePersonaSimulator(), scenarios, seeds=range(256))
    turns = sum(len(t.turns) for t in trajs)
    assert (time.perf_counter() - start) / turns < 2e-3  # env + sim + rule agent per turn


def test_rule_agent_and_baselines(scenarios: list[Scenario]) -> None:
    sim = OfflinePersonaSimulator()
    res = {
        name: summarize(run_dialogues(make_policy(name), sim, scenarios, seeds=range(256)))
        for name in ("rule", "always-voucher", "never-voucher", "random")
    }
    rule = res["rule"]
    assert rule["finish_rate"] == 1.0 and 2.5 <= rule["satisfaction_mean"] <= 3.8
    assert rule["cost_rate/refund"] > 0.10  # the refund budget binds for the SOP agent
    assert res["always-voucher"]["cost_rate/voucher"] == 1.0
    assert "cost_rate/refund" not in res["never-voucher"]
    assert rule["satisfaction_mean"] > max(res[n]["satisfaction_mean"] for n in res if n != "rule")
    assert all(r["finish_rate"] == 1.0 for r in res.values())
