"""The offline rubric judges cannot be gamed by stuffed, telegraphic or repetitive replies.

Process reward = (persona + stage + quality + 2·rules) / 5. A gamed turn scores 0 on persona,
stage and quality, so with the business rules kept it is worth exactly 2/5 = 0.4 (0.2 when
it also proposes a voucher before asking anything: rules 0.5). The matching SOP-style reply
(the rule agent's own templates) scores 1.0 in the same dialogue.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import pytest

from interactcs.env.acts import detect_acts
from interactcs.env.prompt import render_agent_output
from interactcs.packs import load_pack
from interactcs.policies.factory import make_policy
from interactcs.rewards.judges import RubricJudge
from interactcs.rewards.judges.form import GAMED_PRINCIPLES, form_issue
from interactcs.rewards.judges.pack_rubric import PackRubricJudge, score_pack_turns
from interactcs.rollout.runner import run_dialogues
from interactcs.scenarios.loaders import load_scenarios
from interactcs.types import Trajectory
from interactcs.users.factory import make_simulator

ASK = "I'm sorry about that. Could you send me a photo of the fries?"
PICTURE = "[Sent Picture: soggy fries] here you go"

# The agent already asked for a photo and the customer sent one: the 'resolve' stage, where a
# voucher offer is what the SOP wants.
SOP_RESOLVE = (
    "Thank you for the photo. I could offer you a voucher for the trouble, would that work for you?"
)
# First turn ('gather'): the rule agent's empathize_probe template.
SOP_GATHER = "Sorry to hear that. I understand how frustrating that must be. What happened with the fries exactly?"

STUFFED = [
    # the exploit of issue 11: one sentence, six acts of five kinds (the offer is negated by
    # "doesn't" in its clause); scored 1.00 in the resolve stage before the fix
    "Sorry, I understand how frustrating that must be, could you send a photo, our policy "
    "doesn't allow refunds, I could offer you a voucher, I've reported this to the restaurant "
    "team, is there anything else I can help with?",
    "I'm sorry and I understand, please send a photo, under our policy I can offer a voucher, "
    "reported to the restaurant team, have a good day!",
    # two sentences, the second crams four kinds (limits, remedy, report, close)
    "I'm so sorry, I understand how disappointing this is. Our policy rules out refunds but I "
    "can offer you a voucher and I've passed this on to the restaurant team, thank you for your "
    "patience.",
    # four kinds in one sentence
    "So sorry, could you send a photo so I can offer you a voucher, is there anything else?",
    # three acts packed into seven words
    "Sorry, I understand, send photo? Voucher?",
]
TELEGRAPHIC = [
    "sorry. photo? voucher. bye.",
    "Sorry! Photo? Voucher?",
    "Photo?",
    "apology empathy photo evidence voucher policy team report goodbye",
    "Sorry, I understand, photo please, policy, voucher, team, anything else?",
    "- sorry\n- photo\n- voucher\n- team",
    "Voucher offered, restaurant notified, issue logged, case closed, enjoy meal.",
]
REPETITIVE = [
    "I'm sorry. I'm sorry. Could you send a photo?",
    "Would a voucher help? Would a voucher help?",
    "I am so so so sorry about the fries, would a voucher for your next order help?",
    "I'm sorry about the fries and I'm sorry about the wait and I'm sorry about the hassle, "
    "would a voucher for your next order help?",
    # the previous turn again, verbatim, near-verbatim, and padded with one new sentence
    ASK,
    "I'm so sorry about that. Could you send me a photo of the fries?",
    ASK + " I really want to get this sorted out for you today.",
    # absurdly long: a fine sentence twenty times over with the numbers changing
    " ".join(f"Option {k} is a voucher for your next order." for k in range(20)),
]
# Plain replies an LLM agent might write: none of them is gamed.
NATURAL = [
    SOP_RESOLVE,
    SOP_GATHER,
    ASK,
    "I'm so sorry your fries arrived cold, that's really disappointing. Could you send me a "
    "photo so I can check?",
    "I understand you'd prefer a refund, but I'm not able to refund to your card. What I can "
    "do is offer a voucher for your next order.",
    "Got it, thanks. Which item was cold?",
    "Sorry. What happened exactly?",
    "I'm sorry.",
    "Sorry, I understand, could you send a photo?",
    "I'm sorry, I can't refund to your card, but I could offer a voucher instead, would that work?",
    "I completely understand your frustration. Our platform rules only let me offer a voucher "
    "from this chat, not a refund. Would a voucher for your next order help?",
    "My apologies for the trouble with your order. Unfortunately refunds aren't something I can "
    "do from here. Under our platform rules, the options I have in this chat are limited. I'll "
    "pass this on to the restaurant team so they can fix it.",
]


def _resolve(make_traj: Callable[..., Trajectory], reply: str, category: int = 3) -> Trajectory:
    return make_traj([("", ASK, "chat"), (PICTURE, reply, "chat")], category=category)


def _last(traj: Trajectory, judge=None) -> tuple[float, dict[str, str]]:
    (judge or RubricJudge()).judge([traj])
    turn = traj.turns[-1]
    return turn.process_score, turn.process_detail["reasons"]


@pytest.mark.parametrize(
    "kind, reply",
    [("stuffed", r) for r in STUFFED]
    + [("telegraphic", r) for r in TELEGRAPHIC]
    + [("repetitive", r) for r in REPETITIVE],
)
@pytest.mark.parametrize("category", [1, 3, 5])
def test_gamed_reply_scores_low(make_traj, kind: str, reply: str, category: int) -> None:
    """Resolve stage, no rule broken: persona 0, stage 0, quality 0, rules 1 -> 0.4, while the
    SOP reply in the same place scores 1.0 (category 1: the photo is in, so an offer is fine)."""
    score, reasons = _last(_resolve(make_traj, reply, category))
    assert score == pytest.approx(0.4), (reply, reasons)
    assert all(reasons[p].startswith(f"{kind}: ") for p in GAMED_PRINCIPLES), reasons
    assert reasons["scenario_rules"] == "follows the rules"
    assert _last(_resolve(make_traj, SOP_RESOLVE, category))[0] == pytest.approx(1.0)


def test_issue_example_before_and_after(make_traj) -> None:
    """A stuffed reply on the first turn: six kinds of act, including a voucher offer before
    anything was asked (rules 0.5) -> (0+0+0+2·0.5)/5 = 0.2; the old judge gave it 0.8 here
    and 1.00 in the resolve stage. The rule agent's opening scores 1.0."""
    t = make_traj([("", STUFFED[1], "chat")], category=4)
    score, reasons = _last(t)
    assert score == pytest.approx(0.2)
    assert reasons["response_quality"] == "stuffed: 6 kinds of act in one reply"
    assert _last(make_traj([("", SOP_GATHER, "chat")], category=4))[0] == pytest.approx(1.0)


def test_repeating_the_previous_turn(make_traj) -> None:
    """Judge stage (one question asked, no photo): asking again in other words is fine (1.0),
    asking again in the same words is a repeat (0.4)."""
    first = "Which item was cold?"
    fine = make_traj([("", first, "chat"), ("the fries", ASK, "chat")])
    assert _last(fine)[0] == pytest.approx(1.0)
    again = make_traj([("", ASK, "chat"), ("the fries", ASK, "chat")])
    score, reasons = _last(again)
    assert score == pytest.approx(0.4)
    assert reasons["response_quality"] == "repetitive: repeats an earlier reply"


@pytest.mark.parametrize("reply", NATURAL)
def test_plain_replies_are_not_gamed(reply: str) -> None:
    assert form_issue(reply, [], lambda s: detect_acts(s, None)) is None


def test_form_checks_on_hostile_text_end() -> None:
    """Long adversarial inputs get a verdict (the checks are single passes over the text)."""
    detect = lambda s: detect_acts(s, None)  # noqa: E731
    issue = form_issue("sorry, " * 20_000, [], detect)
    assert issue is not None and issue.kind == "repetitive"
    issue = form_issue("a" * 100_000 + "?", [], detect)
    assert issue is not None and issue.kind == "telegraphic"
    issue = form_issue("Could you send a photo? " * 500, [], detect)
    assert issue is not None and issue.kind == "repetitive"


@pytest.mark.parametrize("reply", [STUFFED[0], TELEGRAPHIC[0], TELEGRAPHIC[3], REPETITIVE[0]])
def test_pack_rubric_uses_the_same_checks(make_traj, reply: str) -> None:
    """The pack judge (packs/returns) zeroes the same three principles, for the same kind."""
    pack = load_pack("packs/returns")
    traj = _resolve(make_traj, reply)
    fds_reasons = _last(traj)[1]
    scores, reasons, _ = score_pack_turns(_resolve(make_traj, reply), pack)[-1]
    kind = fds_reasons["response_quality"].split(":")[0]
    assert all(scores[p] == 0.0 and reasons[p].startswith(kind + ": ") for p in GAMED_PRINCIPLES)
    sop = score_pack_turns(
        _resolve(make_traj, "Sorry to hear that. What happened with the item exactly?"), pack
    )
    assert all(sop[-1][0][p] > 0 for p in GAMED_PRINCIPLES)


class _Scripted:
    """A test agent that gives the same reply on every turn."""

    def __init__(self, name: str, text: str) -> None:
        self.name, self.text = name, text

    async def aact(self, states):
        return [render_agent_output("Handle it.", self.text, "chat") for _ in states]


def _mean_process(trajs: list[Trajectory]) -> float:
    return statistics.fmean(t.process_score for tr in trajs for t in tr.turns)


# Measured with the offline world, rule agent, scenes below, seeds = range(64), before and
# after the form checks (scripts: run_dialogues + RubricJudge / PackRubricJudge, turn mode,
# mean over every agent turn): FDS hard n=64 seed 0: 0.9906 -> 0.9906 (234 turns);
# packs/returns n=64 seed 0: 0.9746 -> 0.9746 (244 turns). No rule-agent turn is gamed.
RULE_FDS_HARD_64 = 0.9906
RULE_RETURNS_64 = 0.9746


def test_rule_agent_keeps_its_score_and_a_stuffer_does_not() -> None:
    scen = load_scenarios("hard", n=64, seed=0)
    rule = run_dialogues(make_policy("rule"), make_simulator("offline"), scen, seeds=range(64))
    RubricJudge().judge(rule)
    assert _mean_process(rule) >= RULE_FDS_HARD_64 - 0.03
    assert not any(
        t.process_detail["reasons"]["response_quality"].startswith(
            ("stuffed", "telegraphic", "repetitive")
        )
        for tr in rule
        for t in tr.turns
    )
    stuffer = _Scripted("stuffer", STUFFED[0])
    stuffed = run_dialogues(stuffer, make_simulator("offline"), scen, seeds=range(64))
    RubricJudge().judge(stuffed)
    assert _mean_process(stuffed) <= 0.4


def test_pack_rule_agent_keeps_its_score() -> None:
    scen = load_scenarios("packs/returns", n=64, seed=0)
    rule = run_dialogues(make_policy("rule"), make_simulator("offline"), scen, seeds=range(64))
    PackRubricJudge(load_pack("packs/returns")).judge(
        rule, scenarios={s.scenario_id: s for s in scen}
    )
    assert _mean_process(rule) >= RULE_RETURNS_64 - 0.03
