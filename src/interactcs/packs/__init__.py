"""Scenario packs: a service domain defined by a folder (``pack.yaml`` + YAML/JSONL files).

A pack states the agent's role and SOP, the allowed actions with their cost types and
amounts, a budget per cost type, the case fields and their generator, personas, needs with
P(need | category), the offline simulator's parameters and utterances, the act policy's
strategies and the judge principles. Built-in packs: ``packs/fds`` (the FDS world as it has
always been) and ``packs/returns`` (e-commerce returns: refund, voucher, replacement).

Usage::

    from interactcs.packs import load_pack, pack_of
    pack = load_pack("packs/returns")
    scenarios = load_scenarios("packs/returns", n=256)    # interactcs.scenarios.loaders
    pack_of(scenarios[0]) is pack                          # True

The format is documented in ``docs/packs.md``. Modules after ``scenarios`` in the data flow
(env, users, policies, rewards, train) read the pack of a scenario through :func:`pack_of`;
a scenario without a pack is FDS and takes the original code paths unchanged.
"""

from __future__ import annotations

from functools import lru_cache

from interactcs.packs.loader import (
    Pack,
    PackError,
    builtin_packs,
    is_pack_source,
    load_pack,
    resolve_pack,
)
from interactcs.scenarios.schema import Scenario

__all__ = [
    "Pack",
    "PackError",
    "builtin_packs",
    "is_pack_source",
    "load_pack",
    "pack_of",
    "resolve_pack",
]


@lru_cache(maxsize=64)
def _generic(ref: str) -> Pack | None:
    pack = load_pack(ref)
    return None if pack.is_fds else pack


def pack_of(scenario: Scenario) -> Pack | None:
    """The generic pack a scenario belongs to; ``None`` for FDS scenarios (cached by ref)."""
    ref = getattr(scenario, "pack", None)
    return _generic(ref) if ref else None
