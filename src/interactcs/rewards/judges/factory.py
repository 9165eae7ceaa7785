"""Build a process judge from a CLI spec: ``offline`` (rubric) or ``llm:MODEL``."""

from __future__ import annotations

from typing import Any

from interactcs.rewards.judges.base import JudgeMode, load_principles
from interactcs.rewards.judges.llm import LLMJudge
from interactcs.rewards.judges.rubric import RubricJudge

#: options of an ``llm:`` judge that belong to its HTTP client, not to :class:`LLMJudge`
_CLIENT_KEYS = ("timeout_s", "max_retries", "backoff_s")


def make_judge(
    spec: str,
    *,
    mode: JudgeMode = "turn",
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    principles: str | None = None,
    **kw: Any,
) -> RubricJudge | LLMJudge:
    """``offline``/``rubric`` -> :class:`RubricJudge`; ``llm:MODEL`` -> :class:`LLMJudge`.

    Args:
        spec: judge spec.
        mode: ``turn`` (paper: every agent turn) or ``dialogue`` (release: once per dialogue).
        base_url: OpenAI-compatible endpoint for ``llm:``.
        api_key_env: environment variable holding the API key.
        principles: path of a principle YAML (default: the project's FDS principles).
        **kw: :class:`LLMJudge` options; ``timeout_s``, ``max_retries`` and ``backoff_s`` go
            to its ``OpenAIChatClient``, and ``concurrency`` bounds both the judge's calls
            and the client's requests in flight.
    """
    pset = load_principles(principles) if principles else None
    name, _, model = spec.partition(":")
    if name in ("offline", "rubric"):
        return RubricJudge(pset, mode=mode)
    if name == "llm":
        if not model or not base_url:
            raise ValueError("llm judge needs llm:MODEL and a base URL (--base-url)")
        from interactcs.llm.openai_client import OpenAIChatClient

        client_kw = {k: kw.pop(k) for k in _CLIENT_KEYS if k in kw}
        if "concurrency" in kw:
            client_kw["concurrency"] = kw["concurrency"]
        client = OpenAIChatClient(base_url, model, api_key_env=api_key_env, **client_kw)
        return LLMJudge(client, pset, mode=mode, **kw)
    raise KeyError(f"unknown judge {spec!r}; choose offline or llm:MODEL")
