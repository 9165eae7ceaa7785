"""Process-judge interface, principle files, and the shared bookkeeping of both judges.

Usage::

    from interactcs.rewards.judges import JUDGES, load_principles
    principles = load_principles()                  # the project's file (4 principles, 1/1/1/2)
    judge = JUDGES.get("rubric")(principles, mode="turn")
    stats = judge.judge(trajectories)               # writes Turn.process_score / process_detail

A judge scores each principle on {0, 0.5, 1}; the process reward is the weighted mean of the
principle scores, in [0, 1]. Modes:

- ``turn`` (paper): every agent turn is scored; results go to ``Turn.process_score`` and
  ``Turn.process_detail``.
- ``dialogue`` (release): one score per dialogue, in ``Trajectory.dialogue_scores["process"]``
  and ``["process_detail"]``.

A failed judgement (invalid output after retries, transport failure) is recorded as
``process_score = None`` with ``process_detail["failure"]``; it is never silently scored.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

from interactcs.registry import Registry
from interactcs.scenarios.schema import Scenario
from interactcs.types import Trajectory

__all__ = [
    "JUDGES",
    "SCORE_LEVELS",
    "JudgeMode",
    "JudgeStats",
    "Principle",
    "PrincipleSet",
    "ProcessJudge",
    "load_principles",
]

SCORE_LEVELS: tuple[float, ...] = (0.0, 0.5, 1.0)
JudgeMode = Literal["turn", "dialogue"]
_GUIDANCE_KEYS = {"all", "1", "2", "3", "4", "5"}


@dataclass(frozen=True)
class Principle:
    """One judging principle.

    Attributes:
        name: identifier used in judge output (e.g. ``persona_fit``).
        weight: relative weight (> 0).
        description: one-line statement of the principle.
        guidance: cooperation category ``"1"``..``"5"`` or ``"all"`` -> what good and bad look
            like for that category.
    """

    name: str
    weight: float
    description: str
    guidance: Mapping[str, str] = field(default_factory=dict)

    def guidance_for(self, category: int) -> str:
        """Guidance for a cooperation category, falling back to ``all``."""
        return self.guidance.get(str(category), self.guidance.get("all", ""))


@dataclass(frozen=True)
class PrincipleSet:
    """The principles a judge scores, with their weights."""

    name: str
    principles: tuple[Principle, ...]
    levels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [p.name for p in self.principles]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"principle names must be non-empty and unique, got {names}")
        for p in self.principles:
            if not p.weight > 0:
                raise ValueError(f"principle {p.name!r}: weight must be > 0, got {p.weight}")
            bad = set(p.guidance) - _GUIDANCE_KEYS
            if bad:
                raise ValueError(
                    f"principle {p.name!r}: guidance keys {sorted(bad)} not in {sorted(_GUIDANCE_KEYS)}"
                )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.principles)

    @property
    def weights(self) -> dict[str, float]:
        return {p.name: p.weight for p in self.principles}

    def combine(self, scores: Mapping[str, float]) -> float:
        """Weighted mean of per-principle scores, in [0, 1]. Every principle is required."""
        missing = [n for n in self.names if n not in scores]
        if missing:
            raise KeyError(f"missing principle scores {missing}")
        total = sum(p.weight for p in self.principles)
        return sum(p.weight * float(scores[p.name]) for p in self.principles) / total


def load_principles(path: str | Path | None = None) -> PrincipleSet:
    """Load a principle YAML file (default: the project's ``rewards/principles/fds.yaml``).

    Format: ``name``, optional ``levels``, and ``principles``: a list of ``{name, weight,
    description, guidance: {"1".."5" | "all": text}}``.
    """
    if path is None:
        text = (resources.files("interactcs.rewards") / "principles" / "fds.yaml").read_text()
        where = "interactcs/rewards/principles/fds.yaml"
    else:
        text, where = Path(path).read_text(encoding="utf-8"), str(path)
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("principles"), list):
        raise ValueError(f"{where}: expected a mapping with a 'principles' list")
    items = []
    for i, p in enumerate(data["principles"]):
        try:
            items.append(
                Principle(
                    name=str(p["name"]),
                    weight=float(p["weight"]),
                    description=str(p.get("description", "")).strip(),
                    guidance={str(k): str(v).strip() for k, v in (p.get("guidance") or {}).items()},
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{where}: principle #{i}: {exc!r}") from None
    levels = {str(k): str(v) for k, v in (data.get("levels") or {}).items()}
    return PrincipleSet(str(data.get("name", Path(where).stem)), tuple(items), levels)


@dataclass
class JudgeStats:
    """What one judging pass did.

    Attributes:
        units: turns (turn mode) or dialogues (dialogue mode) to judge.
        judged: units that received a score.
        failed: units left unscored (``process_score`` None).
        requests: model calls made (0 for offline judges).
        failures: ``{"scenario_id", "turn" (None in dialogue mode), "error", "attempts"}``.
    """

    units: int = 0
    judged: int = 0
    failed: int = 0
    requests: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failure_rate(self) -> float:
        return self.failed / self.units if self.units else 0.0

    def as_metrics(self, prefix: str = "judge/") -> dict[str, float]:
        return {
            f"{prefix}units": float(self.units),
            f"{prefix}failure_rate": self.failure_rate,
            f"{prefix}requests": float(self.requests),
        }


class ProcessJudge(Protocol):
    """Scores agent turns (or dialogues) against a :class:`PrincipleSet`, in place."""

    name: str
    mode: JudgeMode
    principles: PrincipleSet

    async def ajudge(
        self,
        trajectories: Sequence[Trajectory],
        *,
        scenarios: Mapping[str, Scenario] | None = None,
    ) -> JudgeStats: ...

    def judge(
        self,
        trajectories: Sequence[Trajectory],
        *,
        scenarios: Mapping[str, Scenario] | None = None,
    ) -> JudgeStats: ...


JUDGES: Registry[type[Any]] = Registry("process judge")


def check_level(value: Any) -> float:
    """Return ``value`` as a float if it is one of {0, 0.5, 1} (not a bool), else raise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"score {value!r} is not a number")
    v = float(value)
    if not any(math.isclose(v, lvl) for lvl in SCORE_LEVELS):
        raise ValueError(f"score {value!r} is not one of 0, 0.5, 1")
    return v


class JudgeBase:
    """Shared parts: mode check, writing results, the sync wrapper."""

    name = ""

    def __init__(self, principles: PrincipleSet | None, mode: JudgeMode) -> None:
        if mode not in ("turn", "dialogue"):
            raise ValueError(f"judge mode must be 'turn' or 'dialogue', got {mode!r}")
        self.principles = principles or load_principles()
        self.mode: JudgeMode = mode

    def judge(
        self,
        trajectories: Sequence[Trajectory],
        *,
        scenarios: Mapping[str, Scenario] | None = None,
    ) -> JudgeStats:
        """Synchronous :meth:`ajudge` (runs its own event loop)."""
        return asyncio.run(self.ajudge(trajectories, scenarios=scenarios))

    async def ajudge(
        self,
        trajectories: Sequence[Trajectory],
        *,
        scenarios: Mapping[str, Scenario] | None = None,
    ) -> JudgeStats:
        raise NotImplementedError

    def _write(
        self,
        traj: Trajectory,
        turn: int | None,
        scores: Mapping[str, float] | None,
        stats: JudgeStats,
        **detail: Any,
    ) -> None:
        """Record one judgement (``scores`` None = failure, with ``detail["error"]``)."""
        info: dict[str, Any] = {"judge": self.name, "principles": self.principles.name}
        if scores is None:
            info["failure"] = detail.pop("error", "unknown failure")
            stats.failed += 1
            stats.failures.append(
                {
                    "scenario_id": traj.scenario_id,
                    "turn": turn,
                    "error": info["failure"],
                    "attempts": detail.get("attempts"),
                }
            )
            value = None
        else:
            info["scores"] = dict(scores)
            value = self.principles.combine(scores)
            stats.judged += 1
        info.update(detail)
        if turn is None:
            traj.dialogue_scores["process"] = value
            traj.dialogue_scores["process_detail"] = info
        else:
            traj.turns[turn].process_score = value
            traj.turns[turn].process_detail = info
