"""Typed records shared by every layer: messages, parsed agent turns, user replies, trajectories.

Data flows one way (scenario -> env -> rollout -> rewards -> advantage -> trainer -> eval);
these records are what travels along it. Scenario records live in
:mod:`interactcs.scenarios.schema`.

A dialogue is: the user's opening message, then agent turn / user reply pairs. Each
:class:`Turn` holds one agent turn (the text it answered, its parsed think/response/action,
its costs and format status) and the user's reply to it (``None`` when the dialogue ended
without a reply: format failure, turn cap, simulator failure).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

Role = Literal["system", "user", "agent"]


class FormatStatus(StrEnum):
    """Outcome of parsing one agent output against the ``<think>/<response>/<action>`` protocol."""

    OK = "ok"
    MISSING_TAG = "missing_tag"  # a required tag is absent, unclosed or duplicated
    EMPTY_RESPONSE = "empty_response"  # <response> present but blank
    UNKNOWN_ACTION = "unknown_action"  # <action> is not one of the allowed actions
    SECOND_VOUCHER = "second_voucher"  # a voucher when one was already issued
    CONTRADICTION = "contradiction"  # response text disagrees with the action
    ACTION_LIMIT = "action_limit"  # a scenario pack's action taken more often than its limit
    NOT_PRODUCED = "not_produced"  # the agent's backend failed: no output (a lost dialogue)


#: kinds of :attr:`Trajectory.lost` dialogues, in report order
LOST_KINDS: tuple[str, ...] = ("simulator", "agent", "judge")


class EndReason(StrEnum):
    """Why a dialogue stopped."""

    USER_END = "user_end"  # user emitted [end:X]  -> terminated
    FORMAT_FAILURE = "format_failure"  # agent broke the protocol -> terminated
    TURN_CAP = "turn_cap"  # max agent turns reached -> truncated
    SIMULATOR_FAILURE = (
        "simulator_failure"  # simulator could not produce a valid reply -> terminated
    )
    POLICY_FAILURE = "policy_failure"  # agent backend failed (e.g. HTTP error after retries)


@dataclass(slots=True)
class Message:
    """One chat message. ``role`` is from the agent's point of view: ``user`` is the customer."""

    role: Role
    content: str


@dataclass(slots=True)
class AgentTurn:
    """One agent output, parsed. Never raised on: malformed text gives a non-OK ``status``.

    Attributes:
        raw: the text exactly as the policy produced it.
        think, response: tag contents (stripped) or ``None`` when absent.
        action: normalised action word (``"chat"``, ``"voucher"``, ...) or the raw unknown word.
        status: :class:`FormatStatus`.
        detail: human-readable reason for a non-OK status.
    """

    raw: str
    think: str | None
    response: str | None
    action: str | None
    status: FormatStatus = FormatStatus.OK
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == FormatStatus.OK


@dataclass(slots=True)
class SystemState:
    """Ground truth the environment shows the user simulator after every agent turn."""

    voucher_issued: bool
    turn: int  # number of agent turns so far (1-based after the first agent turn)
    max_turns: int
    actions_taken: dict[str, int] = field(default_factory=dict)  # action name -> count


@dataclass(slots=True)
class UserReply:
    """What a user simulator returns for one user turn.

    Attributes:
        text: the utterance shown to the agent, with the ``[end:X]`` tag removed
            (a ``[Sent Picture: ...]`` tag is kept in the text, the agent sees it).
        end: the user ended the dialogue.
        satisfaction: 1-5 when ``end`` (required then), else the simulator's current
            estimate or ``None``.
        picture: description from ``[Sent Picture: ...]`` if the user sent evidence.
        failure: non-empty when the simulator could not produce a valid reply after
            retries; the dialogue then stops with ``EndReason.SIMULATOR_FAILURE``.
        meta: free-form simulator diagnostics (latent state, detected acts, raw text).
    """

    text: str
    end: bool = False
    satisfaction: int | None = None
    picture: str | None = None
    failure: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Turn:
    """One agent turn and the user's reply to it."""

    index: int  # 0-based agent turn index
    user_text: str  # the user utterance this agent turn answers
    raw: str
    think: str | None
    response: str | None
    action: str | None
    status: FormatStatus
    detail: str = ""
    costs: dict[str, float] = field(default_factory=dict)  # cost type -> amount charged this turn
    reply: str | None = None  # user's reply after this turn (None if the dialogue ended first)
    acts: list[str] = field(default_factory=list)  # dialogue acts detected in the response
    process_score: float | None = None  # judge score in [0, 1]; None = not judged / judge failed
    process_detail: dict[str, Any] | None = None  # per-principle scores, judge failure, ...
    user_meta: dict[str, Any] = field(default_factory=dict)
    policy_meta: dict[str, Any] = field(default_factory=dict)  # e.g. act-policy strategy id

    @property
    def ok(self) -> bool:
        return self.status == FormatStatus.OK


@dataclass(slots=True)
class Trajectory:
    """A whole dialogue with its outcome; serialised one JSON object per line."""

    scenario_id: str
    category: int  # cooperation category 1..5
    need: int  # core need type 1..4
    complaint: str  # complaint type key (see scenarios.schema.COMPLAINT_TYPES)
    opening: str  # user's first message
    turns: list[Turn] = field(default_factory=list)
    satisfaction: int | None = None  # final 1..5 from the user; None if never ended
    terminated: bool = False
    truncated: bool = False
    end_reason: str = ""
    failures: list[dict[str, Any]] = field(default_factory=list)
    voucher_issued: bool = False
    seed: int | None = None
    group: int | None = None  # group id for GRPO-style groups (same scenario)
    agent: str = ""
    user_sim: str = ""
    scene: str | None = None
    rc_tag: bool = False
    dialogue_scores: dict[str, Any] = field(default_factory=dict)  # e.g. comm / logic / judge
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        """Finish-rate criterion: every agent turn followed the format and hard rules."""
        return all(t.ok for t in self.turns) and self.end_reason not in (
            EndReason.FORMAT_FAILURE,
            EndReason.POLICY_FAILURE,
        )

    @property
    def lost(self) -> str | None:
        """Why the dialogue is lost to an infrastructure failure, or None.

        ``simulator`` (the user simulator gave no valid reply after retries), ``agent`` (the
        agent's backend failed: an endpoint error after retries, a crashed model call) or
        ``judge`` (a process judgement failed after retries). A lost dialogue says nothing
        about the agent's behaviour: it is never scored (excluded from the Sat / FR /
        V-Rate means and from training's advantage batch) and counted per kind
        (:data:`LOST_KINDS`).
        """
        if self.end_reason == EndReason.SIMULATOR_FAILURE:
            return "simulator"
        if self.end_reason == EndReason.POLICY_FAILURE:
            return "agent"
        details = [t.process_detail for t in self.turns]
        details.append(self.dialogue_scores.get("process_detail"))
        if any(isinstance(d, dict) and "failure" in d for d in details):
            return "judge"
        return None

    def total_cost(self, cost_type: str = "voucher") -> float:
        return float(sum(t.costs.get(cost_type, 0.0) for t in self.turns))

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for t in d["turns"]:
            t["status"] = str(t["status"])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trajectory:
        d = dict(d)
        turns = [Turn(**{**t, "status": FormatStatus(t["status"])}) for t in d.pop("turns", [])]
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(turns=turns, **{k: v for k, v in d.items() if k in names})
