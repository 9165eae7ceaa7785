"""Chat-client interface used by the LLM user simulator, the api: agent and the LLM judges."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

# the user-info part of any ``scheme://user:pass@`` in a text (greedy to the authority's last @)
_USERINFO = re.compile(r"(?<=://)[^/\s?#]*@")


def redact_url(text: str) -> str:
    """``text`` (a URL, or a message quoting URLs) with credentials replaced by ``***``.

    Example: ``redact_url("http://u:secret@host:8000/v1")`` -> ``"http://***@host:8000/v1"``.
    """
    return _USERINFO.sub("***@", text) if "@" in text else text


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
