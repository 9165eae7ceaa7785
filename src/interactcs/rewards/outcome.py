"""Outcome reward: the user's final satisfaction, normalised to [0, 1].

Usage::

    from interactcs.rewards.outcome import OutcomeConfig, outcome_reward
    outcome_reward(traj)                       # (S - 1) / 4, or 0.0 if truncated / failed
    outcome_reward(traj, OutcomeConfig(fail_value=-0.25))

A dialogue earns the normalised satisfaction only when the user ended it (``[end:X]``,
``EndReason.USER_END``) with a score in range. Truncated (turn cap) and failed (format,
simulator, policy failure) dialogues get ``fail_value``, by default the lowest outcome 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from interactcs.types import EndReason, Trajectory

__all__ = ["OutcomeConfig", "outcome_reward", "raw_satisfaction"]


@dataclass(frozen=True)
class OutcomeConfig:
    """How satisfaction becomes the outcome reward.

    Attributes:
        min_sat: lowest satisfaction on the user's scale (maps to 0).
        max_sat: highest satisfaction (maps to 1).
        fail_value: outcome of a truncated or failed dialogue (default: the lowest, 0).
    """

    min_sat: int = 1
    max_sat: int = 5
    fail_value: float = 0.0

    def __post_init__(self) -> None:
        if self.max_sat <= self.min_sat:
            raise ValueError(f"max_sat ({self.max_sat}) must exceed min_sat ({self.min_sat})")


def raw_satisfaction(traj: Trajectory, cfg: OutcomeConfig | None = None) -> float | None:
    """Final satisfaction when the user ended the dialogue with an in-range score, else None."""
    cfg = cfg or OutcomeConfig()
    s = traj.satisfaction
    if traj.truncated or traj.end_reason != EndReason.USER_END or s is None:
        return None
    if not cfg.min_sat <= s <= cfg.max_sat:
        return None
    return float(s)


def outcome_reward(traj: Trajectory, cfg: OutcomeConfig | None = None) -> float:
    """(S − min)/(max − min) for a user-ended dialogue, ``fail_value`` otherwise."""
    cfg = cfg or OutcomeConfig()
    s = raw_satisfaction(traj, cfg)
    if s is None:
        return cfg.fail_value
    return (s - cfg.min_sat) / (cfg.max_sat - cfg.min_sat)
