"""LLM judge of the Comm / Logic rubrics over any OpenAI-compatible endpoint.

Usage::

    from interactcs.eval.llm_judge import LLMRubricJudge
    from interactcs.eval.rubrics import COMM, LOGIC
    from interactcs.llm.openai_client import OpenAIChatClient

    client = OpenAIChatClient("http://127.0.0.1:8000/v1", "Qwen2.5-72B-Instruct")
    comm, logic = LLMRubricJudge(client, COMM), LLMRubricJudge(client, LOGIC)
    result = asyncio.run(comm.ascore(trajectory))      # RubricResult: scores or failure

The judge is asked for one JSON object, ``{"scores": {<item>: <whole number>, ...},
"reason": "..."}``, parsed strictly by :func:`parse_rubric_output`: every item present, no
other key, whole numbers within each item's range; one surrounding Markdown code fence is
the only decoration tolerated. An invalid answer is sent back with the problem and asked
again, up to ``max_attempts`` answers. A transport failure (timeout, HTTP error) after the
client's own retries is final. Either way the result is a recorded failure, never a score.

What the judge sees follows the rubric: the Comm judge gets the customer's messages and the
agent's replies only; the Logic judge also gets the case facts (incl. the customer's hidden
profile, for the reviewer's eyes), the agent's reasoning, its action and any format problem
on every turn, and how the dialogue ended (never the satisfaction score).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from interactcs.eval.judges import RubricResult
from interactcs.eval.rubrics import Rubric, RubricError
from interactcs.llm.base import ChatClient
from interactcs.scenarios.schema import CATEGORY_NAMES, COMPLAINT_TYPES, NEED_NAMES, Scenario
from interactcs.types import EndReason, Trajectory

__all__ = ["LLMRubricJudge", "RubricOutputError", "parse_rubric_output"]


class RubricOutputError(RubricError):
    """The judge's answer is not the JSON object asked for (message fit to send back)."""


def _strip_fence(text: str) -> str:
    t = text.strip()
    if t.startswith("```") and t.endswith("```") and len(t) >= 6:
        first, _, rest = t[3:-3].partition("\n")
        return (rest if first.strip().lower() in ("", "json") else t[3:-3]).strip()
    return t


def parse_rubric_output(text: str | None, rubric: Rubric) -> tuple[dict[str, int], str]:
    """Parse ``{"scores": {item: int}, "reason": str}`` strictly against ``rubric``.

    Returns:
        (validated item scores, reason or "").

    Raises:
        RubricOutputError: empty answer, not JSON, no ``scores`` object, a missing or
            unknown item, or a value that is not a whole number within the item's range.
    """
    if not text or not text.strip():
        raise RubricOutputError("the answer is empty")
    try:
        obj = json.loads(_strip_fence(text))
    except json.JSONDecodeError as exc:
        raise RubricOutputError(f"the answer is not valid JSON ({exc.msg})") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("scores"), dict):
        raise RubricOutputError('the answer must be a JSON object with a "scores" object')
    try:
        scores = rubric.validate(obj["scores"])
    except RubricError as exc:
        raise RubricOutputError(str(exc)) from None
    reason = obj.get("reason", "")
    return scores, reason if isinstance(reason, str) else json.dumps(reason)


_SYSTEM = """You review customer-service dialogues of a food delivery platform. The agent \
handles after-sales complaints (cold food, disappointing taste, food not fresh, missing or \
wrong items, late delivery). It can do two things: issue one voucher per dialogue, and report \
the case to the team. It cannot refund (to a card or otherwise), arrange a redelivery, promise \
a call from a manager or promise that someone will get in touch. It must not claim to have \
done anything the system did not do, must not invent facts, and must never say it is an AI.

{view}

Score the whole dialogue on every item below. An item scored 0-2: 2 = fully met, 1 = partly \
met (a lapse or two), 0 = not met. An item scored 0-1: 1 = met, 0 = not met.

{items}

Answer with one JSON object and nothing else:
{{"scores": {{{keys}}}, "reason": "<at most two sentences>"}}
Every item must be present, with a whole number within its range."""

_VIEW_COMM = (
    "You see only what the customer saw: the customer's messages and the agent's replies. "
    "Judge the communication, not the business decisions behind it."
)
_VIEW_LOGIC = (
    "You see the case facts (including the customer's profile, which the agent could not "
    "see), and for every agent turn its private reasoning, its reply, the action it took "
    "(chat or voucher) and any format problem. Judge the agent's reasoning and decisions."
)
_ENDINGS: dict[str, str] = {
    EndReason.USER_END: "the customer ended it",
    EndReason.TURN_CAP: "the turn limit was reached",
    EndReason.FORMAT_FAILURE: "the agent's output broke the required format",
    EndReason.POLICY_FAILURE: "the agent's backend failed",
    EndReason.SIMULATOR_FAILURE: "the customer stopped answering",
}


class LLMRubricJudge:
    """A generative judge of one rubric over a :class:`~interactcs.llm.base.ChatClient`.

    Args:
        client: chat client; transport retries are its job.
        rubric: :data:`~interactcs.eval.rubrics.COMM` or :data:`~interactcs.eval.rubrics.LOGIC`.
        max_attempts: answers requested per dialogue while they come back invalid (≥ 1).
        temperature: sampling temperature of the judge.
        max_tokens: answer length cap (tokens).
        concurrency: judge calls of this judge in flight at once.
        json_mode: send ``response_format={"type": "json_object"}`` (servers that support it).
    """

    def __init__(
        self,
        client: ChatClient,
        rubric: Rubric,
        *,
        max_attempts: int = 3,
        temperature: float = 0.0,
        max_tokens: int = 768,
        concurrency: int = 32,
        json_mode: bool = False,
    ) -> None:
        if max_attempts < 1 or concurrency < 1:
            raise ValueError("max_attempts and concurrency must be ≥ 1")
        self.client = client
        self.rubric = rubric
        self.name = f"llm:{client.model}"
        self.max_attempts = max_attempts
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.concurrency = concurrency
        self.json_mode = json_mode
        self._sems: dict[int, asyncio.Semaphore] = {}

    # -- prompt ------------------------------------------------------------------------------
    def system_prompt(self) -> str:
        """Instructions: the agent's limits, what the judge sees, the items and the format."""
        blocks = []
        for dim, items in self.rubric.dimensions().items():
            blocks.append(f"{dim.replace('_', ' ').capitalize()}:")
            blocks += [f'- "{i.key}" (0-{i.max}): {i.description}' for i in items]
        keys = ", ".join(f'"{i.key}": <0-{i.max}>' for i in self.rubric.items)
        view = _VIEW_LOGIC if self.rubric.sees_think else _VIEW_COMM
        return _SYSTEM.format(view=view, items="\n".join(blocks), keys=keys)

    def user_prompt(self, traj: Trajectory, scenario: Scenario | None = None) -> str:
        """The transcript (and, for Logic, the case facts and every turn's reasoning/action)."""
        lines: list[str] = []
        if self.rubric.sees_think:
            lines += _case_facts(traj, scenario) + [""]
        lines.append("Transcript:")
        lines.append(f"Customer: {traj.opening}")
        for k, t in enumerate(traj.turns):
            if k > 0:
                lines.append(f"Customer: {t.user_text}")
            reply = t.response if t.response else "<no reply>"
            if self.rubric.sees_think:
                lines.append(f"Agent reasoning: {t.think if t.think else '<none>'}")
                lines.append(f"Agent reply: {reply}")
                lines.append(f"Agent action: {t.action if t.action else '<none>'}")
                if not t.ok:
                    lines.append(f"[format problem: {t.status}: {t.detail}]")
            else:
                lines.append(f"Agent: {reply}")
        if traj.turns and traj.turns[-1].reply:
            lines.append(f"Customer: {traj.turns[-1].reply}")
        if self.rubric.sees_think:
            ending = _ENDINGS.get(traj.end_reason, traj.end_reason or "it stopped")
            lines += ["", f"The dialogue ended because {ending}."]
        lines += ["", f"Score the dialogue on the {len(self.rubric.items)} items."]
        return "\n".join(lines)

    # -- calls -------------------------------------------------------------------------------
    def _sem(self) -> asyncio.Semaphore:
        key = id(asyncio.get_running_loop())
        if key not in self._sems:
            self._sems[key] = asyncio.Semaphore(self.concurrency)
        return self._sems[key]

    async def ascore(self, traj: Trajectory, scenario: Scenario | None = None) -> RubricResult:
        """Ask until a valid answer or ``max_attempts``; never raises for a bad answer."""
        base = [
            {"role": "system", "content": self.system_prompt()},
            {"role": "user", "content": self.user_prompt(traj, scenario)},
        ]
        extra: dict[str, Any] = (
            {"response_format": {"type": "json_object"}} if self.json_mode else {}
        )
        msgs, error, raw = list(base), "", None
        async with self._sem():
            for attempt in range(1, self.max_attempts + 1):
                res = await self.client.complete(
                    msgs, temperature=self.temperature, max_tokens=self.max_tokens, **extra
                )
                if res.text is None:
                    return RubricResult(
                        None, failure=f"request failed: {res.error}", attempts=attempt
                    )
                raw = res.text
                try:
                    scores, reason = parse_rubric_output(raw, self.rubric)
                    return RubricResult(scores, reason, attempts=attempt)
                except RubricOutputError as exc:
                    error = f"invalid answer: {exc}"
                    note = f"That answer is invalid: {exc}. Reply again with only the JSON object."
                msgs = [
                    *base,
                    {"role": "assistant", "content": raw},
                    {"role": "user", "content": note},
                ]
        return RubricResult(None, failure=error, attempts=self.max_attempts, raw=(raw or "")[:500])


def _case_facts(traj: Trajectory, scenario: Scenario | None) -> list[str]:
    cat = CATEGORY_NAMES.get(traj.category, str(traj.category))
    need = NEED_NAMES.get(traj.need, str(traj.need))
    lines = [
        "Case facts:",
        f"- Complaint: {COMPLAINT_TYPES.get(traj.complaint, traj.complaint)}.",
        f"- Customer profile (hidden from the agent): cooperation {traj.category} ({cat}); "
        f"core need: {need}.",
        "- Risk-control flag on the order (visible to the agent): "
        + ("set: the customer has prior suspicious complaints, so compensation needs a "
           "convincing photo." if traj.rc_tag else "not set."),
    ]  # fmt: skip
    if scenario is not None:
        o = scenario.order
        lines.append(f"- Order items: {o.food_info}; merchant: {o.merchant}.")
        if o.courier_chat:
            lines.append(f"- Chat with the courier: {o.courier_chat}")
    return lines
