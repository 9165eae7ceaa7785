"""Failures are never scored: lost dialogues leave the means, the advantage batch and λ."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from interactcs.rewards import compose
from interactcs.rollout.metrics import headline
from interactcs.train.config import TrainConfig
from interactcs.train.trainer import Trainer
from interactcs.types import EndReason, FormatStatus, Trajectory, Turn


def _traj(sid: str, *, sat: int | None, reason: str, voucher: bool = False) -> Trajectory:
    turn = Turn(0, "hi", "<raw>", "t", "r", "voucher" if voucher else "chat", FormatStatus.OK)
    if voucher:
        turn.costs = {"voucher": 1.0}
    return Trajectory(
        sid,
        3,
        2,
        "taste",
        "hi",
        [turn],
        satisfaction=sat,
        end_reason=reason,
        voucher_issued=voucher,
    )


def test_headline_counts_lost_dialogues_and_scores_only_the_rest() -> None:
    ok = _traj("a", sat=4, reason=EndReason.USER_END, voucher=True)
    fmt = _traj("b", sat=None, reason=EndReason.FORMAT_FAILURE)
    fmt.turns[0].status = FormatStatus.MISSING_TAG
    sim = _traj("c", sat=None, reason=EndReason.SIMULATOR_FAILURE)
    agent = _traj("d", sat=None, reason=EndReason.POLICY_FAILURE)
    judge = _traj("e", sat=5, reason=EndReason.USER_END, voucher=True)
    judge.turns[0].process_detail = {"failure": "HTTP 500 after 3 attempts"}
    assert [t.lost for t in (ok, fmt, sim, agent, judge)] == [
        None,
        None,
        "simulator",
        "agent",
        "judge",
    ]
    h = headline([ok, fmt, sim, agent, judge])
    # scored: ok (4, finished, voucher) and fmt (lowest score 1, not finished, no voucher)
    assert h["n"] == 5 and h["scored"] == 2 and h["lost"] == 3
    assert (h["lost_simulator"], h["lost_agent"], h["lost_judge"]) == (1, 1, 1)
    assert h["satisfaction_mean"] == pytest.approx(2.5)
    assert h["finish_rate"] == pytest.approx(0.5)
    assert h["voucher_rate"] == pytest.approx(0.5)
    assert h["cost_rate/voucher"] == pytest.approx(0.5)


def test_lost_dialogues_leave_the_advantage_batch(tmp_path: Path, monkeypatch) -> None:
    cfg = TrainConfig.load(
        None,
        [
            "steps=1",
            "batch_prompts=2",
            "group_size=3",
            "train_size=8",
            "heldout_size=4",
            "eval_seeds=1",
            "sft.enabled=off",
            "log_tensorboard=false",
            f"out={tmp_path}",
        ],
    )
    trainer = Trainer(cfg)
    trainer._setup_optim()
    trainer.ref = trainer._frozen_copy()
    real_collect = trainer.collect

    def collect(step: int) -> list[Trajectory]:
        trajs = real_collect(step)
        trajs[0].end_reason = EndReason.SIMULATOR_FAILURE  # group 0 loses one dialogue
        trajs[4].end_reason = EndReason.POLICY_FAILURE  # group 1 too
        return trajs

    seen: list[list[Trajectory]] = []
    real_from = compose.from_trajectories

    def spy(trajs, **kw):  # type: ignore[no-untyped-def]
        seen.append(list(trajs))
        return real_from(trajs, **kw)

    monkeypatch.setattr(trainer, "collect", collect)
    monkeypatch.setattr("interactcs.train.trainer.from_trajectories", spy)
    m = trainer.train_step(1)
    assert len(seen[0]) == 4 and all(t.lost is None for t in seen[0])
    assert m["rollout/lost_simulator"] == 1 and m["rollout/lost_agent"] == 1
    assert m["rollout/lost_judge"] == 0
    lines = (tmp_path / "lost_dialogues.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["lost"] for x in lines) == ["agent", "simulator"]
    # group-normalised outcome: each group's two scored dialogues alone
    batch = real_from(seen[0])
    assert np.isfinite(batch.outcome).all()
