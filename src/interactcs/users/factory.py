"""Build a user simulator from a CLI spec: ``offline`` or ``llm:MODEL``.

Usage::

    make_simulator("offline")
    make_simulator("llm:Qwen2.5-32B-Instruct", base_url="http://127.0.0.1:8000/v1",
                   temperature=1.2, timeout_s=30)

Spec grammar: ``NAME[:ARG]``; NAME is a key of :data:`~interactcs.users.base.SIMULATORS`.
Modules that register simulators are imported lazily. For ``llm:MODEL`` the base URL comes
from ``base_url`` or, when that is ``None``, the ``OPENAI_BASE_URL`` environment variable;
the API key is read from the variable named by ``api_key_env`` at request time.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from interactcs.users.base import SIMULATORS, UserSimulator

#: simulator name -> module that registers it
_PROVIDERS = {
    "offline": "interactcs.users.offline",
    "llm": "interactcs.users.llm_sim",
}


def make_simulator(
    spec: str,
    *,
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    **kwargs: Any,
) -> UserSimulator:
    """Return the simulator named by ``spec`` (see module docstring).

    Args:
        spec: ``offline`` or ``llm:MODEL`` (or another registered name).
        base_url: OpenAI-compatible endpoint for ``llm:`` (ignored by ``offline``).
        api_key_env: environment variable holding the API key (ignored by ``offline``).
        **kwargs: simulator options (``temperature``, ``max_tokens``, ``max_repairs``) and
            client options (``timeout_s``, ``max_retries``, ``backoff_s``, ``concurrency``)
            for ``llm:``; constructor options for ``offline``.

    Raises:
        KeyError: unknown simulator name (the message lists the valid ones).
        ValueError: ``llm`` without a model or without a base URL.
    """
    name, _, arg = spec.partition(":")
    module = _PROVIDERS.get(name)
    if module is not None and name not in SIMULATORS:
        importlib.import_module(module)
    if name not in SIMULATORS:
        known = sorted(set(SIMULATORS.available()) | set(_PROVIDERS))
        raise KeyError(f"unknown user simulator {spec!r}; choose one of {', '.join(known)}")
    factory = SIMULATORS.get(name)
    if name == "llm":
        if not arg:
            raise ValueError("spec 'llm' needs a model name: llm:MODEL")
        url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not url:
            raise ValueError(
                f"{spec!r} needs an OpenAI-compatible base URL: pass base_url "
                "(CLI --base-url, e.g. http://127.0.0.1:8000/v1) or set OPENAI_BASE_URL"
            )
        return factory(arg, base_url=url, api_key_env=api_key_env, **kwargs)
    return factory(arg, **kwargs) if arg else factory(**kwargs)
