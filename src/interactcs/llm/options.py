"""Client options shared by every command that talks to an OpenAI-compatible endpoint.

Usage::

    from interactcs.llm.options import ClientOptions

    opts = ClientOptions(timeout_s=20.0, max_retries=2, concurrency=32)
    policy = make_policy(agent, base_url=url, **opts.for_spec(agent))        # api:MODEL
    sim = make_simulator(user, base_url=url, **opts.for_spec(user))          # llm:MODEL
    judges = make_eval_judges(judge, base_url=url, **opts.for_spec(judge))   # llm:MODEL

The CLI options ``--timeout``, ``--retries`` and ``--concurrency`` of ``simulate`` and
``eval`` (:mod:`interactcs.cli.common`) become one :class:`ClientOptions`; any other command
(``train``) builds the same object and passes ``for_spec(spec)`` to its factories. A field
left ``None`` keeps the client's own default (agent and simulator: 60 s, 3 retries, 64
requests in flight; LLM judge: 120 s). Specs that name no endpoint (``rule``, ``offline``,
``hf:PATH``, a run folder) get no options, so the same call works for every spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ENDPOINT_FAMILIES", "ClientOptions"]

#: spec families served by an OpenAI-compatible endpoint: ``api:MODEL`` (agent) and
#: ``llm:MODEL`` (user simulator, judges)
ENDPOINT_FAMILIES: frozenset[str] = frozenset({"api", "llm"})


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """Per-request limits of :class:`~interactcs.llm.openai_client.OpenAIChatClient` (the
    ``openai`` SDK's ``timeout`` and ``max_retries``, and a semaphore).

    Attributes:
        timeout_s: deadline of one request attempt (s): connecting, and each silence while
            sending or waiting for the answer. ``None`` = the client's default.
        max_retries: retries after a failed first attempt (timeouts, connection errors,
            HTTP 408/409/429/5xx, waiting as ``Retry-After`` says); at most
            ``1 + max_retries`` attempts. ``None`` = default.
        concurrency: most requests of one client in flight at once (per event loop);
            ``None`` = default.
    """

    timeout_s: float | None = None
    max_retries: int | None = None
    concurrency: int | None = None

    def __post_init__(self) -> None:
        if self.timeout_s is not None and not self.timeout_s > 0:
            raise ValueError(f"--timeout must be > 0 seconds, got {self.timeout_s}")
        if self.max_retries is not None and self.max_retries < 0:
            raise ValueError(f"--retries must be >= 0, got {self.max_retries}")
        if self.concurrency is not None and self.concurrency < 1:
            raise ValueError(f"--concurrency must be >= 1, got {self.concurrency}")

    def kwargs(self) -> dict[str, Any]:
        """The fields that are set, as client keyword arguments (``timeout_s``, ...)."""
        values = {
            "timeout_s": self.timeout_s,
            "max_retries": self.max_retries,
            "concurrency": self.concurrency,
        }
        return {k: v for k, v in values.items() if v is not None}

    def for_spec(self, spec: str | None) -> dict[str, Any]:
        """:meth:`kwargs` when ``spec`` names an endpoint (``api:MODEL``, ``llm:MODEL``),
        else ``{}`` (a factory such as ``offline`` or ``hf:`` does not take them)."""
        family, sep, _ = (spec or "").partition(":")
        return self.kwargs() if sep and family in ENDPOINT_FAMILIES else {}
