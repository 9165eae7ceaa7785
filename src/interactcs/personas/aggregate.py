"""Group per-dialogue extractions by cooperation level and distil persona profiles.

The paper builds its persona bank by letting an LLM summarise business logs into bi-level
profiles: intrinsic traits per cooperation category and the extrinsic demands seen with
them. Here the intrinsic half becomes :class:`~interactcs.scenarios.schema.Persona` records
(one model call per group of dialogues) and the extrinsic half the empirical
P(need | category) table of :func:`needs_stats`.

Usage::

    groups = plan_groups(successful_extractions, per_category=2)   # <= 2 groups per level
    outcomes = asyncio.run(aggregate_all(client, groups))
    personas = [o.persona for o in outcomes if o.persona is not None]
    stats = needs_stats(successful_extractions, outcomes)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from interactcs.llm.base import ChatClient
from interactcs.personas.extract import DialogueTraits, Phrase, Text, ask_json
from interactcs.personas.prompts import aggregate_messages
from interactcs.scenarios.schema import CATEGORY_NAMES, NEED_GIVEN_CATEGORY, NEED_NAMES, Persona

__all__ = [
    "ProfileDraft",
    "ProfileGroup",
    "ProfileOutcome",
    "aggregate_all",
    "chunk_evenly",
    "needs_stats",
    "plan_groups",
    "to_persona",
]

T = TypeVar("T")

#: fields of a per-dialogue extraction shown to the profile call (the demand is left out:
#: personas hold intrinsic traits only, the demand is sampled from needs_stats)
_SHOWN = (
    "summary",
    "communication_style",
    "information_disclosure",
    "problem_solving",
    "affective_style",
    "catchphrases",
    "traits",
    "goals",
)


class ProfileDraft(BaseModel):
    """One distilled profile as the model returns it (intrinsic traits only)."""

    model_config = ConfigDict(extra="forbid")

    summary: Text
    communication_style: Text
    information_disclosure: Text
    problem_solving: Text
    affective_style: Text
    catchphrases: list[Phrase] = Field(min_length=1, max_length=8)
    traits: list[Phrase] = Field(min_length=1, max_length=8)
    goals: list[Phrase] = Field(min_length=1, max_length=6)


def chunk_evenly(items: Sequence[T], k: int) -> list[list[T]]:
    """Split ``items`` into ``min(k, len(items))`` contiguous chunks whose sizes differ by <= 1.

    Example: ``chunk_evenly([1, 2, 3, 4, 5], 2) == [[1, 2, 3], [4, 5]]``.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    m = min(k, len(items))
    base, extra = divmod(len(items), m) if m else (0, 0)
    out, start = [], 0
    for i in range(m):
        size = base + (1 if i < extra else 0)
        out.append(list(items[start : start + size]))
        start += size
    return out


@dataclass(slots=True)
class ProfileGroup:
    """Dialogues of one cooperation level that become one persona.

    Attributes:
        level: cooperation category 1..5.
        index: 1-based index of the group within its level.
        dialogue_ids: the dialogues distilled, in log order.
        traits: their extractions, same order.
    """

    level: int
    index: int
    dialogue_ids: list[str]
    traits: list[DialogueTraits]


def plan_groups(
    extractions: Sequence[tuple[str, DialogueTraits]], per_category: int = 1
) -> list[ProfileGroup]:
    """Group successful extractions by cooperation level, ``per_category`` chunks per level.

    Args:
        extractions: ``(dialogue_id, traits)`` in log order.
        per_category: most personas per level (a level with fewer dialogues gets one each).

    Returns:
        Groups ordered by level, then index; levels without dialogues have none.
    """
    out: list[ProfileGroup] = []
    for level in sorted(CATEGORY_NAMES):
        members = [(did, t) for did, t in extractions if t.cooperation == level]
        for i, chunk in enumerate(chunk_evenly(members, per_category), start=1):
            out.append(ProfileGroup(level, i, [d for d, _ in chunk], [t for _, t in chunk]))
    return out


def to_persona(
    draft: ProfileDraft, level: int, persona_id: str, category_description: str = ""
) -> Persona:
    """A :class:`Persona` record from a validated draft."""
    return Persona(
        persona_id=persona_id,
        category=level,
        category_name=CATEGORY_NAMES[level],
        category_description=category_description,
        **draft.model_dump(),
    )


@dataclass(slots=True)
class ProfileOutcome:
    """One group's profile call: ``persona`` or ``None`` with ``error``."""

    group: ProfileGroup
    persona_id: str
    persona: Persona | None
    error: str | None
    attempts: int


async def aggregate_all(
    client: ChatClient,
    groups: Sequence[ProfileGroup],
    *,
    id_prefix: str = "ext",
    category_descriptions: dict[int, str] | None = None,
    concurrency: int = 8,
    max_attempts: int = 3,
    progress: Callable[[int], Any] | None = None,
    **params: Any,
) -> list[ProfileOutcome]:
    """One model call (plus repairs) per group; persona ids ``{id_prefix}-c{level}-{index:02d}``.

    Args:
        client: chat client.
        groups: from :func:`plan_groups`.
        id_prefix: start of every persona id.
        category_descriptions: level -> description stored on each persona.
        concurrency: most calls in flight at once.
        max_attempts: answers asked for per group.
        progress: called with 1 as each group finishes.
        **params: passed to ``client.complete``.

    Returns:
        One outcome per group, same order.
    """
    sem = asyncio.Semaphore(concurrency)
    descriptions = category_descriptions or {}

    async def one(g: ProfileGroup) -> ProfileOutcome:
        pid = f"{id_prefix}-c{g.level}-{g.index:02d}"
        shown = [t.model_dump(include=set(_SHOWN)) for t in g.traits]
        async with sem:
            ans = await ask_json(
                client, aggregate_messages(g.level, shown), ProfileDraft,
                max_attempts=max_attempts, **params,
            )  # fmt: skip
        if progress is not None:
            progress(1)
        if ans.value is None:
            return ProfileOutcome(g, pid, None, ans.error, ans.attempts)
        persona = to_persona(ans.value, g.level, pid, descriptions.get(g.level, ""))
        return ProfileOutcome(g, pid, persona, None, ans.attempts)

    return list(await asyncio.gather(*(one(g) for g in groups)))


def _need_counts(traits: Sequence[DialogueTraits]) -> dict[str, int]:
    counts = {str(k): 0 for k in sorted(NEED_NAMES)} | {"other": 0}
    for t in traits:
        counts[str(t.need) if t.need is not None else "other"] += 1
    return counts


def needs_stats(
    extractions: Sequence[tuple[str, DialogueTraits]],
    profiles: Sequence[ProfileOutcome] = (),
    *,
    max_examples: int = 5,
) -> dict[str, Any]:
    """Empirical demand statistics: need counts per level and P(need | category).

    ``p_need_given_category`` has the shape of
    :data:`~interactcs.scenarios.schema.NEED_GIVEN_CATEGORY` (need key -> list over
    categories 1..5), normalised over the typed needs 1-4 of each category; a category with
    no typed need gets ``null``. ``need_given_category`` is the same table ready for a pack's
    ``pack.yaml``: every column sums to 1, and a column without data is copied from the FDS
    table (those categories are listed in ``need_given_category_fds_fallback``). Needs the
    model could not type count as ``"other"`` and their texts are kept as examples. ``by_persona`` gives each written persona's own counts
    (the demands seen in the dialogues it was distilled from).

    Example: category 1 with needs [1, 1, 2, other] -> counts {"1": 2, "2": 1, "3": 0,
    "4": 0, "other": 1} and column 1 of the table = [2/3, 1/3, 0, 0].
    """
    by_cat = {c: [t for _, t in extractions if t.cooperation == c] for c in sorted(CATEGORY_NAMES)}
    counts = {str(c): _need_counts(ts) for c, ts in by_cat.items()}
    table: dict[str, list[float | None]] = {str(k): [] for k in sorted(NEED_NAMES)}
    for c in by_cat:
        typed = sum(v for k, v in counts[str(c)].items() if k != "other")
        for k in table:
            table[k].append(round(counts[str(c)][k] / typed, 6) if typed else None)
    filled = {k: list(v) for k, v in table.items()}
    fallback = [c for c in by_cat if table["1"][c - 1] is None]
    for c in fallback:
        for k in filled:
            filled[k][c - 1] = NEED_GIVEN_CATEGORY[int(k)][c - 1]
    other = {
        str(c): [t.need_text for t in ts if t.need is None][:max_examples]
        for c, ts in by_cat.items()
    }
    return {
        "n_dialogues": len(extractions),
        "dialogues_by_category": {str(c): len(ts) for c, ts in by_cat.items()},
        "need_names": {str(k): v for k, v in NEED_NAMES.items()},
        "counts": counts,
        "p_need_given_category": table,
        "need_given_category": filled,
        "need_given_category_fds_fallback": fallback,
        "other_need_examples": {c: v for c, v in other.items() if v},
        "by_persona": {
            p.persona_id: _need_counts(p.group.traits) for p in profiles if p.persona is not None
        },
    }
