"""``interactcs eval-tau2`` end to end on one retail task (needs the extra)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("tau2")

from typer.testing import CliRunner  # noqa: E402

from interactcs.cli.main import app  # noqa: E402

ARGS = ["eval-tau2", "--domain", "retail", "--policy", "replay-gold", "--user", "scripted"]


def test_self_check_command(tmp_path: Path) -> None:
    out = tmp_path / "run"
    runner = CliRunner()
    res = runner.invoke(app, [*ARGS, "--num-tasks", "1", "--trials", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "tau2_summary.json").read_text())
    assert summary["retail"]["pass_hat"] == {"1": 1.0, "2": 1.0}
    assert "| retail | 1 | 100.0 | 100.0 |" in res.output
    assert (out / "tau2" / "retail.json").is_file()
    # a second run into the same folder stops with a message instead of a prompt
    again = runner.invoke(app, [*ARGS, "--num-tasks", "1", "--out", str(out)], input="y\n")
    assert again.exit_code == 2 and "--overwrite" in again.output
    redo = runner.invoke(app, [*ARGS, "--num-tasks", "1", "--out", str(out), "--overwrite"])
    assert redo.exit_code == 0, redo.output
    assert json.loads((out / "tau2_summary.json").read_text())["retail"]["n_trials"] == 1


@pytest.mark.parametrize(
    "extra",
    [["--domain", "mock"], ["--split", "dev"], ["--policy", "nonsense"], ["--user", "robot"]],
)
def test_bad_arguments_exit_2(tmp_path: Path, extra: list[str]) -> None:
    args = [*ARGS, "--out", str(tmp_path), *extra]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
