"""Chat-client interface used by the LLM user simulator, the api: agent and the LLM judges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(slots=True)
class ChatResult:
    """One completion. ``text`` is None when the call failed after all retries."""

    text: str | None
    error: str | None = None
    attempts: int = 1
    latency_s: float = 0.0
    usage: dict[str, Any] | None = None


class ChatClient(Protocol):
    """Async chat completion over messages ``[{"role": "system"|"user"|"assistant", "content": str}]``."""

    model: str

    async def complete(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        **extra: Any,
    ) -> ChatResult: ...
