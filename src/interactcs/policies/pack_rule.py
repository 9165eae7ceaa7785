"""The SOP rule agent for scenario packs: investigate, judge the claim, offer the remedy the
customer asks for when the policy allows it, carry it out once agreed.

Usage::

    from interactcs.policies.pack_rule import plan_pack_turn, render_pack_plan
    plan = plan_pack_turn(state)               # e.g. ["offer_refund"]
    text = render_pack_plan(state, plan, rng)  # protocol text with the pack's templates

``make_policy("rule")`` (and ``always-voucher`` / ``never-voucher``) route pack scenarios here,
and the act policy's warm-start teacher (:class:`~interactcs.policies.act.RuleTeacher`) maps
these plans to the pack's strategies. Everything it reads is agent-visible: the customer's
messages (through the pack's ``rule_agent`` cues), its own earlier turns, and the agent-visible
case fields (eligibility of each remedy, the risk flag).

Judgement, as in the FDS rule agent: the claim is *substantiated* by a photo that shows the
fault (or, without a risk flag, specific unhedged details); with the risk flag both are
needed. Then: feedback-only customers get a report and a close; otherwise the remedy the
customer asked for is offered when eligible on this case, else the pack's ``default_offer``;
a rejected offer is followed by the customer's own wish when that is eligible; everything
else ends with a polite decline, the policy and a report.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from interactcs.env.acts import ASK_EVIDENCE, PROBE_DETAIL, REPORT_TEAM
from interactcs.env.prompt import render_agent_output
from interactcs.packs import Pack, pack_of
from interactcs.policies.base import DialogueState
from interactcs.policies.templates import strategy_set

_PICTURE = re.compile(r"\[sent picture:([^\]]*)\]", re.IGNORECASE)


def _rx(patterns: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) if patterns else None


def _hit(rx: re.Pattern[str] | None, text: str) -> bool:
    return rx is not None and rx.search(text) is not None


@dataclass(slots=True)
class PackNotes:
    """What the agent has learned so far (visible text only)."""

    strong_photo: bool = False
    weak_photo: bool = False
    hedged: bool = False
    details: bool = False
    feedback_only: bool = False
    wants: str | None = None
    refuses: set[str] = field(default_factory=set)
    probed: int = 0
    asked_evidence: int = 0
    offered: list[str] = field(default_factory=list)
    offer_accepted: bool | None = None
    declined: bool = False
    reported: bool = False
    remedied: bool = False


def read_pack_case(state: DialogueState, pack: Pack) -> PackNotes:
    """Summarise the dialogue (customer texts through the pack's cues, own earlier acts)."""
    assert pack.strategies is not None
    ra = pack.strategies.rule_agent
    weak, hedge, no_det = _rx(ra.weak_photo), _rx(ra.hedge), _rx(ra.no_details)
    feedback, accept, reject = _rx(ra.feedback), _rx(ra.accept), _rx(ra.reject)
    notes = PackNotes()
    users = [m.content for m in state.messages if m.role == "user"]
    for text in users:
        for desc in _PICTURE.findall(text):
            notes.weak_photo |= _hit(weak, desc)
            notes.strong_photo |= not _hit(weak, desc)
        plain = _PICTURE.sub("", text)
        notes.hedged |= _hit(hedge, plain)
        notes.feedback_only |= _hit(feedback, plain)
        for action, pats in ra.refuses.items():
            if _hit(_rx(pats), plain):
                notes.refuses.add(action)
        for action, pats in ra.wants.items():
            if notes.wants is None and _hit(_rx(pats), plain):
                notes.wants = action
    for turn in state.turns:
        acts = set(turn.acts)
        if PROBE_DETAIL in acts:
            notes.probed += 1
            answer = turn.reply or ""
            if len(answer.split()) >= 6 and not _hit(no_det, answer) and not _hit(hedge, answer):
                notes.details = True
        notes.asked_evidence += ASK_EVIDENCE in acts
        notes.reported |= REPORT_TEAM in acts
        notes.declined |= any(a.startswith("refuse_") for a in acts)
        notes.offered += [a[len("offer_") :] for a in sorted(acts) if a.startswith("offer_")]
        notes.remedied |= bool(turn.ok and turn.action in pack.costly_actions)
    last = state.turns[-1] if state.turns else None
    if last is not None and any(a.startswith("offer_") for a in last.acts) and users:
        notes.offer_accepted = _hit(accept, users[-1]) and not _hit(reject, users[-1])
    return notes


def substantiated(notes: PackNotes, flagged: bool) -> bool:
    """The claim holds up (same reading as the FDS rule agent)."""
    if notes.hedged:
        return False
    if flagged:
        return notes.strong_photo and notes.details
    return notes.strong_photo or (notes.details and not notes.weak_photo)


def _wrap_up(notes: PackNotes, pack: Pack) -> list[str]:
    assert pack.strategies is not None
    if notes.declined or notes.reported:
        return ["explain_policy", "close"]
    if notes.feedback_only:
        return ["report_team", "close"]
    refuse = f"refuse_{notes.wants}" if notes.wants else None
    lead = [refuse] if refuse and refuse in pack.strategies.fragments else []
    return [*lead, "explain_policy", "report_team"]


def _remedy(notes: PackNotes, pack: Pack, state: DialogueState) -> str | None:
    """The remedy to propose: the customer's wish if eligible, else the default."""
    assert pack.strategies is not None
    case = state.scenario.case
    for action in (notes.wants, pack.strategies.rule_agent.default_offer):
        if action and action not in notes.refuses and action not in notes.offered:
            if pack.eligible(action, case):
                return action
    return None


def plan_pack_turn(state: DialogueState, mode: str = "judge") -> list[str]:
    """The acts of the next agent turn for a pack scenario.

    Args:
        state: the live dialogue (its scenario must belong to a generic pack).
        mode: ``judge`` (the SOP rule agent), ``always`` (investigate, then always carry out
            a remedy) or ``never`` (investigate, never offer or carry out one).
    """
    pack = pack_of(state.scenario)
    if pack is None:
        raise ValueError("plan_pack_turn needs a scenario of a generic pack")
    plan = _decide(state, pack, mode)
    if state.turn_index == 0 and "apologize" not in plan:
        plan.insert(0, "apologize")
    return plan


def _decide(state: DialogueState, pack: Pack, mode: str) -> list[str]:
    notes = read_pack_case(state, pack)
    turn = state.turn_index
    if notes.remedied:
        return ["apologize", "explain_policy", "close"]
    if notes.offered and notes.offer_accepted is not None:
        if notes.offer_accepted:
            return [f"issue_{notes.offered[-1]}"]
        nxt = _remedy(notes, pack, state) if notes.wants and mode == "judge" else None
        return [f"offer_{nxt}"] if nxt == notes.wants and nxt else _wrap_up(notes, pack)
    if turn >= state.max_turns - 1:
        return ["explain_policy", "close"]
    if turn == 0 and not (notes.strong_photo or notes.weak_photo):
        return ["apologize", "empathize", "probe_detail"]
    if not (notes.strong_photo or notes.weak_photo) and notes.asked_evidence == 0:
        return ["ask_evidence"]
    if mode == "always":
        assert pack.strategies is not None
        default = pack.strategies.rule_agent.default_offer
        choice = _remedy(notes, pack, state) or notes.wants or default
        return [f"issue_{choice}"] if choice else _wrap_up(notes, pack)
    ok = mode == "judge" and substantiated(notes, state.scenario.order.rc_tag)
    if ok and not notes.feedback_only and not notes.offered:
        choice = _remedy(notes, pack, state)
        if choice:
            return [f"offer_{choice}"]
    return _wrap_up(notes, pack)


def fast_pack_plan(state: DialogueState, mode: str) -> list[str]:
    """``always-voucher`` / ``never-voucher`` without investigating, for a pack scenario."""
    pack = pack_of(state.scenario)
    assert pack is not None and pack.strategies is not None
    if state.turns:
        return ["explain_policy", "close"]
    default = pack.strategies.rule_agent.default_offer or pack.costly_actions[0]
    if mode == "always":
        return ["apologize", f"issue_{default}"]
    return ["apologize", "explain_policy", "report_team"]


def render_pack_plan(state: DialogueState, plan: list[str], rng: random.Random) -> str:
    """Protocol text of a plan with the pack's templates (``{item}`` = the case's product)."""
    items = state.scenario.order.items
    think, response, action = strategy_set(state.scenario.pack).render_plan(
        plan, state.scenario, rng, item=items[0][0] if items else None
    )
    return render_agent_output(think, response, action)
