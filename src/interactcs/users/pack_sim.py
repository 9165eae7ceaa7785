"""Pack-driven offline customer: the FDS offline simulator's dynamics, with the remedies,
utilities, issues and utterances of a scenario pack.

Usage::

    from interactcs.users.offline import OfflinePersonaSimulator
    sim = OfflinePersonaSimulator()          # routes pack scenarios here, FDS ones as before
    session = sim.session(returns_scenario, seed=0)

    from interactcs.users.pack_sim import PackSession, sample_pack_profile
    profile = sample_pack_profile(pack, scenario, random.Random(0))   # the hidden profile

How a turn is read (``../shared/docs/OFFLINE-WORLD.md``; parameters: the pack's
``simulator.yaml``):

1. *Truth*: a response that claims a remedy the system state does not show ends the dialogue
   at satisfaction 1.
2. *Form*: every turn costs a little patience; long replies, keyword stuffing and near-repeats
   cost more (as in FDS).
3. *Acts* (the pack's detector): the first apology / empathy / probing questions make the
   customer feel heard; probing and evidence requests get details and photos from
   cooperative customers, refusals from uncooperative ones, and annoy when repeated. A
   remedy proposed in words is accepted when its utility for this customer (need + issue) is
   at least ``accept_min``, else rejected with the customer's own wish stated.
4. *Remedy* (a costly action): satisfaction moves by the remedy's utility for this need and
   issue; only ``premature_factor`` of a positive gain is kept when nothing was investigated
   first, and a remedy the customer turned down costs extra. A customer who got an unwanted
   remedy may protest once, then leaves.
5. *Resolution*: a clear refusal (decline / policy + report or close) ends the dialogue, or
   the customer pushes back for what they want a limited number of times; running out of
   patience ends it too. The rating is the latent satisfaction plus the outcome plus noise.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from interactcs.env.acts import (
    ADMIT_FAULT,
    APOLOGIZE,
    ASK_EVIDENCE,
    CLOSE,
    EMPATHIZE,
    EXPLAIN_POLICY,
    OFF_TOPIC,
    OUT_OF_SCOPE_PROMISE,
    PROBE_DETAIL,
    REPORT_TEAM,
    REVEAL_AI,
    jaccard,
    tokens,
)
from interactcs.packs.loader import Pack
from interactcs.scenarios.schema import Scenario
from interactcs.types import AgentTurn, Message, SystemState, UserReply
from interactcs.users.base import SyncUserSession
from interactcs.users.offline_persona import session_seed

LONG_WORDS = 45
STUFFED_ACTS = 5
PROMISE_PENALTY = 1.2


def _tone(category: int) -> str:
    return "rough" if category <= 2 else "plain" if category == 3 else "kind"


@dataclass(frozen=True, slots=True)
class PackProfile:
    """Hidden profile of one pack customer (see :class:`~interactcs.users.offline_persona.HiddenProfile`).

    Attributes:
        utility: costly action -> satisfaction change of receiving it (need + issue + noise).
        wants: the remedy the customer asks for (the need's ``wants``), or None.
    """

    category: int
    need: int
    issue: str
    flag: bool
    valid: bool
    evidence: str
    sat0: float
    patience: float
    hostility: float
    p_evidence: float
    p_detail: float
    p_volunteer: float
    heard_weight: float
    refusal_effect: float
    pushbacks: int
    utility: dict[str, float]
    wants: str | None
    feedback: bool

    def best_remedy(self, accept_min: float) -> str | None:
        """The remedy this customer values most, if any is acceptable."""
        best = max(self.utility, key=lambda a: self.utility[a], default=None)
        return best if best is not None and self.utility[best] >= accept_min else None


def sample_pack_profile(pack: Pack, scenario: Scenario, rng: random.Random) -> PackProfile:
    """Draw the hidden profile of one pack customer (category, need, issue, validity)."""
    sim = pack.sim
    assert sim is not None and pack.spec.case is not None
    cat = min(max(scenario.category, 1), 5) - 1
    c = sim.categories
    need = scenario.need if scenario.need in sim.needs else min(sim.needs)
    n = sim.needs[need]
    issue_key = str(scenario.case.get(pack.spec.case.order.issue, ""))
    issue = pack.issues.get(issue_key)
    flag = scenario.order.rc_tag
    valid = rng.random() < c.p_valid[cat] * (sim.flag_valid_factor if flag else 1.0)
    probs = sim.evidence_genuine if valid else sim.evidence_doubtful
    u = rng.random()
    evidence = "strong" if u < probs[0] else "weak" if u < probs[0] + probs[1] else "none"
    refusal = n.refusal if valid else max(n.refusal, -0.15)
    extra = issue.utility if issue else {}
    utility = {a: v + extra.get(a, 0.0) + rng.gauss(0.0, 0.15) for a, v in n.utility.items()}
    return PackProfile(
        category=cat + 1,
        need=need,
        issue=issue_key,
        flag=flag,
        valid=valid,
        evidence=evidence,
        sat0=c.sat0[cat] + n.sat_shift + rng.gauss(0.0, 0.2),
        patience=max(1.5, c.patience[cat] + rng.gauss(0.0, 0.7)),
        hostility=c.hostility[cat],
        p_evidence=c.p_evidence[cat],
        p_detail=c.p_detail[cat],
        p_volunteer=c.p_volunteer[cat],
        heard_weight=c.heard_weight[cat] * n.heard,
        refusal_effect=refusal,
        pushbacks=c.pushbacks[cat],
        utility=utility,
        wants=pack.needs[need].wants,
        feedback=pack.needs[need].feedback,
    )


def _picture_of(text: str) -> str | None:
    start = text.find("[Sent Picture:")
    if start < 0:
        return None
    end = text.find("]", start)
    return text[start + 14 : end if end > 0 else len(text)].strip()


class PackSession(SyncUserSession):
    """One pack customer in one dialogue (seeded; see module docstring)."""

    def __init__(self, pack: Pack, scenario: Scenario, seed: int, seed_offset: int = 0) -> None:
        assert pack.sim is not None and pack.acts is not None
        base = session_seed(scenario.scenario_id, seed, seed_offset)
        self.pack, self.sim, self.detect = pack, pack.sim, pack.acts.detect
        self.profile = sample_pack_profile(pack, scenario, random.Random(base))
        self.rng = random.Random(base ^ 0x5DEECE66D)
        p = self.profile
        self.tone = _tone(p.category)
        issue = pack.issues.get(p.issue)
        self.issue = issue
        case = {k: v for k, v in scenario.case.items()}
        self.slots: dict[str, object] = {
            **case,
            "item": scenario.order.items[0][0] if scenario.order.items else "item",
            "merchant": scenario.order.merchant,
            "problem": self._pick(issue.problem) if issue else "is not right",
            "wanted": pack.noun(p.wants or p.best_remedy(self.sim.accept_min)),
            "offered": "that",
        }
        self.sat, self.patience, self.heard = p.sat0, p.patience, 0.0
        self.turn = 0
        self.n_probe = self.n_ask = self.n_apology = self.n_empathy = self.n_explain = 0
        self.details_given = self.evidence_shown = self.need_stated = False
        self.investigated = self.explained = self.reported = False
        self.offer: str | None = None  # action offered in words and accepted
        self.rejected: set[str] = set()
        self.offer_turn = -1
        self.pushbacks_left = p.pushbacks
        self.promises = 0
        self.remedy: str | None = None  # a remedy received that the customer protests
        self.ended = False
        self.prev: list[frozenset[str]] = []

    # ----------------------------------------------------------- utterances
    def _pick(self, options: list[str] | tuple[str, ...]) -> str:
        return options[self.rng.randrange(len(options))] if len(options) > 1 else options[0]

    def _say(self, intent: str, **extra: object) -> str:
        text = self._pick(self.pack.templates[intent][self.tone])
        return text.format_map({**self.slots, **extra}) if "{" in text else text

    def _details(self) -> str:
        if self.issue is None:
            return self._say("refuse_details")
        return self._pick(
            self.issue.details if self.profile.valid else self.issue.hedged
        ).format_map(self.slots)

    def _picture(self) -> str:
        assert self.issue is not None
        desc = self._pick(
            self.issue.strong if self.profile.evidence == "strong" else self.issue.weak
        )
        return "[Sent Picture: " + desc.format_map(self.slots) + "]"

    def _need(self) -> str:
        self.need_stated = True
        return self._say(f"need_{self.profile.need}")

    def open(self) -> UserReply:
        """The opening complaint; cooperative customers may add details, a photo or their wish."""
        p, rng = self.profile, self.rng
        parts = [self._say("opening")]
        if rng.random() < p.p_volunteer:
            parts.append(self._details())
            self.details_given = True
            if p.evidence != "none" and self.issue is not None and rng.random() < 0.5:
                parts.append(self._picture())
                self.evidence_shown = True
        demand = 0.3 * p.hostility if p.wants else 0.0
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
        content = [a for a in acts if a != OFF_TOPIC and not a.startswith("issue_")]
        dilution = 1.0
        if len(content) >= STUFFED_ACTS:
            dilution = 2.0 / len(content)
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
        if p.evidence == "none" or self.issue is None:
            parts.append(self._say("no_photo"))
        elif rng.random() < chance:
            self.evidence_shown = True
            parts.append(self._say("give_evidence", picture=self._picture()))
        else:
            parts.append(self._say("refuse_evidence"))
        return True

    def _acts(self, acts: frozenset[str], dil: float, parts: list[str], remarks: list[str]) -> bool:
        """Effects of the shared acts; True when the turn made progress."""
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
        if self._refusal(acts):
            self.n_explain += 1
            if self.n_explain == 1:
                self.explained = progress = True
                if self.profile.wants:
                    self.sat -= 0.1
            elif self.n_explain > 2:
                self.patience -= 0.5
        if REPORT_TEAM in acts and not self.reported:
            self.reported = progress = True
            self.sat += (0.35 if self.profile.feedback else 0.1) * dil
        return progress

    @staticmethod
    def _refusal(acts: frozenset[str]) -> bool:
        return EXPLAIN_POLICY in acts or any(a.startswith("refuse_") for a in acts)

    def _offers(self, acts: frozenset[str]) -> list[str]:
        return [a[len("offer_") :] for a in sorted(acts) if a.startswith("offer_")]

    def _offer(self, action: str, parts: list[str]) -> None:
        noun = self.pack.noun(action)
        if self.profile.utility.get(action, -9.0) >= self.sim.accept_min:
            self.offer = action
            self.offer_turn = self.turn
            self.sat += 0.2
            parts.append(self._say("accept_offer", offered=noun))
        else:
            self.rejected.add(action)
            self.sat -= 0.1
            parts.append(self._say("reject_offer", offered=noun))
            if not self.need_stated and self.profile.wants:
                parts.append(self._need())

    def _remedy_gain(self, action: str, investigated_before: bool) -> float:
        gain = self.profile.utility.get(action, 0.0)
        if gain > 0:
            gain *= 1.0 if investigated_before else self.sim.premature_factor
            if self.offer == action:
                gain += 0.2
        else:
            gain -= 0.0 if investigated_before else 0.1
            if action in self.rejected or self.need_stated:
                gain -= 0.4  # they said what they want: not being listened to
        return gain

    def _no_remedy_final(self) -> float:
        p = self.profile
        effect = p.refusal_effect
        fault = self.issue.fault if self.issue else True
        if p.valid and fault and self.evidence_shown and p.wants is not None:
            effect *= 1.3  # "I showed you the photo!"
        return self.sat + effect + (0.15 if self.explained else 0.0)

    # ---------------------------------------------------------------- reply
    def respond(self, agent: AgentTurn, history: list[Message], system: SystemState) -> UserReply:
        """React to one agent turn (see module docstring)."""
        if self.ended:
            return UserReply("", failure="the customer already ended this dialogue")
        self.turn += 1
        response = agent.response or ""
        acts = self.detect(response, agent.action)
        taken = system.actions_taken or {}
        for act in sorted(acts):
            if act.startswith("claim_"):
                done = act[len("claim_") :]
                if done != agent.action and not taken.get(done):
                    return self._end(1.0, "false_claim", acts, offered=self.pack.noun(done))
        if self.remedy is not None:  # protested the remedy; whatever comes now, they leave
            bonus = 0.1 if self._refusal(acts) or acts & {APOLOGIZE, EMPATHIZE} else -0.1
            return self._end(
                self.sat + bonus, "end_remedy_bad", acts, offered=self.pack.noun(self.remedy)
            )
        dil, remarks = self._form(response, acts)
        parts: list[str] = []
        investigated_before = self.investigated or self.details_given or self.evidence_shown
        progress = self._acts(acts, dil, parts, remarks)
        if acts & {PROBE_DETAIL, ASK_EVIDENCE}:
            self.investigated = True
        if agent.action in self.profile.utility:
            return self._after_remedy(agent.action, investigated_before, acts)
        offers = [a for a in self._offers(acts) if a in self.profile.utility]
        if offers and self.offer is None:
            self._offer(offers[0], parts)
            progress = True
        elif self.offer is not None and self.offer_turn < self.turn:
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
            return self._end(self._no_remedy_final() - 0.3, "out_of_patience", acts)
        return self._continue(parts, remarks, acts)

    def _after_remedy(
        self, action: str, investigated_before: bool, acts: frozenset[str]
    ) -> UserReply:
        p = self.profile
        self.sat += self._remedy_gain(action, investigated_before)
        noun = self.pack.noun(action)
        unwanted = p.utility.get(action, 0.0) < self.sim.accept_min
        if unwanted and self.pushbacks_left > 0 and self.patience > 1.0:
            if self.rng.random() < 0.4 + 0.5 * p.hostility:
                self.pushbacks_left -= 1
                self.sat -= 0.1
                self.remedy = action
                return self._continue([self._say("remedy_pushback", offered=noun)], [], acts)
        intent = "end_remedy_bad" if unwanted else "end_remedy_good"
        return self._end(self.sat, intent, acts, offered=noun)

    def _resolution(self, acts: frozenset[str]) -> UserReply | None:
        p, rng = self.profile, self.rng
        refusal = self._refusal(acts)
        wraps = REPORT_TEAM in acts or CLOSE in acts
        resolution = (refusal and wraps) or (
            CLOSE in acts and (self.explained or self.reported) and self.turn > 1
        )
        if p.feedback and REPORT_TEAM in acts and self.heard >= 0.3:
            resolution = True
        if not resolution:
            return None
        wants_more = p.wants is not None or (
            not p.feedback
            and p.best_remedy(self.sim.accept_min) is not None
            and (p.valid or rng.random() < 0.4)
        )
        if self.offer is None and wants_more and self.pushbacks_left > 0 and self.patience > 1.0:
            self.pushbacks_left -= 1
            self.sat -= 0.1
            self.patience -= 1.0
            return self._continue([self._say("pushback")], [], acts)
        final = self._no_remedy_final()
        if self.offer is not None:
            final -= 0.6  # offered in words, then not delivered
        intent = "end_good" if final >= 3.5 else "end_meh" if final >= 2.0 else "end_bad"
        return self._end(final, intent, acts)

    def _continue(self, parts: list[str], remarks: list[str], acts: frozenset[str]) -> UserReply:
        p = self.profile
        lines = [self._say(r) for r in remarks[:1]] + parts
        if not parts and self.rng.random() < p.p_volunteer:
            if not self.details_given:
                self.details_given = True
                lines.append(self._details())
            elif not self.need_stated:
                lines.append(self._need())
        if not lines:
            lines.append(self._say("continue"))
        text = " ".join(lines)
        return UserReply(
            text, picture=_picture_of(text), meta=self._meta("continue", acts, remarks)
        )

    def _end(self, final: float, intent: str, acts: frozenset[str], **extra: object) -> UserReply:
        self.ended = True
        final -= PROMISE_PENALTY * min(self.promises, 2)
        score = min(5, max(1, int(round(final + self.rng.gauss(0.0, 0.3)))))
        if final <= 1.0:
            score = 1
        text = self._say(intent, **extra)
        meta = self._meta(intent, acts)
        meta["raw"] = f"{text} [end:{score}]"
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
