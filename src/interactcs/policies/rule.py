"""Scripted agents: the SOP rule agent and the baselines around it.

Usage::

    from interactcs.policies.factory import make_policy
    rule = make_policy("rule")                   # investigate -> evidence -> judge -> decide
    make_policy("always-voucher")                # apologise and issue a voucher at once
    make_policy("always-voucher:sop")            # investigate like `rule`, then always issue
    make_policy("never-voucher")                 # apologise, explain, report; never a voucher
    make_policy("never-voucher:sop")             # investigate like `rule`, never issue
    make_policy("random", seed=3)                # a random strategy each turn (seeded)

The rule agent reads only what an agent may see: the customer's messages, its own earlier
turns and the order signals (``rcTag``). Its judgement:

- *substantiated*: the customer sent a photo that shows the fault (a description without
  words such as "blurry", "hard to tell", "looks normal"), and, when ``rcTag`` is true, also
  gave specific, unhedged details;
- *refund only*: the customer said a voucher is no use to them;
- *feedback only*: the customer mainly wants the restaurant to know.

It offers a voucher in words only when the complaint is substantiated and the customer is
neither refund-only nor feedback-only, and issues it once the customer agrees; otherwise it
explains the limits and reports the case. Every agent text comes from
:mod:`interactcs.policies.templates`.
"""

from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass

from interactcs.env.acts import (
    ASK_EVIDENCE,
    OFFER_VOUCHER,
    PROBE_DETAIL,
    REFUSE_REFUND,
    REPORT_TEAM,
)
from interactcs.env.prompt import render_agent_output
from interactcs.packs import pack_of
from interactcs.policies.base import POLICIES, DialogueState
from interactcs.policies.templates import STRATEGIES, STRATEGY_ACTS, mentioned_item, render_plan

_PICTURE = re.compile(r"\[sent picture:([^\]]*)\]", re.IGNORECASE)
_WEAK_PHOTO = re.compile(
    r"blurry|hard to (?:tell|see)|nothing unusual|looks normal|not readable|cut off|"
    r"out of frame|unclear|cropped|dark photo|no times",
    re.IGNORECASE,
)
_HEDGE = re.compile(r"\b(?:i guess|maybe|not sure|kind of|hard to say|i think)\b", re.IGNORECASE)
_REFUND_ONLY = re.compile(
    r"not a voucher|no voucher|don't want a voucher|vouchers? (?:are|is) no use|"
    r"money back|rather have a refund|refund\.? not excuses|isn't a refund",
    re.IGNORECASE,
)
_FEEDBACK = re.compile(
    r"restaurant (?:to )?know|hear about it|doesn't happen again|keeps happening", re.IGNORECASE
)
_ACCEPT = re.compile(
    r"\b(?:ok|okay|fine|sure|yes|works|do it|sounds fair|would be kind|thank)", re.IGNORECASE
)
_REJECT = re.compile(r"\bno\b|don't want|rather have|not what", re.IGNORECASE)


@dataclass(slots=True)
class CaseNotes:
    """What the agent has learned so far (from visible text only)."""

    strong_photo: bool = False
    weak_photo: bool = False
    hedged: bool = False
    details: bool = False
    refund_only: bool = False
    feedback_only: bool = False
    probed: int = 0
    asked_evidence: int = 0
    offered: bool = False
    offer_accepted: bool | None = None
    refused: bool = False
    reported: bool = False


_NO_DETAILS = re.compile(
    r"does it matter|already told|why all the questions|what else to", re.IGNORECASE
)


def read_case(state: DialogueState) -> CaseNotes:
    """Summarise the dialogue for the rule agent (customer texts + own earlier acts)."""
    notes = CaseNotes()
    users = [m.content for m in state.messages if m.role == "user"]
    for text in users:
        for desc in _PICTURE.findall(text):
            if _WEAK_PHOTO.search(desc):
                notes.weak_photo = True
            else:
                notes.strong_photo = True
        plain = _PICTURE.sub("", text)
        notes.hedged |= bool(_HEDGE.search(plain))
        notes.refund_only |= bool(_REFUND_ONLY.search(plain))
        notes.feedback_only |= bool(_FEEDBACK.search(plain))
    for turn in state.turns:
        acts = set(turn.acts)
        if PROBE_DETAIL in acts:
            notes.probed += 1
            answer = turn.reply or ""
            if (
                len(answer.split()) >= 6
                and not _NO_DETAILS.search(answer)
                and not _HEDGE.search(answer)
            ):
                notes.details = True
        notes.asked_evidence += ASK_EVIDENCE in acts
        notes.refused |= REFUSE_REFUND in acts
        notes.reported |= REPORT_TEAM in acts
        notes.offered |= OFFER_VOUCHER in acts
    if notes.offered and state.turns and OFFER_VOUCHER in state.turns[-1].acts and users:
        last = users[-1]
        notes.offer_accepted = bool(_ACCEPT.search(last)) and not _REJECT.search(last)
    return notes


def substantiated(notes: CaseNotes, rc_tag: bool) -> bool:
    """The complaint holds up.

    Without a risk flag: a conclusive photo, or specific details with no hedging and no
    inconclusive photo. With ``rcTag`` true: a conclusive photo *and* unhedged details.
    """
    if notes.hedged:
        return False
    if rc_tag:
        return notes.strong_photo and notes.details
    return notes.strong_photo or (notes.details and not notes.weak_photo)


def _investigate(notes: CaseNotes, turn: int) -> list[str] | None:
    if turn == 0 and not (notes.strong_photo or notes.weak_photo):
        return list(STRATEGY_ACTS["empathize_probe"])
    if not (notes.strong_photo or notes.weak_photo) and notes.asked_evidence == 0:
        return ["ask_evidence"] if turn else ["apologize", "ask_evidence"]
    return None


def _wrap_up(notes: CaseNotes) -> list[str]:
    if notes.refused or notes.reported:
        return ["explain_policy", "close"]
    if notes.feedback_only:
        return list(STRATEGY_ACTS["report_team_close"])
    return list(STRATEGY_ACTS["refuse_refund_report_team"])


def plan_turn(state: DialogueState, mode: str = "judge") -> list[str]:
    """The acts of the next agent turn.

    Args:
        state: the live dialogue.
        mode: ``judge`` (the SOP rule agent), ``always`` (investigate, then always issue) or
            ``never`` (investigate, never offer or issue).
    """
    plan = _decide(state, mode)
    if state.turn_index == 0 and "apologize" not in plan:
        plan.insert(0, "apologize")  # always acknowledge the complaint first
    return plan


def _decide(state: DialogueState, mode: str) -> list[str]:
    notes = read_case(state)
    turn = state.turn_index
    if state.voucher_issued:
        return ["apologize", "explain_policy", "close"]
    if notes.offered and notes.offer_accepted is not None:
        if notes.offer_accepted:
            return ["issue_voucher"]
        return _wrap_up(notes)
    if turn >= state.max_turns - 1:
        return ["explain_policy", "close"]
    step = _investigate(notes, turn)
    if step is not None:
        return step
    if mode == "always":
        return ["issue_voucher"]
    ok = mode == "judge" and substantiated(notes, state.scenario.order.rc_tag)
    if ok and not notes.refund_only and not notes.feedback_only and not notes.offered:
        return ["offer_voucher"]
    return _wrap_up(notes)


def _rng(seed: int, state: DialogueState) -> random.Random:
    key = f"{seed}|{state.scenario.scenario_id}|{state.dialogue_id}|{state.turn_index}"
    return random.Random(zlib.crc32(key.encode()))


def _item(state: DialogueState) -> str:
    return mentioned_item(state.scenario, [m.content for m in state.messages if m.role == "user"])


class RulePolicy:
    """Scripted agent (see module docstring).

    Args:
        name: registry name shown in trajectories.
        mode: ``judge`` | ``always`` | ``never`` (see :func:`plan_turn`).
        fast: for ``always`` / ``never``: decide on the first turn without investigating.
        seed: varies the wording (template choice) only.
    """

    #: each state is answered on its own (seeded per dialogue and turn), so the rollout
    #: schedules dialogues independently (:mod:`interactcs.rollout.runner`)
    batched = False

    def __init__(
        self, name: str = "rule", *, mode: str = "judge", fast: bool = False, seed: int = 0
    ) -> None:
        if mode not in ("judge", "always", "never"):
            raise ValueError(f"mode must be judge, always or never; got {mode!r}")
        self.name, self.mode, self.fast, self.seed = name, mode, fast, seed

    def plan(self, state: DialogueState) -> list[str]:
        """Act plan for one state (a scenario of a pack: :mod:`interactcs.policies.pack_rule`)."""
        if state.scenario.pack and pack_of(state.scenario) is not None:
            from interactcs.policies import pack_rule

            if self.fast:
                return pack_rule.fast_pack_plan(state, self.mode)
            return pack_rule.plan_pack_turn(state, self.mode)
        if not self.fast:
            return plan_turn(state, self.mode)
        if state.voucher_issued or state.turns:
            return ["explain_policy", "close"]
        if self.mode == "always":
            return ["apologize", "issue_voucher"]
        return ["apologize", "refuse_refund", "explain_policy", "report_team"]

    def act(self, state: DialogueState) -> str:
        """Raw protocol text for one state."""
        if state.scenario.pack and pack_of(state.scenario) is not None:
            from interactcs.policies.pack_rule import render_pack_plan

            return render_pack_plan(state, self.plan(state), _rng(self.seed, state))
        think, response, action = render_plan(
            self.plan(state), state.scenario, _rng(self.seed, state), item=_item(state)
        )
        return render_agent_output(think, response, action)

    async def aact(self, states: list[DialogueState]) -> list[str]:
        return [self.act(s) for s in states]


class RandomPolicy:
    """Picks a strategy uniformly each turn (never a second voucher); seeded per dialogue."""

    batched = False  # per-state and seeded per dialogue and turn, like RulePolicy

    def __init__(self, *, seed: int = 0) -> None:
        self.name, self.seed = "random", seed

    def act(self, state: DialogueState) -> str:
        rng = _rng(self.seed, state)
        if state.scenario.pack and pack_of(state.scenario) is not None:
            from interactcs.policies.act import space_of, valid_actions
            from interactcs.policies.pack_rule import render_pack_plan

            space = space_of(state)
            ok = valid_actions(state, space)
            names = [n for i, n in enumerate(space.names) if ok[i]]
            plan = list(space.strategies.strategy_acts[names[rng.randrange(len(names))]])
            return render_pack_plan(state, plan, rng)
        options = [s for s in STRATEGIES if not (state.voucher_issued and s == "issue_voucher")]
        name = options[rng.randrange(len(options))]
        think, response, action = render_plan(
            STRATEGY_ACTS[name], state.scenario, rng, item=_item(state)
        )
        return render_agent_output(think, response, action)

    async def aact(self, states: list[DialogueState]) -> list[str]:
        return [self.act(s) for s in states]


def _variant(arg: str | None, name: str) -> bool:
    """Parse the spec argument of always-/never-voucher: None/'fast' -> fast, 'sop' -> full."""
    if arg in (None, "", "fast"):
        return True
    if arg == "sop":
        return False
    raise ValueError(f"{name}: unknown variant {arg!r}; use '{name}' or '{name}:sop'")


def _seed(kw: dict[str, object]) -> int:
    seed = kw.get("seed")
    return int(seed) if isinstance(seed, int) else 0


@POLICIES.register("rule")
def _make_rule(arg: str | None = None, **kw: object) -> RulePolicy:
    return RulePolicy("rule", mode="judge", seed=_seed(kw))


@POLICIES.register("always-voucher")
def _make_always(arg: str | None = None, **kw: object) -> RulePolicy:
    fast = _variant(arg, "always-voucher")
    return RulePolicy(
        "always-voucher" + ("" if fast else ":sop"), mode="always", fast=fast, seed=_seed(kw)
    )


@POLICIES.register("never-voucher")
def _make_never(arg: str | None = None, **kw: object) -> RulePolicy:
    fast = _variant(arg, "never-voucher")
    return RulePolicy(
        "never-voucher" + ("" if fast else ":sop"), mode="never", fast=fast, seed=_seed(kw)
    )


@POLICIES.register("random")
def _make_random(arg: str | None = None, **kw: object) -> RandomPolicy:
    seed = int(arg) if arg and arg.lstrip("-").isdigit() else _seed(kw)
    return RandomPolicy(seed=seed)
