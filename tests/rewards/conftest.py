"""Hand-built trajectories for the reward tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from interactcs.types import EndReason, FormatStatus, Trajectory, Turn


def build_traj(
    turns: list[tuple[str, str | None, str | None]],
    *,
    opening: str = "My fries arrived cold.",
    category: int = 3,
    satisfaction: int | None = 4,
    end_reason: str = EndReason.USER_END,
    statuses: list[FormatStatus] | None = None,
    rc_tag: bool = False,
    **kw: Any,
) -> Trajectory:
    """``turns``: (user text the agent answers, response, action); user_text of turn 0 is the
    opening. A ``voucher`` action on an OK turn costs 1 voucher."""
    out = []
    for k, (user, response, action) in enumerate(turns):
        status = statuses[k] if statuses else FormatStatus.OK
        costs = {"voucher": 1.0} if action == "voucher" and status == FormatStatus.OK else {}
        out.append(
            Turn(
                index=k,
                user_text=opening if k == 0 else user,
                raw="",
                think=None,
                response=response,
                action=action,
                status=status,
                costs=costs,
                reply=turns[k + 1][0] if k + 1 < len(turns) else None,
            )
        )
    truncated = end_reason == EndReason.TURN_CAP
    return Trajectory(
        scenario_id=kw.pop("scenario_id", "s0"),
        category=category,
        need=kw.pop("need", 3),
        complaint=kw.pop("complaint", "temperature"),
        opening=opening,
        turns=out,
        satisfaction=satisfaction if end_reason == EndReason.USER_END else None,
        terminated=not truncated,
        truncated=truncated,
        end_reason=str(end_reason),
        voucher_issued=any(t.costs for t in out),
        rc_tag=rc_tag,
        **kw,
    )


@pytest.fixture
def make_traj() -> Callable[..., Trajectory]:
    return build_traj
