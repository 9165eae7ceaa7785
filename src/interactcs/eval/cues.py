"""What the offline Comm/Logic judges read from a dialogue: customer cues and agent turns.

Usage::

    from interactcs.eval.cues import DialogueView
    view = DialogueView.of(trajectory)
    view.users[0].angry, view.agents[0].acts, view.setbacks()

The customer side is read with small lexicons (anger, upset, thanks, refund demand, refused
voucher, wish to be heard, openness to compensation, acceptance, refused evidence or details,
pushback, requests outside the agent's tools, pictures). The agent side is read with
:func:`interactcs.env.acts.detect_acts` on the *response text only* (what the customer sees;
the action is kept apart), plus word and sentence counts. Matching runs on lower-cased text.
These cues are deliberately general (not tied to the offline simulator's templates), so the
judges also read dialogues with an LLM customer.

Indexing: ``users[k]`` is the customer message that agent turn ``k`` answers (``users[0]`` is
the opening); when the customer replied to the last agent turn, that reply is
``users[len(agents)]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from interactcs.env import acts as A
from interactcs.types import FormatStatus, Trajectory

__all__ = ["AgentView", "DialogueView", "UserCues", "by_count", "has", "negated_match"]


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_PICTURE = _rx(r"\[\s*sent picture\s*:([^\]]*)\]?")
_WEAK_PHOTO = _rx(
    r"blurry|hard to (?:tell|see)|nothing unusual|looks normal|not readable|cut off|out of frame|"
    r"unclear|cropped|dark photo|no times|can'?t see"
)
_HEDGE = _rx(
    r"\b(?:i guess|maybe|not sure|kind of|hard to say|i think|a bit|sort of|probably|perhaps)\b"
)
_ANGRY = _rx(
    r"\b(?:ridiculous|unacceptable|useless|a joke|worst|pathetic|disgusting|outrageous|fix it|"
    r"sort it out|are you even|stop asking|keep asking|deleting|i'?m done|waste of|not fair|"
    r"seriously|fed up|sick of|nonsense|happy now|whatever|what is this|absurd|rubbish|bye)\b|"
    r"!{2,}|\?!"
)
_CAPS = re.compile(r"\b[A-Z]{4,}\b")
_UPSET = _rx(
    r"\b(?:disappoint\w*|frustrat\w*|upset|annoy\w*|unfortunately|was (?:really )?hoping|"
    r"not what i (?:hoped|wanted|asked)|let down|no use)\b"
)
_POSITIVE = _rx(
    r"\b(?:thanks?|thank you|appreciate\w*|kind of you|would be kind|really kind|sounds (?:fair|"
    r"good|great)|perfect|lovely|that works|that helps|usually love)\b"
)
_REFUND = _rx(r"\b(?:refund\w*|money back|reimburs\w*)\b")
_REFUSES_VOUCHER = _rx(
    r"not a voucher|no voucher|don'?t want a voucher|vouchers? (?:are|is) (?:no use|useless|"
    r"pointless)|voucher\? no|isn'?t a refund|rather have a refund|voucher isn'?t (?:really )?what"
)
_FEEDBACK = _rx(
    r"restaurant (?:to )?knows?|hear about it|(?:doesn'?t|does not|won'?t) happen again|"
    r"keeps happening|let them know|pass (?:it|this) on|someone to (?:hear|know)|mainly want"
)
_COMP_OPEN = _rx(
    r"compensat\w*|make up for|anything reasonable|something for (?:this|the trouble)|"
    r"offer (?:me )?something|at least (?:give|offer)|voucher (?:would be|is) (?:okay|ok|fine)|"
    r"if (?:you )?(?:really )?can'?t|if that'?s not possible|voucher would be okay"
)
_ACCEPT = _rx(
    r"^\W*(?:ok(?:ay)?|fine|sure|yes|yeah|alright|deal)\b|\b(?:that works|sounds (?:fair|good)|"
    r"would be (?:kind|great|nice)|do it|voucher is (?:fine|okay|ok)|i'?ll take it)\b"
)
_REFUSES_EVIDENCE = _rx(
    r"not sending|won'?t send|rather not|prefer not|(?:didn'?t|did not|don'?t|do not) (?:take|have)"
    r" (?:a |any )?(?:photo|picture|pic)|no (?:photo|picture)|threw it (?:out|away)|"
    r"shouldn'?t have to prove|why would i send"
)
_REFUSES_DETAILS = _rx(
    r"does it matter|already told|why all the questions|what else to (?:say|add)|"
    r"explained (?:that|it) already|read what i wrote"
)
_REPEAT_COMPLAINT = _rx(
    r"already (?:asked|sent|told|explained)|keep asking|asked (?:me )?that already|"
    r"look at the (?:picture|photo)|are you even reading"
)
_PUSHBACK = _rx(
    r"that'?s it\?|so no refund|so i get nothing|nothing at all|doesn'?t help|not what i asked|"
    r"still want|hoping for|really nothing|not fair|not excuses|can you at least|isn'?t a refund"
)
_SETTLED = _rx(
    r"\bthanks?\b|thank you|that'?s all|nothing else|that'?ll do|that helps|appreciate it|"
    r"\bbye\b|goodbye|i guess that'?s it"
)
_OOD_EXTRA = _rx(
    r"\b(?:card|bank)\b|redeliver\w*|re-deliver|send (?:me )?(?:a |another )?(?:new|fresh|"
    r"replacement)\b|replacement|remake|\bmanager\b|\bsupervisor\b|call me|phone me|ring me|"
    r"\bcash\b|speak to (?:a|someone)"
)


_NEG = re.compile(r"\b(?:not|no|never|cannot|without)\b|n't\b")


def has(pattern: re.Pattern[str], text: str) -> bool:
    """``pattern`` occurs in ``text`` (already lower-cased)."""
    return pattern.search(text) is not None


def negated_match(pattern: re.Pattern[str], text: str, window: int = 20) -> tuple[bool, bool]:
    """(an un-negated match exists, a negated match exists) within ``window`` chars before."""
    pos = neg = False
    for m in pattern.finditer(text):
        before = text[max(0, m.start() - window) : m.start()]
        if _NEG.search(before):
            neg = True
        else:
            pos = True
    return pos, neg


def by_count(n: int, top: int = 2) -> int:
    """Score from a count of problems: none -> ``top``, then one point less per problem."""
    return max(0, top - n)


@dataclass(slots=True)
class UserCues:
    """Cues in one customer message (all booleans)."""

    text: str
    picture: bool = False
    weak_picture: bool = False
    angry: bool = False
    upset: bool = False
    positive: bool = False
    refund: bool = False
    refuses_voucher: bool = False
    feedback: bool = False
    comp_open: bool = False
    accepts: bool = False
    refuses_evidence: bool = False
    refuses_details: bool = False
    repeat_complaint: bool = False
    pushback: bool = False
    settled: bool = False
    ood: bool = False
    question: bool = False
    hedged: bool = False
    words: int = 0

    @classmethod
    def of(cls, text: str | None) -> UserCues:
        raw = text or ""
        t = A.normalize(raw)
        pic = _PICTURE.search(t)
        return cls(
            text=raw,
            picture=pic is not None,
            weak_picture=pic is not None and has(_WEAK_PHOTO, pic.group(1) or ""),
            angry=has(_ANGRY, t) or len(_CAPS.findall(raw)) >= 2,
            upset=has(_UPSET, t),
            positive=has(_POSITIVE, t),
            refund=has(_REFUND, t),
            refuses_voucher=has(_REFUSES_VOUCHER, t),
            feedback=has(_FEEDBACK, t),
            comp_open=has(_COMP_OPEN, t),
            accepts=has(_ACCEPT, t),
            refuses_evidence=has(_REFUSES_EVIDENCE, t),
            refuses_details=has(_REFUSES_DETAILS, t),
            repeat_complaint=has(_REPEAT_COMPLAINT, t),
            pushback=has(_PUSHBACK, t),
            settled=has(_SETTLED, t),
            ood=has(_REFUND, t) or has(_OOD_EXTRA, t),
            question="?" in t,
            hedged=has(_HEDGE, _PICTURE.sub("", t)),
            words=len(_PICTURE.sub("", t).split()),
        )

    @property
    def negative(self) -> bool:
        return self.angry or self.upset

    @property
    def setback(self) -> bool:
        """The customer turned a move down or pushed back: the agent should change course."""
        return (
            self.refuses_voucher
            or self.refuses_evidence
            or self.refuses_details
            or self.repeat_complaint
            or self.pushback
        )


_SENTENCE = re.compile(r"[.!?]+(?=\s|$)")
#: acts that carry substance (beyond sympathy and pleasantries), read from the response text.
SUBSTANTIVE: frozenset[str] = frozenset(
    {
        A.ASK_EVIDENCE,
        A.PROBE_DETAIL,
        A.EXPLAIN_POLICY,
        A.OFFER_VOUCHER,
        A.CLAIM_VOUCHER,
        A.REFUSE_REFUND,
        A.REFUSE_VOUCHER,
        A.REPORT_TEAM,
    }
)
QUESTIONS: frozenset[str] = frozenset({A.ASK_EVIDENCE, A.PROBE_DETAIL})
WARM: frozenset[str] = frozenset({A.APOLOGIZE, A.EMPATHIZE})


@dataclass(slots=True)
class AgentView:
    """One agent turn as the judges read it.

    Attributes:
        acts: acts of the response text alone (no ``issue_voucher``: that is ``issued``).
        issued: a voucher was actually issued on this turn (voucher action, format OK).
        words / sentences: length of the response.
    """

    index: int
    response: str
    think: str
    action: str | None
    status: FormatStatus
    acts: frozenset[str]
    issued: bool
    words: int
    sentences: int

    @property
    def ok(self) -> bool:
        return self.status == FormatStatus.OK

    @property
    def substantive(self) -> bool:
        return bool(self.acts & SUBSTANTIVE)


@dataclass(slots=True)
class DialogueView:
    """Customer cues and agent turns of one trajectory (see module docstring for indexing)."""

    traj: Trajectory
    users: list[UserCues]
    agents: list[AgentView]

    @classmethod
    def of(cls, traj: Trajectory) -> DialogueView:
        users = [UserCues.of(traj.opening)]
        agents: list[AgentView] = []
        for k, t in enumerate(traj.turns):
            if k > 0:
                users.append(UserCues.of(t.user_text))
            resp = t.response or ""
            text = resp.strip()
            agents.append(
                AgentView(
                    index=k,
                    response=resp,
                    think=t.think or "",
                    action=t.action,
                    status=t.status,
                    acts=A.detect_acts(resp, None),
                    issued=t.action == "voucher" and t.ok,
                    words=A.word_count(resp),
                    sentences=max(1, len(_SENTENCE.findall(text))) if text else 0,
                )
            )
        if traj.turns and traj.turns[-1].reply is not None:
            users.append(UserCues.of(traj.turns[-1].reply))
        return cls(traj, users, agents)

    def picture_before(self, k: int) -> bool:
        """A picture was sent in a customer message that agent turn ``k`` has seen."""
        return any(u.picture for u in self.users[: k + 1])

    def strong_picture_before(self, k: int) -> bool:
        """A picture that is not described as blurry / unremarkable was sent before turn ``k``."""
        return any(u.picture and not u.weak_picture for u in self.users[: k + 1])

    def supported_before(self, k: int) -> bool:
        """The complaint holds up on what agent turn ``k`` has seen (the SOP's evidence test).

        Support is a convincing picture, or, without the risk-control flag and without an
        inconclusive picture, specific details (six words or more) given in answer to the
        agent's question. With the flag both are needed. Any hedging ("I guess", "maybe")
        by the customer withdraws support.
        """
        seen = self.users[: k + 1]
        if any(u.hedged for u in seen):
            return False
        details = any(
            j >= 1
            and A.PROBE_DETAIL in self.agents[j - 1].acts
            and seen[j].words >= 6
            and not seen[j].refuses_details
            for j in range(len(seen))
        )
        strong = self.strong_picture_before(k)
        if self.traj.rc_tag:
            return strong and details
        weak = any(u.weak_picture for u in seen)
        return strong or (details and not weak)

    def voucher_turn(self) -> int | None:
        """Index of the agent turn that issued the voucher, or None."""
        return next((a.index for a in self.agents if a.issued), None)

    def offered_before(self, k: int) -> bool:
        return any(A.OFFER_VOUCHER in a.acts for a in self.agents[:k])

    def accepted_offer_at(self, k: int) -> bool:
        """Customer message ``k`` accepts a voucher the agent offered in turn ``k - 1``."""
        return (
            k >= 1
            and k - 1 < len(self.agents)
            and A.OFFER_VOUCHER in self.agents[k - 1].acts
            and self.users[k].accepts
            and not self.users[k].refuses_voucher
        )

    def rejected_voucher_before(self, k: int) -> bool:
        """The customer said no to a voucher in a message agent turn ``k`` has seen."""
        return any(u.refuses_voucher for u in self.users[: k + 1])

    def previous_responses(self, k: int) -> list[str]:
        return [a.response for a in self.agents[:k] if a.response]

    def repeats_refused_move(self, k: int, *, see_action: bool = False) -> bool:
        """Agent turn ``k`` repeats the move the customer just turned down.

        Args:
            see_action: count an issued voucher (the action) as re-offering one; without it
                only the response text is read (the Comm judge's view).
        """
        u, a = self.users[k], self.agents[k]
        vouchers = (
            A.OFFER_VOUCHER in a.acts or A.CLAIM_VOUCHER in a.acts or (see_action and a.issued)
        )
        return bool(
            (u.refuses_evidence and A.ASK_EVIDENCE in a.acts)
            or (u.refuses_details and A.PROBE_DETAIL in a.acts)
            or (u.refuses_voucher and vouchers)
            or (u.repeat_complaint and a.acts & QUESTIONS)
        )
