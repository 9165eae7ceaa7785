"""The project's own scenario bank: personas, needs and an order pool (package data).

Everything under ``scenarios/data/`` is written by the project in its own words:

- ``personas.jsonl``: one :class:`Persona` per line, at least four per cooperation category,
  each with all four intrinsic dimensions (communication, disclosure, problem solving,
  affective style) plus catchphrases, traits and goals.
- ``categories.json``: category key -> one-line description.
- ``needs.json``: need key -> role-play instruction for the user simulator.
- ``orders.json``: cuisines (merchants, mains, sides, drinks), fees, and courier-chat
  snippets keyed by complaint type (``any`` = usable for every complaint).

Usage::

    bank = load_bank()
    bank.personas_for(1)        # tuple of category-1 personas
    bank.demand(4)              # CoreDemand for Feedback Focus
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from .schema import CATEGORY_NAMES, COMPLAINT_TYPES, NEED_NAMES, CoreDemand, Persona


@dataclass(frozen=True)
class Cuisine:
    """One cuisine of the order pool."""

    name: str
    merchants: tuple[str, ...]
    mains: tuple[str, ...]
    sides: tuple[str, ...]
    drinks: tuple[str, ...]


@dataclass(frozen=True)
class ScenarioBank:
    """Loaded bank. ``courier_chats`` maps a complaint key or ``"any"`` to chat snippets."""

    personas: tuple[Persona, ...]
    needs: dict[int, str]
    categories: dict[int, str]
    cuisines: tuple[Cuisine, ...]
    fees: tuple[str, ...]
    courier_chats: dict[str, tuple[str, ...]]

    def personas_for(self, category: int) -> tuple[Persona, ...]:
        """Personas of one cooperation category (1..5)."""
        return tuple(p for p in self.personas if p.category == category)

    def demand(self, need: int) -> CoreDemand:
        """The :class:`CoreDemand` for need key 1..4."""
        return CoreDemand(need=need, name=NEED_NAMES[need], instruction=self.needs[need])


def _read(name: str) -> str:
    return resources.files("interactcs.scenarios").joinpath("data", name).read_text("utf-8")


def _personas(categories: dict[int, str]) -> tuple[Persona, ...]:
    out = []
    for line in _read("personas.jsonl").splitlines():
        if line.strip():
            raw: dict[str, Any] = json.loads(line)
            cat = int(raw["category"])
            raw.setdefault("category_name", CATEGORY_NAMES[cat])
            raw.setdefault("category_description", categories[cat])
            out.append(Persona.model_validate(raw))
    return tuple(out)


@lru_cache(maxsize=1)
def load_bank() -> ScenarioBank:
    """Load (once) and check the bank shipped with the package.

    Raises:
        ValueError: a category without personas, a missing need, or a complaint type
            without courier chats would make generated scenes silently skewed.
    """
    categories = {int(k): v for k, v in json.loads(_read("categories.json")).items()}
    needs = {int(k): v for k, v in json.loads(_read("needs.json")).items()}
    orders = json.loads(_read("orders.json"))
    bank = ScenarioBank(
        personas=_personas(categories),
        needs=needs,
        categories=categories,
        cuisines=tuple(
            Cuisine(name, *(tuple(c[k]) for k in ("merchants", "mains", "sides", "drinks")))
            for name, c in orders["cuisines"].items()
        ),
        fees=tuple(orders["fees"]),
        courier_chats={k: tuple(v) for k, v in orders["courier_chats"].items()},
    )
    missing = [f"personas for category {c}" for c in CATEGORY_NAMES if not bank.personas_for(c)]
    missing += [f"need {k}" for k in NEED_NAMES if k not in needs]
    missing += [f"chats for {k}" for k in ("any", *COMPLAINT_TYPES) if k not in bank.courier_chats]
    if missing:
        raise ValueError(f"scenario bank incomplete: {missing}")
    return bank
