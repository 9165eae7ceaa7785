"""LLM process judge: a generative reward model over any OpenAI-compatible endpoint.

Usage::

    from interactcs.llm.openai_client import OpenAIChatClient
    from interactcs.rewards.judges.llm import LLMJudge

    judge = LLMJudge(OpenAIChatClient("http://127.0.0.1:8000/v1", "Qwen2.5-32B-Instruct"))
    stats = judge.judge(trajs)          # every agent turn scored concurrently, in place
    stats.failure_rate

The judge asks for one JSON object, ``{"scores": {<principle>: 0 | 0.5 | 1, ...},
"reason": "..."}``, and parses it strictly (:func:`parse_judge_output`): exactly the
principle names, every score in {0, 0.5, 1}; one surrounding Markdown code fence is the only
decoration tolerated. An invalid answer is sent back with the error and asked again, up to
``max_attempts`` answers in all. A transport failure (timeout, HTTP error) is final: the
client has already retried it. Failures are recorded (``process_score = None``) and left
out of the advantage, never scored 0 or 1.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any

from interactcs.llm.base import ChatClient
from interactcs.rewards.judges.base import (
    JUDGES,
    JudgeBase,
    JudgeMode,
    JudgeStats,
    PrincipleSet,
    check_level,
)
from interactcs.scenarios.schema import CATEGORY_NAMES, COMPLAINT_TYPES, Scenario
from interactcs.types import Trajectory

__all__ = ["JudgeOutputError", "LLMJudge", "parse_judge_output"]


class JudgeOutputError(ValueError):
    """The judge's answer is not the JSON object asked for."""


def _strip_fence(text: str) -> str:
    t = text.strip()
    if t.startswith("```") and t.endswith("```") and len(t) >= 6:
        body = t[3:-3]
        first, _, rest = body.partition("\n")
        return (rest if first.strip().lower() in ("", "json") else body).strip()
    return t


def parse_judge_output(text: str | None, names: Sequence[str]) -> tuple[dict[str, float], str]:
    """Parse ``{"scores": {name: 0|0.5|1}, "reason": str}`` strictly.

    Returns:
        (scores by principle name, reason or "").

    Raises:
        JudgeOutputError: with a message fit to send back to the model.
    """
    if not text or not text.strip():
        raise JudgeOutputError("the answer is empty")
    try:
        obj = json.loads(_strip_fence(text))
    except json.JSONDecodeError as exc:
        raise JudgeOutputError(f"the answer is not valid JSON ({exc.msg})") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("scores"), dict):
        raise JudgeOutputError('the answer must be a JSON object with a "scores" object')
    scores_in: dict[str, Any] = obj["scores"]
    missing = [n for n in names if n not in scores_in]
    extra = [k for k in scores_in if k not in names]
    if missing or extra:
        raise JudgeOutputError(
            f'"scores" must have exactly the keys {list(names)}; missing {missing}, unknown {extra}'
        )
    scores: dict[str, float] = {}
    for n in names:
        try:
            scores[n] = check_level(scores_in[n])
        except ValueError as exc:
            raise JudgeOutputError(f'"{n}": {exc}') from None
    reason = obj.get("reason", "")
    return scores, reason if isinstance(reason, str) else str(reason)


_SYSTEM = """You review the work of a customer-service agent for a food delivery platform.
The agent handles after-sales complaints (cold food, disappointing taste, food not fresh,
missing or wrong items, late delivery). Its only costly tool is a voucher, which it may issue
at most once per dialogue and only when the complaint holds up. It may not refund to a card,
promise redelivery, promise a call from a manager or say "we will contact you"; besides a
voucher it can only report the case to the team. It must not claim to have done anything the
system did not do, must not invent facts, and must never say it is an AI.

Score {target} against each principle below on this scale:
{levels}

Principles:
{principles}

Answer with one JSON object and nothing else:
{{"scores": {{{keys}}}, "reason": "<one sentence>"}}
Each score must be 0, 0.5 or 1."""


def _agent_line(turn: Any, show_think: bool) -> str:
    parts = []
    if show_think and turn.think:
        parts.append(f"(private reasoning: {turn.think})")
    parts.append(f"reply: {turn.response if turn.response is not None else '<missing>'}")
    parts.append(f"action: {turn.action if turn.action is not None else '<missing>'}")
    if not turn.ok:
        parts.append(f"[format problem: {turn.status}]")
    return "Agent: " + " | ".join(parts)


class LLMJudge(JudgeBase):
    """Generative process judge over a :class:`~interactcs.llm.base.ChatClient`.

    Args:
        client: chat client (e.g. ``OpenAIChatClient``); transport retries are its job.
        principles: principle set (default: the project's file).
        mode: ``"turn"`` (paper) or ``"dialogue"`` (release).
        max_attempts: answers requested per unit when they come back invalid (≥ 1).
        temperature: sampling temperature of the judge.
        max_tokens: answer length cap.
        concurrency: judge calls in flight at once.
        show_think: show the agent's private reasoning to the judge.
        json_mode: send ``response_format={"type": "json_object"}`` (servers that support it).
    """

    name = "llm"

    def __init__(
        self,
        client: ChatClient,
        principles: PrincipleSet | None = None,
        *,
        mode: JudgeMode = "turn",
        max_attempts: int = 3,
        temperature: float = 0.0,
        max_tokens: int = 512,
        concurrency: int = 32,
        show_think: bool = False,
        json_mode: bool = False,
    ) -> None:
        super().__init__(principles, mode)
        if max_attempts < 1 or concurrency < 1:
            raise ValueError("max_attempts and concurrency must be ≥ 1")
        self.client = client
        self.max_attempts = max_attempts
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.concurrency = concurrency
        self.show_think = show_think
        self.json_mode = json_mode

    # -- prompt ------------------------------------------------------------------------------
    def system_prompt(self, category: int) -> str:
        """The judge's instructions, with the guidance for this cooperation category."""
        ps = self.principles
        blocks = [
            f"- {p.name} (weight {p.weight:g}): {p.description}\n  {p.guidance_for(category)}"
            for p in ps.principles
        ]
        levels = "\n".join(f"  {k}: {v}" for k, v in ps.levels.items()) or "  1 / 0.5 / 0"
        keys = ", ".join(f'"{n}": <score>' for n in ps.names)
        target = "the LAST agent turn" if self.mode == "turn" else "the whole dialogue"
        return _SYSTEM.format(target=target, levels=levels, principles="\n".join(blocks), keys=keys)

    def user_prompt(self, traj: Trajectory, upto: int | None, scenario: Scenario | None) -> str:
        """Case facts and the transcript (through agent turn ``upto``; all turns if None)."""
        cat = CATEGORY_NAMES.get(traj.category, str(traj.category))
        lines = [
            f"Customer cooperation level: {traj.category} ({cat}).",
            f"Complaint: {COMPLAINT_TYPES.get(traj.complaint, traj.complaint)}.",
            "Order risk-control flag: "
            + ("set (prior suspicious complaints)." if traj.rc_tag else "not set."),
        ]
        if scenario is not None:
            o = scenario.order
            lines.append(f"Order items: {o.food_info}. Merchant: {o.merchant}.")
            if o.courier_chat:
                lines.append(f"Courier chat: {o.courier_chat}")
        lines += ["", "Transcript:", f"Customer: {traj.opening}"]
        turns = traj.turns if upto is None else traj.turns[: upto + 1]
        for k, t in enumerate(turns):
            if k > 0:
                lines.append(f"Customer: {t.user_text}")
            lines.append(_agent_line(t, self.show_think))
        if upto is None and turns and turns[-1].reply:
            lines.append(f"Customer: {turns[-1].reply}")
        what = f"agent turn {upto + 1} (the last one above)" if upto is not None else "the dialogue"
        lines += ["", f"Score {what}."]
        return "\n".join(lines)

    # -- calls -------------------------------------------------------------------------------
    async def _ask(self, messages: list[dict[str, str]], stats: JudgeStats) -> dict[str, Any]:
        """Request until a valid answer or ``max_attempts``; returns detail for ``_write``."""
        extra: dict[str, Any] = (
            {"response_format": {"type": "json_object"}} if self.json_mode else {}
        )
        msgs = list(messages)
        error, raw = "", None
        for attempt in range(1, self.max_attempts + 1):
            stats.requests += 1
            res = await self.client.complete(
                msgs, temperature=self.temperature, max_tokens=self.max_tokens, **extra
            )
            if res.text is None:
                return {"error": f"request failed: {res.error}", "attempts": attempt}
            raw = res.text
            try:
                scores, reason = parse_judge_output(raw, self.principles.names)
                return {"scores": scores, "reason": reason, "attempts": attempt}
            except JudgeOutputError as exc:
                problem = str(exc)
                error = f"invalid answer: {problem}"
            note = f"That answer is invalid: {problem}. Reply again with only the JSON object."
            msgs = [
                *messages,
                {"role": "assistant", "content": raw},
                {"role": "user", "content": note},
            ]
        return {"error": error, "attempts": self.max_attempts, "raw": (raw or "")[:500]}

    async def ajudge(
        self,
        trajectories: Sequence[Trajectory],
        *,
        scenarios: Mapping[str, Scenario] | None = None,
    ) -> JudgeStats:
        """Judge every unit concurrently (at most ``concurrency`` in flight) and write results."""
        stats = JudgeStats()
        sem = asyncio.Semaphore(self.concurrency)
        units = [
            (traj, k)
            for traj in trajectories
            for k in ([None] if self.mode == "dialogue" else range(len(traj.turns)))
        ]
        stats.units = len(units)

        async def one(traj: Trajectory, k: int | None) -> None:
            scenario = (scenarios or {}).get(traj.scenario_id)
            messages = [
                {"role": "system", "content": self.system_prompt(traj.category)},
                {"role": "user", "content": self.user_prompt(traj, k, scenario)},
            ]
            async with sem:
                detail = await self._ask(messages, stats)
            scores = detail.pop("scores", None)
            self._write(traj, k, scores, stats, **detail)

        await asyncio.gather(*(one(t, k) for t, k in units))
        return stats


JUDGES.add("llm", LLMJudge)
