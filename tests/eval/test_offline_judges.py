"""Offline Comm / Logic judges on hand-built dialogues (hand-computed scores) and on rollouts."""

from __future__ import annotations

import statistics

import pytest
from conftest import BAD, GOOD, build_dialogue

from interactcs.env.prompt import render_agent_output
from interactcs.eval.judges import OfflineRubricJudge, judge_dialogues, make_eval_judges
from interactcs.eval.offline_comm import comm_items
from interactcs.eval.offline_logic import logic_items
from interactcs.eval.rubrics import COMM, LOGIC
from interactcs.policies.factory import make_policy
from interactcs.rollout.runner import run_dialogues
from interactcs.scenarios.loaders import load_scenarios
from interactcs.types import EndReason, FormatStatus
from interactcs.users.factory import make_simulator

STUFF = (
    "I'm so sorry, I understand how frustrating that must be. Could you send a photo of the "
    "food? Under our policy I can't refund to your card. I could offer you a voucher for the "
    "trouble. I've reported this to the restaurant team. Is there anything else I can help with?"
)


def test_good_dialogue_gets_full_marks():
    """Ask -> photo -> offer -> "yes" -> issue + close: every item at its maximum."""
    t = build_dialogue(**GOOD)
    comm, comm_why = comm_items(t)
    logic, logic_why = logic_items(t)
    assert comm == {k: 2 for k in COMM.keys} and comm_why == {}
    assert logic == {i.key: i.max for i in LOGIC.items} and logic_why == {}


def test_bad_dialogue_hand_computed():
    """Cheerful instant voucher to an angry refund-seeker, then the same line again.

    Comm 22 = 28 - novelty 1 (turn 2 repeats turn 1) - focus_latest 1 (turn 2 pushes the
    voucher just refused) - register 2 ("Great news!" to "a joke"; never warm) -
    uses_context 1 (re-grants the refused voucher) - adapts 1 (same move after "No").
    Logic 4: emotion 0 (0 of 1 angry messages acknowledged, one cheerful misreading),
    motive 1 (refund request never answered), strategy_switch 1 (one repeat), sop 0 (voucher
    with no question or offer first), accurate_info 0 (reasoning assumes an agreement),
    fairness 0 (voucher without evidence), consistency 1, closure 1, ood 0 (refund request
    not recognised as out of scope).
    """
    t = build_dialogue(**BAD)
    comm, _ = comm_items(t)
    logic, why = logic_items(t)
    assert sum(comm.values()) == 22
    assert {k: v for k, v in comm.items() if v < 2} == {
        "novelty": 1, "focus_latest": 1, "register": 0, "uses_context": 1, "adapts": 1,
    }  # fmt: skip
    assert logic == {
        "emotion": 0, "motive": 1, "strategy_switch": 1, "sop": 0, "accurate_info": 0,
        "fairness": 0, "consistency": 1, "closure": 1, "ood_recognition": 0,
    }  # fmt: skip
    assert "agreement" in why["accurate_info"]


def test_keyword_stuffing_and_repetition_lose_points():
    """The same six-act, six-sentence reply twice; the second answers "I already told you".

    Comm 19 = 28 - novelty 1 - focus_latest 1 (asks for a photo after the complaint about
    repeated questions) - conciseness 2 (both replies > 3 sentences) - sincerity 2 (apologises
    in 2 of 2 replies; stuffed replies) - coherent 2 (ask + close, ≥ 5 acts, twice) - adapts 1.
    Logic 8 = 12 - strategy_switch 1 - fairness 1 (offers a voucher with no evidence) -
    consistency 1 (offers and asks for proof at once) - closure 1 (closes while asking).
    """
    steps = [("Handle it.", STUFF, "chat", "I already told you, it was cold."),
             ("Handle it.", STUFF, "chat", "Whatever.")]  # fmt: skip
    t = build_dialogue("My pizza was cold.", steps)
    comm, _ = comm_items(t)
    logic, _ = logic_items(t)
    assert sum(comm.values()) == 19
    assert (comm["conciseness"], comm["sincerity"], comm["coherent"]) == (0, 0, 0)
    assert (comm["novelty"], comm["focus_latest"], comm["adapts"]) == (1, 1, 1)
    assert sum(logic.values()) == 8
    assert (logic["fairness"], logic["consistency"], logic["closure"]) == (0, 0, 0)
    assert logic["strategy_switch"] == 1


def test_ai_reveal_markup_and_rule_breaks():
    steps = [
        (None, "As an AI assistant, I can't refund. **Policy**: vouchers only.", "chat", "Bye.")
    ]
    t = build_dialogue("My soup was cold, I want my money back.", steps)
    comm, _ = comm_items(t)
    logic, _ = logic_items(t)
    assert comm["in_role"] == 0 and comm["plain_english"] == 1
    assert logic["sop"] == 0


def test_format_failure_and_turn_cap_break_closure():
    steps = [("ok", "I've issued a voucher for you.", "chat", None)]
    t = build_dialogue(
        "My soup was cold.", steps, statuses=[FormatStatus.CONTRADICTION],
        end_reason=EndReason.FORMAT_FAILURE,
    )  # fmt: skip
    logic, why = logic_items(t)
    assert logic["consistency"] == 0 and "format problem" in why["consistency"]
    assert logic["closure"] == 0 and logic["accurate_info"] == 0
    capped = build_dialogue(**{**GOOD, "end_reason": EndReason.TURN_CAP})
    assert logic_items(capped)[0]["closure"] == 0


@pytest.mark.parametrize(
    ("picture", "rc_tag", "fair"),
    [
        ("the soup with a skin on top, no steam at all", False, 1),
        ("the soup with a skin on top, no steam at all", True, 0),  # flag: details needed too
        ("a blurry photo of the soup, hard to tell anything", False, 0),  # inconclusive
    ],
)
def test_fairness_follows_the_evidence(picture, rc_tag, fair):
    steps = [
        ("The photo shows the fault, so I propose a voucher.",
         "Sorry about that. Would a voucher for your next order help?", "chat", "Yes, please."),
        ("The customer agreed; I issue the voucher.",
         "I've issued a voucher to your account.", "voucher", "Thanks."),
    ]  # fmt: skip
    t = build_dialogue(f"My soup was cold. [Sent Picture: {picture}]", steps, rc_tag=rc_tag)
    assert logic_items(t)[0]["fairness"] == fair


def test_offline_judges_record_and_count():
    trajs = [build_dialogue(**GOOD), build_dialogue(**BAD), build_dialogue("Hi", [])]
    stats = judge_dialogues(make_eval_judges("offline"), trajs)
    assert [t.dialogue_scores["comm"] for t in trajs] == [28, 22, None]
    assert [t.dialogue_scores["logic"] for t in trajs] == [12, 4, None]
    assert trajs[0].dialogue_scores["comm_detail"]["items"]["novelty"] == 2
    assert trajs[2].dialogue_scores["logic_detail"]["skipped"]
    assert (stats["comm"].judged, stats["comm"].skipped, stats["comm"].failed) == (2, 1, 0)
    assert OfflineRubricJudge("logic").score(trajs[1]).scores["sop"] == 0


class _Scripted:
    """A test agent that says the same thing every turn."""

    def __init__(self, name: str, text: str) -> None:
        self.name, self.text = name, text

    async def aact(self, states):
        return [render_agent_output("Handle it.", self.text, "chat") for _ in states]


def _means(policy, scenarios) -> tuple[float, float]:
    trajs = run_dialogues(policy, make_simulator("offline"), scenarios, seeds=range(len(scenarios)))
    judge_dialogues(make_eval_judges("offline"), trajs)
    comm = statistics.fmean(t.dialogue_scores["comm"] for t in trajs)
    logic = statistics.fmean(t.dialogue_scores["logic"] for t in trajs)
    return comm, logic


def test_offline_judges_discriminate_between_agents():
    """On 60 users: rule beats random clearly; stuffing and repetitive agents lose Comm."""
    scen = load_scenarios("hard", n=60, seed=5)
    rule = _means(make_policy("rule"), scen)
    rand = _means(make_policy("random", seed=1), scen)
    stuffer = _means(_Scripted("stuffer", STUFF), scen)
    repeater = _means(_Scripted("repeater", "Sorry to hear that. Could you send me a photo?"), scen)
    assert rule[0] > rand[0] + 1.0 and rule[1] > rand[1] + 1.5, (rule, rand)
    assert rule[0] > stuffer[0] + 4.0 and rule[1] > stuffer[1] + 1.5, (rule, stuffer)
    assert rule[0] > repeater[0] + 4.0 and rule[1] > repeater[1] + 1.0, (rule, repeater)
