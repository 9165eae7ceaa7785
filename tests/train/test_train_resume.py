"""``train --resume`` from any point, no step logged twice, re-runs refused.

Real subprocesses hard-exit (``os._exit(137)``, what ``kill -9`` leaves behind) at a fault
point chosen by :data:`~interactcs.train.trainer.FAULT_AT_ENV`: after the SFT warm start
(before the KL reference and any checkpoint), after step 1 is logged but before its
checkpoint, or after step 3 is logged with the last checkpoint at step 2. ``--resume`` then
finishes the run, and its ``metrics.jsonl`` rows (minus ``perf/`` timings) equal an
uninterrupted run's. The tiny ``act`` config runs in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from train_cli import TINY, run_train

from interactcs.train import checkpoint as ckpt
from interactcs.train.config import TrainConfig
from interactcs.train.logger import keep_rows_upto
from interactcs.train.trainer import FAULT_AT_ENV, Trainer

SETS = [a for s in TINY for a in ("-s", s)]


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _metrics(run: Path) -> list[dict]:
    return [
        {k: v for k, v in r.items() if not k.startswith("perf/")}
        for r in _rows(run / "metrics.jsonl")
    ]


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted tiny run (the reference every resumed run must equal)."""
    out = tmp_path_factory.mktemp("full") / "run"
    done = run_train([*SETS, "--out", str(out)])
    assert done.returncode == 0, done.stderr[-2000:]
    return out


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["sft", "step:1"])
def test_resume_before_first_checkpoint_restarts_cleanly(
    fault: str, full: Path, tmp_path: Path
) -> None:
    """Killed in the warm start or in step 1 (no checkpoint yet): ``--resume`` restarts the
    run from scratch in the same folder, rewriting (not appending to) the dead attempt's
    SFT data, SFT metrics and step rows; the result equals the uninterrupted run's."""
    cut = tmp_path / "cut"
    killed = run_train([*SETS, "--out", str(cut)], {FAULT_AT_ENV: fault})
    assert killed.returncode == 137, killed.stderr[-2000:]
    assert ckpt.latest_checkpoint(cut) is None
    assert (cut / "sft_data.jsonl").stat().st_size > 0  # partial output of the dead attempt
    if fault == "step:1":
        assert [r["step"] for r in _metrics(cut)] == [1]
    resumed = run_train(["--resume", "--out", str(cut)])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "FileNotFoundError" not in resumed.stderr
    assert [r["step"] for r in _metrics(cut)] == [1, 2, 3, 4]
    assert _metrics(cut) == _metrics(full)
    for name in ("sft_data.jsonl", "sft_metrics.jsonl"):
        assert _rows(cut / name) == _rows(full / name), name
    fa = json.loads((full / "final_eval.json").read_text())
    fb = json.loads((cut / "final_eval.json").read_text())
    assert fa["trained"] == fb["trained"]


@pytest.mark.slow
def test_tensorboard_steps_unique_after_resume(full: Path, tmp_path: Path) -> None:
    """Killed after step 3 was logged (TensorBoard included) with the last checkpoint at step
    2: the resumed run logs step 3 again, and TensorBoard's reader keeps each step once
    (``purge_step``); ``metrics.jsonl`` too, and it equals the uninterrupted run's."""
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator",
        reason="tensorboard is not installed",
    )
    sets = [*SETS, "-s", "log_tensorboard=true", "-s", "checkpoint_every=2"]
    cut = tmp_path / "cut"
    killed = run_train([*sets, "--out", str(cut)], {FAULT_AT_ENV: "step:3"})
    assert killed.returncode == 137, killed.stderr[-2000:]
    assert [r["step"] for r in _metrics(cut)] == [1, 2, 3]
    resumed = run_train(["--resume", "--out", str(cut)])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert _metrics(cut) == _metrics(full)
    assert len(list((cut / "tb").glob("events.out.tfevents.*"))) == 2  # one per attempt
    acc = event_accumulator.EventAccumulator(str(cut / "tb"))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    assert "rollout/satisfaction_mean" in tags
    for tag in tags:  # every step at most once (without purge_step: 1, 2, 3, 3, 4)
        steps = [e.step for e in acc.Scalars(tag)]
        assert steps == sorted(set(steps)) and set(steps) <= {1, 2, 3, 4}, (tag, steps)
    assert [e.step for e in acc.Scalars("rollout/satisfaction_mean")] == [1, 2, 3, 4]
    want = [r["rollout/satisfaction_mean"] for r in _metrics(full)]
    got = [e.value for e in acc.Scalars("rollout/satisfaction_mean")]
    assert got == pytest.approx(want)


@pytest.mark.slow
def test_rerun_without_resume_is_refused(full: Path) -> None:
    """``train --out`` on a folder that holds a run: one line, exit 2, nothing appended."""
    before = (full / "metrics.jsonl").read_bytes()
    again = run_train([*SETS, "--out", str(full)])
    assert again.returncode == 2
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and "--resume" in lines[0] and "--out" in lines[0], again.stderr
    assert "Traceback" not in again.stderr + again.stdout
    assert (full / "metrics.jsonl").read_bytes() == before


def test_resume_without_a_started_run_is_refused(tmp_path: Path) -> None:
    """``--resume`` on a folder without config.yaml: one line, exit 2, no traceback."""
    res = run_train(["--resume", "--out", str(tmp_path / "nothing")])
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "without --resume" in lines[0], res.stderr
    assert "Traceback" not in res.stderr


def test_trainer_refuses_existing_run_and_accepts_unrelated_folder(tmp_path: Path) -> None:
    """The library guard behind the CLI: an existing run raises; other files are fine."""
    (tmp_path / "notes.txt").write_text("mine")
    assert ckpt.existing_run(tmp_path) == []
    ckpt.ensure_fresh(tmp_path)
    (tmp_path / "metrics.jsonl").write_text('{"step": 1}\n')
    cfg = TrainConfig.load(None, [*TINY, f"out={tmp_path}", "sft.enabled=off"])
    with pytest.raises(ckpt.RunExistsError, match="--resume"):
        Trainer(cfg).run()
    assert (tmp_path / "metrics.jsonl").read_text() == '{"step": 1}\n'


def test_latest_checkpoint_falls_back_to_newest_complete_folder(tmp_path: Path) -> None:
    """A kill between renaming a checkpoint and updating ``latest`` (or a stale marker) still
    finds the newest complete ``step_*`` folder; half-written temp folders never count."""
    root = tmp_path / "checkpoints"
    assert ckpt.latest_checkpoint(tmp_path) is None
    for name in ("step_000001", "step_000002", ".tmp_step_000003"):
        (root / name).mkdir(parents=True)
        (root / name / "trainer.pt").write_bytes(b"x")
    assert ckpt.latest_checkpoint(tmp_path) == root / "step_000002"  # no marker
    (root / "latest").write_text("step_000001")
    assert ckpt.latest_checkpoint(tmp_path) == root / "step_000001"  # the marker wins
    (root / "latest").write_text("step_000009")  # stale marker
    assert ckpt.latest_checkpoint(tmp_path) == root / "step_000002"


def test_reset_run_dir_keeps_only_config(tmp_path: Path) -> None:
    for name in ("config.yaml", "sft_data.jsonl", "sft_metrics.jsonl", "metrics.jsonl"):
        (tmp_path / name).write_text("{}\n")
    (tmp_path / "checkpoints" / "initial").mkdir(parents=True)
    (tmp_path / "tb").mkdir()
    removed = ckpt.reset_run_dir(tmp_path)
    assert set(removed) == {
        "sft_data.jsonl",
        "sft_metrics.jsonl",
        "metrics.jsonl",
        "checkpoints",
        "tb",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]


def test_keep_rows_upto_drops_later_steps_and_a_partial_line(tmp_path: Path) -> None:
    path = tmp_path / "lost_dialogues.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n{"step": 3}\n{"step": 3, "x": 1}\n{"step": 4, "tr')
    assert keep_rows_upto(path, 2) == 2
    assert path.read_text() == '{"step": 1}\n{"step": 2}\n'
    assert keep_rows_upto(tmp_path / "missing.jsonl", 2) == 0
    assert not (tmp_path / "missing.jsonl").exists()
