"""Ask a model for one dialogue's customer traits, strictly parsed, with repair retries.

Usage::

    client = OpenAIChatClient("http://127.0.0.1:8000/v1", "Qwen2.5-72B-Instruct")
    outcomes = asyncio.run(extract_all(client, masked_dialogues, concurrency=8))
    [o.dialogue_id for o in outcomes if o.traits is None]     # failed, with o.error

Parsing (:func:`parse_json_answer`) accepts one JSON object whose keys and value types match
the pydantic model exactly (no missing or extra key, no ``"3"`` for ``3``); one surrounding
Markdown code fence is the only decoration tolerated. An answer that does not fit is sent
back with the problem, up to ``max_attempts`` answers in all. A transport failure (after the
client's own HTTP retries) ends the dialogue's extraction at once. Either way the dialogue is
recorded as failed and nothing is filled in for it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from interactcs.llm.base import ChatClient
from interactcs.personas.logs import Dialogue
from interactcs.personas.prompts import extract_messages, repair_message

__all__ = [
    "DialogueTraits",
    "ExtractionOutcome",
    "JsonAnswer",
    "JsonAnswerError",
    "ask_json",
    "extract_all",
    "extract_dialogue",
    "parse_json_answer",
]

M = TypeVar("M", bound=BaseModel)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=800)]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class DialogueTraits(BaseModel):
    """What one dialogue shows about its customer (the per-dialogue extraction)."""

    model_config = ConfigDict(extra="forbid")

    summary: Text
    communication_style: Text
    information_disclosure: Text
    problem_solving: Text
    affective_style: Text
    catchphrases: list[Phrase] = Field(max_length=8)
    traits: list[Phrase] = Field(min_length=1, max_length=8)
    goals: list[Phrase] = Field(min_length=1, max_length=6)
    cooperation: int = Field(ge=1, le=5, description="cooperation category 1..5")
    need: int | None = Field(ge=1, le=4, description="FDS need type 1..4, None = other")
    need_text: Text


class JsonAnswerError(ValueError):
    """The model's answer is not the JSON object asked for (message fit to send back)."""


def _strip_fence(text: str) -> str:
    t = text.strip()
    if t.startswith("```") and t.endswith("```") and len(t) >= 6:
        first, _, rest = t[3:-3].partition("\n")
        return (rest if first.strip().lower() in ("", "json") else t[3:-3]).strip()
    return t


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "answer"
        parts.append(f"{loc}: {err['msg']}")
    more = f" (+{exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return "; ".join(parts) + more


def parse_json_answer(text: str | None, model: type[M]) -> M:
    """Parse ``text`` as exactly one JSON object matching ``model`` (strict types).

    Raises:
        JsonAnswerError: empty, not JSON, not an object, or not matching ``model``.
    """
    if not text or not text.strip():
        raise JsonAnswerError("the answer is empty")
    try:
        obj = json.loads(_strip_fence(text))
    except json.JSONDecodeError as exc:
        raise JsonAnswerError(f"it is not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise JsonAnswerError(f"it must be a JSON object, not {type(obj).__name__}")
    try:
        return model.model_validate(obj, strict=True)
    except ValidationError as exc:
        raise JsonAnswerError(_describe(exc)) from None


@dataclass(slots=True)
class JsonAnswer(Generic[M]):
    """Result of :func:`ask_json`: ``value`` or ``None`` with the last ``error``."""

    value: M | None
    error: str | None
    attempts: int


async def ask_json(
    client: ChatClient,
    messages: list[dict[str, str]],
    model: type[M],
    *,
    max_attempts: int = 3,
    **params: Any,
) -> JsonAnswer[M]:
    """Ask until the answer parses as ``model``; repair prompts name each problem.

    Args:
        client: any :class:`~interactcs.llm.base.ChatClient`.
        messages: the opening chat messages.
        model: pydantic model the answer must match.
        max_attempts: most answers asked for (>= 1).
        **params: passed to ``client.complete`` (``temperature``, ``max_tokens``,
            ``response_format``, ...).

    Returns:
        :class:`JsonAnswer`; ``attempts`` counts model answers asked for.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
    chat = list(messages)
    error = ""
    for attempt in range(1, max_attempts + 1):
        res = await client.complete(chat, **params)
        if res.text is None:
            return JsonAnswer(None, f"request failed: {res.error}", attempt)
        try:
            return JsonAnswer(parse_json_answer(res.text, model), None, attempt)
        except JsonAnswerError as exc:
            error = str(exc)
        chat = [*chat, {"role": "assistant", "content": res.text}, repair_message(error)]
    return JsonAnswer(None, f"no valid answer after {max_attempts} attempts: {error}", max_attempts)


@dataclass(slots=True)
class ExtractionOutcome:
    """One dialogue's extraction: ``traits`` or ``None`` with ``error``."""

    dialogue_id: str
    traits: DialogueTraits | None
    error: str | None
    attempts: int


async def extract_dialogue(
    client: ChatClient, dialogue: Dialogue, *, max_attempts: int = 3, **params: Any
) -> ExtractionOutcome:
    """Extract one (already masked) dialogue's traits; see :func:`ask_json`."""
    ans = await ask_json(
        client, extract_messages(dialogue.transcript()), DialogueTraits,
        max_attempts=max_attempts, **params,
    )  # fmt: skip
    return ExtractionOutcome(dialogue.dialogue_id, ans.value, ans.error, ans.attempts)


async def extract_all(
    client: ChatClient,
    dialogues: Sequence[Dialogue],
    *,
    concurrency: int = 8,
    max_attempts: int = 3,
    progress: Callable[[int], Any] | None = None,
    **params: Any,
) -> list[ExtractionOutcome]:
    """Extract every dialogue, ``concurrency`` at a time.

    Args:
        client: chat client (its own concurrency limit applies as well).
        dialogues: masked dialogues; pass the output of
            :func:`~interactcs.personas.logs.mask_dialogues`, never raw logs.
        concurrency: most dialogues in flight at once (>= 1).
        max_attempts: answers asked for per dialogue.
        progress: called with 1 as each dialogue finishes.
        **params: passed to ``client.complete``.

    Returns:
        One outcome per dialogue, in input order.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    sem = asyncio.Semaphore(concurrency)

    async def one(d: Dialogue) -> ExtractionOutcome:
        async with sem:
            out = await extract_dialogue(client, d, max_attempts=max_attempts, **params)
        if progress is not None:
            progress(1)
        return out

    return list(await asyncio.gather(*(one(d) for d in dialogues)))
