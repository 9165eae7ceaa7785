"""Synthetic trajectories for the report tests (no simulator needed).

A plain module (not ``conftest``) with a unique name, so tests can import it directly.
"""

from __future__ import annotations

import json
from pathlib import Path

from interactcs.types import EndReason, FormatStatus, Trajectory, Turn

XSS = '<img src=x onerror="window.__xss=1"></script><script>window.__xss=2</script>'


def make_traj(
    sid: str,
    *,
    category: int = 3,
    need: int = 3,
    voucher: bool = False,
    satisfaction: int | None = 4,
    end_reason: str = EndReason.USER_END,
    opening: str = "My noodles arrived cold.",
    extra_text: str = "",
    n_turns: int = 2,
) -> Trajectory:
    """A small dialogue; the voucher (if any) is issued on the last agent turn."""
    turns = []
    user = opening
    for i in range(n_turns):
        last = i == n_turns - 1
        action = "voucher" if voucher and last else "chat"
        response = f"I am sorry about that, turn {i}. {extra_text if last else ''}".strip()
        reply = f"[Sent Picture: cold noodles] ok {i}" if i == 0 else f"thanks {i}"
        turns.append(
            Turn(
                index=i,
                user_text=user,
                raw=f"<think>t{i}</think><response>{response}</response><action>{action}</action>",
                think=f"customer seems category {category}, turn {i}",
                response=response,
                action=action,
                status=FormatStatus.OK,
                costs={"voucher": 1.0} if action == "voucher" else {},
                reply=reply if not last or end_reason == EndReason.USER_END else None,
                acts=["apologize"],
                process_score=0.5 + 0.25 * (i % 3),
                process_detail={"persona_fit": 1.0, "stage": 0.5},
            )
        )
        user = reply
    return Trajectory(
        scenario_id=sid,
        category=category,
        need=need,
        complaint="temperature",
        opening=opening,
        turns=turns,
        satisfaction=satisfaction,
        terminated=end_reason != EndReason.TURN_CAP,
        truncated=end_reason == EndReason.TURN_CAP,
        end_reason=str(end_reason),
        voucher_issued=voucher,
        seed=0,
        agent="rule",
        user_sim="offline",
        scene="hard",
    )


def write_jsonl(path: Path, trajs: list[Trajectory]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(t.to_dict()) + "\n" for t in trajs), encoding="utf-8")
    return path


def viewer_set() -> list[Trajectory]:
    """Eight dialogues with known filter answers (see test_browser)."""
    return [
        make_traj("d01", category=1, voucher=True, satisfaction=2, extra_text="Here is a voucher."),
        make_traj("d02", category=1, voucher=True, satisfaction=4, opening="Soup spilled badly"),
        make_traj(
            "d03", category=1, voucher=False, satisfaction=1, extra_text="No refunds, sorry."
        ),
        make_traj("d04", category=2, voucher=True, satisfaction=5, need=1),
        make_traj(
            "d05",
            category=5,
            voucher=False,
            satisfaction=None,
            end_reason=EndReason.TURN_CAP,
            n_turns=3,
        ),  # fmt: skip
        make_traj("d06", category=1, voucher=True, satisfaction=3, extra_text="A voucher for you."),
        make_traj("d07", category=3, voucher=False, satisfaction=3, opening=XSS, extra_text=XSS),
        make_traj("d08", category=4, voucher=False, satisfaction=5, opening="pineapple pizza"),
    ]
