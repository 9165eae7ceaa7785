"""Logs -> persona pack: mask, extract per dialogue, distil per level, write files.

Usage::

    dialogues = load_logs("logs.jsonl")
    client = OpenAIChatClient("http://127.0.0.1:8000/v1", "Qwen2.5-72B-Instruct")
    pack = build_pack(client, dialogues, ExtractConfig(per_category=2))
    write_pack(pack, "packs/acme/personas.jsonl")
    # packs/acme/{personas.jsonl, needs_stats.json, extract_report.json}

Privacy: dialogue text is masked (:func:`~interactcs.personas.logs.mask_dialogues`) before
any prompt is built, and every string that comes back from the model is masked again before
it is used or written (a model may invent a number that looks like a phone). Dialogue ids
and ``meta`` are never sent. Nothing is invented for a failed call: a dialogue whose
extraction fails is left out (its id goes to the report), and so is a persona whose profile
call fails.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from interactcs.llm.base import ChatClient
from interactcs.personas.aggregate import aggregate_all, needs_stats, plan_groups
from interactcs.personas.extract import DialogueTraits, extract_all
from interactcs.personas.logs import Dialogue, mask_dialogues
from interactcs.personas.pii import DEFAULT_KINDS, mask_pii
from interactcs.personas.prompts import extract_messages
from interactcs.scenarios.schema import CATEGORY_NAMES, Persona

__all__ = [
    "NEEDS_FILE",
    "REPORT_FILE",
    "ExtractConfig",
    "PersonaPack",
    "abuild_pack",
    "build_pack",
    "dry_run_prompts",
    "mask_model",
    "write_pack",
]

NEEDS_FILE = "needs_stats.json"
REPORT_FILE = "extract_report.json"

B = TypeVar("B", bound=BaseModel)
ProgressFactory = Callable[[int, str], AbstractContextManager[Callable[[int], Any]]]


@dataclass(slots=True)
class ExtractConfig:
    """Settings of one extraction run.

    Attributes:
        per_category: most personas per cooperation level (dialogues of a level are split
            into this many contiguous chunks, one profile call each).
        concurrency: most model calls in flight at once.
        max_attempts: answers asked for per call (the first plus repairs of bad JSON).
        temperature: sampling temperature (``None`` = server default).
        max_tokens: answer cap per call (``None`` = server default).
        json_mode: send ``response_format={"type": "json_object"}`` (servers that support it).
        id_prefix: persona ids are ``{id_prefix}-c{level}-{index:02d}``.
        pii_kinds: kinds masked, see :data:`~interactcs.personas.pii.PII_KINDS`.
    """

    per_category: int = 1
    concurrency: int = 8
    max_attempts: int = 3
    temperature: float | None = 0.2
    max_tokens: int | None = None
    json_mode: bool = False
    id_prefix: str = "ext"
    pii_kinds: frozenset[str] = DEFAULT_KINDS

    def __post_init__(self) -> None:
        if self.per_category < 1 or self.concurrency < 1 or self.max_attempts < 1:
            raise ValueError(
                "per_category, concurrency and max_attempts must be >= 1; got "
                f"{self.per_category}, {self.concurrency}, {self.max_attempts}"
            )

    def params(self) -> dict[str, Any]:
        """Keyword arguments for ``ChatClient.complete``."""
        out: dict[str, Any] = {}
        if self.temperature is not None:
            out["temperature"] = self.temperature
        if self.max_tokens is not None:
            out["max_tokens"] = self.max_tokens
        if self.json_mode:
            out["response_format"] = {"type": "json_object"}
        return out


@dataclass(slots=True)
class PersonaPack:
    """What :func:`build_pack` produces; :func:`write_pack` stores it."""

    personas: list[Persona]
    needs_stats: dict[str, Any]
    report: dict[str, Any]
    masked_input: Counter[str] = field(default_factory=Counter)
    masked_output: Counter[str] = field(default_factory=Counter)


def mask_model(obj: B, kinds: frozenset[str] = DEFAULT_KINDS) -> tuple[B, Counter[str]]:
    """A copy of ``obj`` with PII masked in every string field and list of strings."""
    counts: Counter[str] = Counter()

    def clean(v: Any) -> Any:
        if isinstance(v, str):
            text, c = mask_pii(v, kinds)
            counts.update(c)
            return text
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v

    data = {k: clean(v) for k, v in obj.model_dump().items()}
    return type(obj).model_validate(data), counts


@contextmanager
def _no_progress(total: int, description: str) -> Iterator[Callable[[int], Any]]:
    def advance(k: int = 1) -> None:
        return None

    yield advance


def _total(counts: Counter[str]) -> dict[str, int]:
    return {**dict(sorted(counts.items())), "total": sum(counts.values())}


async def abuild_pack(
    client: ChatClient,
    dialogues: Sequence[Dialogue],
    config: ExtractConfig | None = None,
    *,
    progress: ProgressFactory | None = None,
    category_descriptions: dict[int, str] | None = None,
) -> PersonaPack:
    """Mask, extract, distil. ``progress(total, description)`` yields an ``advance(k)``.

    Args:
        client: chat client for both stages.
        dialogues: raw dialogues from :func:`~interactcs.personas.logs.load_logs`.
        config: run settings.
        progress: e.g. :func:`interactcs.cli.common.progress_bar`-like factory.
        category_descriptions: level -> text stored on each persona (default: the bank's).

    Returns:
        The pack; ``report`` lists failed dialogue ids and profile groups.
    """
    cfg = config or ExtractConfig()
    bar = progress or _no_progress
    masked, masked_in = mask_dialogues(dialogues, cfg.pii_kinds)
    masked_out: Counter[str] = Counter()
    with bar(len(masked), "extract traits") as advance:
        outcomes = await extract_all(
            client, masked, concurrency=cfg.concurrency, max_attempts=cfg.max_attempts,
            progress=advance, **cfg.params(),
        )  # fmt: skip
    extracted: list[tuple[str, DialogueTraits]] = []
    for o in outcomes:
        if o.traits is not None:
            traits, c = mask_model(o.traits, cfg.pii_kinds)
            masked_out.update(c)
            extracted.append((o.dialogue_id, traits))
    groups = plan_groups(extracted, cfg.per_category)
    if category_descriptions is None:
        from interactcs.scenarios.bank import load_bank

        category_descriptions = load_bank().categories
    with bar(len(groups), "distil profiles") as advance:
        profiles = await aggregate_all(
            client, groups, id_prefix=cfg.id_prefix, category_descriptions=category_descriptions,
            concurrency=cfg.concurrency, max_attempts=cfg.max_attempts, progress=advance,
            **cfg.params(),
        )  # fmt: skip
    personas = []
    for p in profiles:
        if p.persona is not None:
            persona, c = mask_model(p.persona, cfg.pii_kinds)
            masked_out.update(c)
            personas.append(persona)
    failed = [o for o in outcomes if o.traits is None]
    report: dict[str, Any] = {
        "n_dialogues": len(dialogues),
        "n_extracted": len(extracted),
        "n_failed": len(failed),
        "failed": [
            {"dialogue_id": o.dialogue_id, "attempts": o.attempts, "error": _clean(o.error, cfg)}
            for o in failed
        ],
        "masked_input": _total(masked_in),
        "masked_output": _total(masked_out),
        "per_category": cfg.per_category,
        "n_personas": len(personas),
        "personas_by_category": {
            str(c): sum(p.category == c for p in personas) for c in sorted(CATEGORY_NAMES)
        },
        "categories_without_dialogues": [
            c for c in sorted(CATEGORY_NAMES) if not any(t.cooperation == c for _, t in extracted)
        ],
        "failed_profiles": [
            {
                "persona_id": p.persona_id,
                "category": p.group.level,
                "dialogue_ids": p.group.dialogue_ids,
                "attempts": p.attempts,
                "error": _clean(p.error, cfg),
            }
            for p in profiles
            if p.persona is None
        ],  # fmt: skip
        "persona_sources": {
            p.persona_id: p.group.dialogue_ids for p in profiles if p.persona is not None
        },
    }
    stats = needs_stats(extracted, profiles)
    return PersonaPack(personas, stats, report, masked_in, masked_out)


def _clean(error: str | None, cfg: ExtractConfig) -> str:
    """Mask an error text too: it may quote the model's answer."""
    return mask_pii(error or "", cfg.pii_kinds)[0]


def build_pack(
    client: ChatClient,
    dialogues: Sequence[Dialogue],
    config: ExtractConfig | None = None,
    **kwargs: Any,
) -> PersonaPack:
    """Synchronous :func:`abuild_pack` (runs its own event loop)."""
    return asyncio.run(abuild_pack(client, dialogues, config, **kwargs))


def write_pack(
    pack: PersonaPack, out: str | Path, *, extra_report: dict[str, Any] | None = None
) -> list[Path]:
    """Write ``out`` (one ``Persona.model_dump()`` per line) and, beside it,
    ``needs_stats.json`` and ``extract_report.json``.

    Returns:
        The three paths written.
    """
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for p in pack.personas:
            fh.write(json.dumps(p.model_dump(), ensure_ascii=False) + "\n")
    needs = path.parent / NEEDS_FILE
    needs.write_text(json.dumps(pack.needs_stats, indent=2, ensure_ascii=False) + "\n", "utf-8")
    report = path.parent / REPORT_FILE
    body = {**(extra_report or {}), **pack.report}
    report.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return [path, needs, report]


def dry_run_prompts(
    dialogues: Sequence[Dialogue], kinds: frozenset[str] = DEFAULT_KINDS
) -> tuple[list[tuple[str, list[dict[str, str]]]], Counter[str]]:
    """The extraction prompts that a real run would send, after masking; sends nothing.

    Returns:
        (``(dialogue_id, messages)`` per dialogue, masked strings per kind). The profile
        prompts depend on the model's answers; their fixed system part is
        :data:`~interactcs.personas.prompts.AGGREGATE_SYSTEM`.
    """
    masked, counts = mask_dialogues(dialogues, kinds)
    return [(d.dialogue_id, extract_messages(d.transcript())) for d in masked], counts
