"""Scripted agents and agent templates: registration, protocol validity, SOP behaviour."""

from __future__ import annotations

import asyncio
import random

import pytest

from interactcs.env.acts import CLAIM_VOUCHER, ISSUE_VOUCHER, detect_acts
from interactcs.env.prompt import render_agent_output
from interactcs.env.protocol import parse_agent_output
from interactcs.env.service_env import ServiceEnv
from interactcs.policies.base import POLICIES, DialogueState
from interactcs.policies.factory import make_policy
from interactcs.policies.rule import CaseNotes, RulePolicy, plan_turn, substantiated
from interactcs.policies.templates import (
    FRAGMENTS,
    STRATEGIES,
    STRATEGY_ACTS,
    render_plan,
    render_strategy,
)
from interactcs.scenarios.generator import generate_scene
from interactcs.scenarios.schema import Scenario
from interactcs.types import Message, Trajectory
from interactcs.users.offline import OfflinePersonaSimulator

SPECS = [
    "rule",
    "always-voucher",
    "never-voucher",
    "always-voucher:sop",
    "never-voucher:sop",
    "random",
]


@pytest.fixture(scope="module")
def scenarios() -> list[Scenario]:
    return generate_scene("hard", 64, 0)


def play(spec: str, scenarios: list[Scenario], seed: int = 0) -> list[Trajectory]:
    policy = make_policy(spec, seed=seed)
    env = ServiceEnv(OfflinePersonaSimulator())
    out = []
    for i, sc in enumerate(scenarios):
        env.reset(sc, seed=i, dialogue_id=i)
        while not env.done:
            env.step(asyncio.run(policy.aact([env.state()]))[0])
        out.append(env.trajectory())
    return out


def test_registered_names() -> None:
    make_policy("rule")  # imports the module
    for name in ("rule", "always-voucher", "never-voucher", "random"):
        assert name in POLICIES
    assert make_policy("always-voucher:sop").name == "always-voucher:sop"
    with pytest.raises(ValueError, match="sop"):
        make_policy("never-voucher:bogus")


@pytest.mark.parametrize("spec", SPECS)
def test_outputs_follow_protocol(spec: str, scenarios: list[Scenario]) -> None:
    trajs = play(spec, scenarios[:24])
    assert all(t.finished and t.end_reason == "user_end" for t in trajs)
    assert all(sum(tt.action == "voucher" for tt in t.turns) <= 1 for t in trajs)


def test_voucher_rates_order(scenarios: list[Scenario]) -> None:
    rate = {
        s: sum(t.voucher_issued for t in play(s, scenarios)) / len(scenarios) for s in SPECS[:3]
    }
    assert rate["always-voucher"] == 1.0 and rate["never-voucher"] == 0.0
    assert 0.0 < rate["rule"] < 1.0


def test_rule_vouchers_only_after_offer_and_evidence(scenarios: list[Scenario]) -> None:
    for t in play("rule", scenarios):
        for i, turn in enumerate(t.turns):
            if turn.action != "voucher":
                continue
            assert i >= 1 and "offer_voucher" in t.turns[i - 1].acts
            said = " ".join([t.opening] + [x.reply or "" for x in t.turns[:i]])
            assert "[Sent Picture:" in said or any("probe_detail" in x.acts for x in t.turns[:i])


def test_random_is_seeded(scenarios: list[Scenario]) -> None:
    a = [t.to_dict() for t in play("random", scenarios[:10], seed=1)]
    assert a == [t.to_dict() for t in play("random", scenarios[:10], seed=1)]
    assert a != [t.to_dict() for t in play("random", scenarios[:10], seed=2)]


def _state(sc: Scenario, user_texts: list[str], turn: int) -> DialogueState:
    msgs = [Message("user", t) for t in user_texts]
    return DialogueState(sc, "", msgs, [], False, turn, 15)


def test_rule_reads_only_visible_signals(scenarios: list[Scenario]) -> None:
    sc = scenarios[0]
    other = sc.model_copy(
        update={
            "demand": sc.demand.model_copy(update={"need": 1 + sc.need % 4}),
            "order": sc.order.model_copy(update={"complaint": "late_delivery"}),
        }
    )
    texts = ["My food was cold."]
    assert plan_turn(_state(sc, texts, 0)) == plan_turn(_state(other, texts, 0))


def test_substantiated_rules() -> None:
    assert substantiated(CaseNotes(strong_photo=True), rc_tag=False)
    assert not substantiated(CaseNotes(strong_photo=True), rc_tag=True)
    assert substantiated(CaseNotes(strong_photo=True, details=True), rc_tag=True)
    assert substantiated(CaseNotes(details=True), rc_tag=False)
    assert not substantiated(CaseNotes(details=True, weak_photo=True), rc_tag=False)
    assert not substantiated(CaseNotes(strong_photo=True, hedged=True), rc_tag=False)


def test_fast_baselines_decide_on_first_turn(scenarios: list[Scenario]) -> None:
    st = _state(scenarios[0], ["Cold food."], 0)
    assert "issue_voucher" in RulePolicy(mode="always", fast=True).plan(st)
    assert "issue_voucher" not in RulePolicy(mode="never", fast=True).plan(st)


def test_every_fragment_reads_back_as_its_act(scenarios: list[Scenario]) -> None:
    for act, fragments in FRAGMENTS.items():
        for frag in fragments:
            text = frag.format(item="Chicken Wrap", merchant="Wrap & Roll Co.")
            acts = detect_acts(text, "voucher" if act == ISSUE_VOUCHER else "chat")
            assert act in acts, (act, text, acts)


@pytest.mark.parametrize("name", STRATEGIES)
def test_every_strategy_renders(name: str, scenarios: list[Scenario]) -> None:
    for i, sc in enumerate(scenarios[:32]):
        think, response, action = render_strategy(name, sc, random.Random(i))
        acts = detect_acts(response, action)
        assert set(STRATEGY_ACTS[name]) <= acts, (name, response, acts)
        extra = acts - set(STRATEGY_ACTS[name]) - {CLAIM_VOUCHER, "explain_policy"}
        assert not extra, (name, response, extra)
        assert parse_agent_output(
            render_agent_output(think, response, action), voucher_issued=False
        ).ok


def test_strategy_space_is_stable() -> None:
    assert STRATEGIES[:2] == ["empathize_probe", "probe_detail"] and len(STRATEGIES) == len(
        set(STRATEGIES)
    )
    assert {
        "ask_evidence",
        "explain_policy",
        "offer_voucher_words",
        "issue_voucher",
        "refuse_refund_report_team",
        "close",
    } <= set(STRATEGIES)
    with pytest.raises(KeyError, match="known"):
        render_plan(["dance"], generate_scene("hard", 1, 0)[0], random.Random(0))
