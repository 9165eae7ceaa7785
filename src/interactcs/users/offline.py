"""Offline persona simulator: a model-free customer that reacts to what the agent does.

Usage::

    from interactcs.users.offline import OfflinePersonaSimulator
    sim = OfflinePersonaSimulator()
    session = sim.session(scenario, seed=0)
    opening = session.open()                       # UserReply; the user speaks first
    reply = session.respond(agent_turn, history, system_state)
    sim.profile(scenario, seed=0)                  # the hidden profile (for oracles / tests)

How a turn is read (design sketch: ``../shared/docs/OFFLINE-WORLD.md``; parameters:
:mod:`~interactcs.users.offline_persona`):

1. *Truth check*: a response that claims a voucher the system state does not show, or claims
   any refund (there is no refund action), drops satisfaction to 1 and ends the dialogue.
2. *Form*: every turn costs a little patience; long responses (> 45 words), keyword stuffing
   (5+ content acts in one response, whose effects are then diluted) and near-repeats of an
   earlier response cost more.
3. *Acts* (:func:`~interactcs.env.acts.detect_acts`): the first apology / empathy / probing
   questions make the customer feel heard (weighted by category and need); probing and
   evidence requests get details and photos from cooperative customers, refusals from
   uncooperative ones, and annoy when repeated; a verbal voucher offer is accepted unless
   the customer insists on a refund; out-of-scope promises please now and are charged at the
   end; turns without progress are stalling.
4. *Outcome*: after a voucher the customer ends (a refund-insister may protest once first).
   After a clear refusal (refusal / policy + report or close) the customer ends or pushes
   back (hostile and refund-minded customers do, a limited number of times). Running out of
   patience ends the dialogue too. The rating is the latent satisfaction plus the outcome's
   effect plus noise, rounded to 1-5.

One turn costs a few tens of microseconds (see ``benchmarks/bench_env.py``).
"""

from __future__ import annotations

import random
from typing import Any

from interactcs.env.acts import (
    ADMIT_FAULT,
    APOLOGIZE,
    ASK_EVIDENCE,
    CLAIM_REFUND,
    CLAIM_VOUCHER,
    CLOSE,
    EMPATHIZE,
    EXPLAIN_POLICY,
    ISSUE_VOUCHER,
    OFF_TOPIC,
    OFFER_VOUCHER,
    OUT_OF_SCOPE_PROMISE,
    PROBE_DETAIL,
    REFUSE_REFUND,
    REFUSE_VOUCHER,
    REPORT_TEAM,
    REVEAL_AI,
    detect_acts,
    jaccard,
    tokens,
)
from interactcs.packs import pack_of
from interactcs.scenarios.schema import Scenario
from interactcs.types import AgentTurn, Message, SystemState, UserReply
from interactcs.users.base import SIMULATORS, SyncUserSession
from interactcs.users.offline_persona import HiddenProfile, sample_profile, session_seed
from interactcs.users.templates import DETAILS, PICTURES, PROBLEMS, main_item, pick, say, tone_of

_NON_CONTENT = frozenset({ISSUE_VOUCHER, OFF_TOPIC})
_REFUSALS = frozenset({REFUSE_REFUND, REFUSE_VOUCHER, EXPLAIN_POLICY})
LONG_WORDS = 45  # responses longer than this cost patience
STUFFED_ACTS = 5  # this many content acts in one response count as keyword stuffing
PROMISE_PENALTY = 1.2  # satisfaction lost per out-of-scope promise, charged at the end


def _picture_of(text: str) -> str | None:
    """Description inside ``[Sent Picture: ...]``, or None."""
    start = text.find("[Sent Picture:")
    if start < 0:
        return None
    end = text.find("]", start)
    return text[start + 14 : end if end > 0 else len(text)].strip()


class OfflineSession(SyncUserSession):
    """One offline customer in one dialogue (seeded; see module docstring)."""

    def __init__(self, scenario: Scenario, seed: int, seed_offset: int = 0) -> None:
        base = session_seed(scenario.scenario_id, seed, seed_offset)
        self.profile: HiddenProfile = sample_profile(scenario, random.Random(base))
        self.rng = random.Random(base ^ 0x5DEECE66D)
        p = self.profile
        self.tone = tone_of(p.category)
        meta = scenario.order.metadata or {}
        self.slots: dict[str, object] = {
            "item": str(meta.get("issue_item") or main_item(scenario.order.items)),
            "merchant": scenario.order.merchant,
            "problem": pick(PROBLEMS[p.complaint], self.rng),
            "mins": int(meta.get("delay_min") or self.rng.choice((35, 45, 50, 70, 85))),
        }
        self.sat = p.sat0
        self.patience = p.patience
        self.heard = 0.0
        self.turn = 0
        self.n_probe = self.n_ask = self.n_apology = self.n_empathy = self.n_explain = 0
        self.details_given = self.evidence_shown = self.need_stated = False
        self.investigated = self.explained = self.reported = False
        self.offer: str | None = None  # None | "accepted" | "rejected"
        self.offer_turn = -1
        self.pushbacks_left = p.pushbacks
        self.promises = 0
        self.voucher_received = False
        self.ended = False
        self.prev: list[frozenset[str]] = []

    # ----------------------------------------------------------- utterances
    def _say(self, intent: str) -> str:
        return say(intent, self.tone, self.rng, self.slots)

    def _details(self) -> str:
        good, hedged = DETAILS[self.profile.complaint]
        return pick(good if self.profile.valid else hedged, self.rng).format_map(self.slots)

    def _picture(self) -> str:
        strong, weak = PICTURES[self.profile.complaint]
        desc = pick(strong if self.profile.evidence == "strong" else weak, self.rng)
        return "[Sent Picture: " + desc.format_map(self.slots) + "]"

    def _show(self, parts: list[str]) -> None:
        self.evidence_shown = True
        slots = {**self.slots, "picture": self._picture()}
        parts.append(say("give_evidence", self.tone, self.rng, slots))

    def _need(self) -> str:
        self.need_stated = True
        return self._say(f"need_{self.profile.need}")

    def open(self) -> UserReply:
        """The opening complaint; cooperative customers may add details, a photo or their need."""
        p, rng = self.profile, self.rng
        parts = [self._say("opening")]
        if rng.random() < p.p_volunteer:
            parts.append(self._details())
            self.details_given = True
            if p.evidence != "none" and rng.random() < 0.5:
                parts.append(self._picture())
                self.evidence_shown = True
        demand = 0.3 * p.hostility if p.need == 1 else 0.0
        if rng.random() < p.p_volunteer + demand:
            parts.append(self._need())
        text = " ".join(parts)
        return UserReply(text, picture=_picture_of(text), meta=self._meta("opening", frozenset()))

    # ------------------------------------------------------------- dynamics
    def _hear(self, amount: float) -> None:
        new = min(1.0, self.heard + amount)
        self.sat += self.profile.heard_weight * (new - self.heard)
        self.heard = new

    def _form(self, response: str, acts: frozenset[str]) -> tuple[float, list[str]]:
        """Costs of the response's form; returns (dilution factor, remarks)."""
        p = self.profile
        self.patience -= 0.5 + 0.4 * p.hostility
        if self.turn > 3:
            self.sat -= 0.05
        remarks: list[str] = []
        n_words = len(response.split())
        if n_words > LONG_WORDS:
            self.patience -= (n_words - LONG_WORDS) / 25.0
            self.sat -= 0.1
            if n_words > 1.6 * LONG_WORDS:
                remarks.append("too_long")
        dilution = 1.0
        n_content = len(acts - _NON_CONTENT)
        if n_content >= STUFFED_ACTS:
            dilution = 2.0 / n_content
            self.sat -= 0.3
            self.patience -= 1.0
        toks = tokens(response)
        if len(toks) >= 3 and any(jaccard(toks, t) >= 0.8 for t in self.prev):
            self.patience -= 1.5
            self.sat -= 0.25
            remarks.append("repeat")
        self.prev.append(toks)
        return dilution, remarks

    def _probe(self, dil: float, parts: list[str], remarks: list[str]) -> bool:
        p, rng = self.profile, self.rng
        self.n_probe += 1
        progress = self.n_probe <= 2
        if progress:
            self._hear(0.3 * dil)
        else:
            self.patience -= 0.4 + 0.8 * p.hostility
        if not self.details_given:
            if rng.random() < p.p_detail:
                self.details_given = True
                parts.append(self._details())
                if not self.need_stated and rng.random() < 0.5:
                    parts.append(self._need())
            else:
                parts.append(self._say("refuse_details"))
                self.patience -= 0.3 * p.hostility
        elif not self.need_stated and rng.random() < 0.8:
            parts.append(self._need())
        else:
            remarks.append("details_again")
            self.patience -= 0.5
        return progress

    def _ask_evidence(self, dil: float, parts: list[str], remarks: list[str]) -> bool:
        p, rng = self.profile, self.rng
        self.n_ask += 1
        if self.evidence_shown:
            remarks.append("evidence_again")
            self.patience -= 1.0
            self.sat -= 0.1
            return False
        if self.n_ask > 2:
            remarks.append("ask_again_annoyed")
            self.patience -= 1.5
            self.sat -= 0.2
            return False
        if self.n_ask == 1:
            self._hear(0.15 * dil)
            chance = p.p_evidence
        else:
            self.patience -= 0.5 + p.hostility
            self.sat -= 0.1
            chance = 0.5 * p.p_evidence
        if p.evidence == "none":
            parts.append(self._say("no_photo"))
        elif rng.random() < chance:
            self._show(parts)
        else:
            parts.append(self._say("refuse_evidence"))
        return True

    def _acts(self, acts: frozenset[str], dil: float, parts: list[str], remarks: list[str]) -> bool:
        """Apply the effects of the detected acts; return True when the turn made progress."""
        p = self.profile
        progress = False
        if REVEAL_AI in acts:
            self.sat -= 0.7
            self.patience -= 1.5
            remarks.append("ai_reveal")
        if OFF_TOPIC in acts:
            self.sat -= 0.3
            self.patience -= 1.5
            remarks.append("off_topic")
        if OUT_OF_SCOPE_PROMISE in acts:
            self.sat += 0.4 * dil
            self.promises += 1
            remarks.append("promise_followup")
        if ADMIT_FAULT in acts:
            self.sat += 0.1 * dil
        if APOLOGIZE in acts:
            self.n_apology += 1
            self._hear((0.25 if self.n_apology == 1 else 0.03) * dil)
        if EMPATHIZE in acts:
            self.n_empathy += 1
            self._hear((0.3 if self.n_empathy == 1 else 0.1 if self.n_empathy == 2 else 0.0) * dil)
        if PROBE_DETAIL in acts:
            progress |= self._probe(dil, parts, remarks)
        if ASK_EVIDENCE in acts:
            progress |= self._ask_evidence(dil, parts, remarks)
        if acts & _REFUSALS:
            self.n_explain += 1
            if self.n_explain == 1:
                self.explained = progress = True
                if p.need == 1:
                    self.sat -= 0.1
            elif self.n_explain > 2:
                self.patience -= 0.5
        if REPORT_TEAM in acts and not self.reported:
            self.reported = progress = True
            self.sat += (0.35 if p.need == 4 else 0.1) * dil
        return progress

    def _offer(self, parts: list[str]) -> None:
        if self.profile.need == 1:
            self.offer = "rejected"
            self.sat -= 0.1
            parts.append(self._say("reject_offer"))
        else:
            self.offer = "accepted"
            self.sat += 0.2
            parts.append(self._say("accept_offer"))
        self.offer_turn = self.turn

    def _voucher_gain(self, investigated_before: bool) -> float:
        gain = self.profile.voucher_utility
        if gain > 0:
            gain *= 1.0 if investigated_before else 0.7
            if self.offer == "accepted":
                gain += 0.2
        else:
            gain -= 0.0 if investigated_before else 0.1
            if self.offer == "rejected" or self.need_stated:
                gain -= 0.4  # they said they do not want a voucher: not being listened to
        return gain

    def _no_voucher_final(self) -> float:
        p = self.profile
        effect = p.refusal_effect
        if p.valid and self.evidence_shown and p.need in (2, 3):
            effect *= 1.3  # "I showed you the photo!"
        return self.sat + effect + (0.15 if self.explained else 0.0)

    # ---------------------------------------------------------------- reply
    def respond(self, agent: AgentTurn, history: list[Message], system: SystemState) -> UserReply:
        """React to one agent turn (see module docstring for the rules)."""
        if self.ended:
            return UserReply("", failure="the customer already ended this dialogue")
        self.turn += 1
        response = agent.response or ""
        acts = detect_acts(response, agent.action)
        if CLAIM_VOUCHER in acts and not system.voucher_issued:
            return self._end(1.0, "false_voucher", acts)
        if CLAIM_REFUND in acts:
            return self._end(1.0, "false_refund", acts)
        if self.voucher_received:  # customer protested the voucher; whatever comes now, they leave
            bonus = 0.1 if acts & (_REFUSALS | {APOLOGIZE, EMPATHIZE}) else -0.1
            return self._end(self.sat + bonus, "end_voucher_bad", acts)
        dil, remarks = self._form(response, acts)
        parts: list[str] = []
        investigated_before = self.investigated or self.details_given or self.evidence_shown
        progress = self._acts(acts, dil, parts, remarks)
        if acts & {PROBE_DETAIL, ASK_EVIDENCE}:
            self.investigated = True
        if agent.action == "voucher":
            return self._after_voucher(investigated_before, acts)
        if OFFER_VOUCHER in acts and self.offer is None:
            self._offer(parts)
            progress = True
        elif self.offer == "accepted" and self.offer_turn < self.turn:
            self.sat -= 0.35
            self.patience -= 1.0
            remarks.append("broken_offer")
        resolved = self._resolution(acts)
        if resolved is not None:
            return resolved
        if CLOSE in acts:
            self.sat -= 0.4
            self.patience -= 1.5
            remarks.append("premature_close")
        if not progress and not parts:
            self.patience -= 0.6 + 0.6 * self.profile.hostility
            self.sat -= 0.1
            remarks.append("stalling")
        if self.patience <= 0:
            return self._end(self._no_voucher_final() - 0.3, "out_of_patience", acts)
        return self._continue(parts, remarks, acts)

    def _after_voucher(self, investigated_before: bool, acts: frozenset[str]) -> UserReply:
        p = self.profile
        self.sat += self._voucher_gain(investigated_before)
        self.voucher_received = True
        if p.need == 1 and self.pushbacks_left > 0 and self.patience > 1.0:
            if self.rng.random() < 0.4 + 0.5 * p.hostility:
                self.pushbacks_left -= 1
                self.sat -= 0.1
                return self._continue([self._say("voucher_pushback")], [], acts)
        good = p.need != 1
        return self._end(self.sat, "end_voucher_good" if good else "end_voucher_bad", acts)

    def _resolution(self, acts: frozenset[str]) -> UserReply | None:
        """Handle a clear no-voucher outcome: end, or push back once more."""
        p, rng = self.profile, self.rng
        refusal = bool(acts & _REFUSALS)
        wraps = REPORT_TEAM in acts or CLOSE in acts
        resolution = (refusal and wraps) or (
            CLOSE in acts and (self.explained or self.reported) and self.turn > 1
        )
        if p.need == 4 and REPORT_TEAM in acts and self.heard >= 0.3:
            resolution = True
        if not resolution:
            return None
        wants_more = p.need == 1 or (p.need in (2, 3) and (p.valid or rng.random() < 0.4))
        if (
            self.offer != "accepted"
            and wants_more
            and self.pushbacks_left > 0
            and self.patience > 1.0
        ):
            self.pushbacks_left -= 1
            self.sat -= 0.1
            self.patience -= 1.0
            line = self._say("pushback_1" if p.need == 1 else "pushback_comp")
            return self._continue([line], [], acts)
        final = self._no_voucher_final()
        if self.offer == "accepted":
            final -= 0.6  # offered in words, then not delivered
        intent = "end_good" if final >= 3.5 else "end_meh" if final >= 2.0 else "end_bad"
        return self._end(final, intent, acts)

    def _continue(self, parts: list[str], remarks: list[str], acts: frozenset[str]) -> UserReply:
        rng, p = self.rng, self.profile
        lines = [self._say(r) for r in remarks[:1]] + parts
        if not parts and rng.random() < p.p_volunteer:
            if not self.details_given:
                self.details_given = True
                lines.append(self._details())
            elif not self.need_stated:
                lines.append(self._need())
        if not lines:
            lines.append(self._say("continue"))
        text = " ".join(lines)
        meta = self._meta("continue", acts, remarks)
        return UserReply(text, satisfaction=None, picture=_picture_of(text), meta=meta)

    def _end(self, final: float, intent: str, acts: frozenset[str]) -> UserReply:
        self.ended = True
        final -= PROMISE_PENALTY * min(self.promises, 2)
        score = int(round(final + self.rng.gauss(0.0, 0.3)))
        score = min(5, max(1, score))
        if final <= 1.0:
            score = 1
        text = self._say(intent)
        meta = self._meta(intent, acts)
        meta["raw"] = f"{text} [end:{score}]"  # the utterance as an LLM user would write it
        return UserReply(text, end=True, satisfaction=score, meta=meta)

    def _meta(
        self, intent: str, acts: frozenset[str], remarks: list[str] | None = None
    ) -> dict[str, Any]:
        return {
            "intent": intent,
            "sat": round(self.sat, 3),
            "patience": round(self.patience, 3),
            "acts": sorted(acts),
            "remarks": remarks or [],
        }


class OfflinePersonaSimulator:
    """Factory of :class:`OfflineSession` customers; registered as ``offline``.

    Args:
        seed_offset: shifts every session's random stream (a second, independent world
            over the same scenarios and seeds).
    """

    name = "offline"

    def __init__(self, seed_offset: int = 0) -> None:
        self.seed_offset = seed_offset

    def session(self, scenario: Scenario, seed: int) -> OfflineSession:
        """A fresh customer for one dialogue (deterministic given scenario id and seed).

        A scenario of a generic pack (``Scenario.pack``) gets the pack-driven customer of
        :mod:`interactcs.users.pack_sim`; FDS scenarios are unchanged.
        """
        pack = pack_of(scenario)
        if pack is not None:
            from interactcs.users.pack_sim import PackSession

            return PackSession(pack, scenario, seed, self.seed_offset)  # type: ignore[return-value]
        return OfflineSession(scenario, seed, self.seed_offset)

    def profile(self, scenario: Scenario, seed: int) -> HiddenProfile:
        """The hidden profile ``session(scenario, seed)`` will have (for oracles and tests)."""
        base = session_seed(scenario.scenario_id, seed, self.seed_offset)
        return sample_profile(scenario, random.Random(base))


SIMULATORS.add("offline", OfflinePersonaSimulator)
