"""The CLI's one error path (``interactcs.cli.errors``): each user mistake prints at most four
lines, no traceback, exits 2 and leaves no output folder; ``--debug`` / ``INTERACTCS_DEBUG=1``
bring the traceback back.

Most cases call :func:`interactcs.cli.main.main` in-process (the console script's entry point);
one runs the installed ``interactcs`` script in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interactcs.cli.errors import (
    DEBUG_ENV,
    MAX_LINES,
    UserError,
    message_lines,
    removed_if_empty,
)
from interactcs.cli.main import app, main

#: a JSONL scenario row without the required fields
BAD_ROW = '{"scenario_id": "x"}\n'
#: a pack whose pack.yaml is valid YAML but misses every required field
BAD_PACK = "name: x\nfoo: 1\n"


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    """(exit status, non-empty output lines of stdout + stderr, the raw output)."""
    with pytest.raises(SystemExit) as info:
        main(args)
    cap = capsys.readouterr()
    text = cap.out + cap.err
    code = info.value.code if isinstance(info.value.code, int) else 1
    return code, [ln for ln in text.splitlines() if ln.strip()], text


def _assert_short(code: int, lines: list[str], text: str, out: Path, *needles: str) -> None:
    assert code == 2, text
    assert 1 <= len(lines) <= MAX_LINES, text
    assert "Traceback" not in text
    assert lines[0].startswith("error: "), text
    for needle in needles:
        assert needle in text, text
    assert not out.exists(), f"{out} was left behind"


@pytest.fixture(autouse=True)
def _no_debug_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEBUG_ENV, raising=False)


@pytest.fixture()
def bad_inputs(tmp_path: Path) -> dict[str, Path]:
    bad_jsonl = tmp_path / "bad.jsonl"
    bad_jsonl.write_text(BAD_ROW)
    pack = tmp_path / "mypack"
    pack.mkdir()
    (pack / "pack.yaml").write_text(BAD_PACK)
    broken = tmp_path / "broken.yaml"
    broken.write_text("steps: [1,\nlr: 0.1\n")
    return {"jsonl": bad_jsonl, "pack": pack, "yaml": broken}


def test_missing_scenarios_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    for cmd in (
        ["simulate", "--scenarios", str(tmp_path / "nope.jsonl"), "--n", "2"],
        ["eval", "-p", "rule", "--scene", str(tmp_path / "nope.jsonl"), "--users", "2"],
        ["train", "--scenarios", str(tmp_path / "nope.jsonl")],
    ):
        _assert_short(*_main([*cmd, "--out", str(out)], capsys), out, "nope.jsonl: no such file")


def test_unknown_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    for cmd, where in (
        (["simulate", "--agent", "gpt5", "--n", "2"], "--agent gpt5"),
        (["eval", "-p", "rule", "-p", "gpt5", "--users", "2", "--seeds", "1"], "--policy gpt5"),
        (["train", "--policy", "gpt5"], "policy gpt5"),
    ):
        res = _main([*cmd, "--out", str(out)], capsys)
        _assert_short(*res, out, f"{where}: unknown policy", "choose one of", "rule")


def test_missing_and_broken_config(
    tmp_path: Path, bad_inputs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    res = _main(["train", "-c", str(tmp_path / "nope.yaml"), "--out", str(out)], capsys)
    _assert_short(*res, out, "nope.yaml: No such file")
    res = _main(["train", "-c", str(bad_inputs["yaml"]), "--out", str(out)], capsys)
    _assert_short(*res, out, "broken.yaml: line 3 is not valid YAML")


def test_bad_scenario_rows(
    tmp_path: Path, bad_inputs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out, src = tmp_path / "out", str(bad_inputs["jsonl"])
    for cmd in (
        ["simulate", "--scenarios", src],
        ["eval", "-p", "rule", "--scene", src, "--users", "2", "--seeds", "1"],
        ["train", "--scenarios", src],
    ):
        res = _main([*cmd, "--out", str(out)], capsys)
        _assert_short(*res, out, "bad.jsonl line 1: order: Field required")


def test_bad_pack(
    tmp_path: Path, bad_inputs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out, pack = tmp_path / "out", str(bad_inputs["pack"])
    for cmd in (
        ["simulate", "--scenarios", pack],
        ["eval", "-p", "rule", "--scene", pack, "--users", "2", "--seeds", "1"],
        ["train", "--scenarios", pack],
    ):
        res = _main([*cmd, "--out", str(out)], capsys)
        _assert_short(*res, out, "mypack/pack.yaml: title: Field required")


def test_unknown_set_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    res = _main(["train", "-s", "stesp=40", "--out", str(out)], capsys)
    _assert_short(*res, out, "-s stesp=40: no config field stesp; did you mean steps?")
    res = _main(["train", "-s", "controller.kpp=1", "--out", str(out)], capsys)
    _assert_short(*res, out, "no config field controller.kpp; did you mean controller.kp?")
    res = _main(["train", "-s", "steps=0", "--out", str(out)], capsys)  # a known key, bad value
    _assert_short(*res, out, "steps: Input should be greater than or equal to 1")


def test_other_names_and_endpoints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    unfinished = tmp_path / "unfinished_run"
    unfinished.mkdir()
    (unfinished / "config.yaml").write_text("steps: 4\n")  # a run killed before step 1
    env = os.environ.pop("OPENAI_BASE_URL", None)
    try:
        for cmd, needle in (
            (["simulate", "--user", "robot"], "--user robot: unknown user simulator"),
            (["eval", "-p", "rule", "--judge", "gpt"], "--judge gpt: unknown judge"),
            (["train", "--algo", "ppo2"], "algo ppo2: unknown advantage estimator"),
            (["simulate", "--agent", "api:gpt-4.1"], "--agent api:gpt-4.1 needs an endpoint"),
            (["simulate", "--agent", "hf:./nomodel"], "no such model folder ./nomodel"),
            (["eval", "-p", str(unfinished)], "this training run has no checkpoint yet"),
        ):
            _assert_short(*_main([*cmd, "--out", str(out)], capsys), out, needle)
    finally:
        if env is not None:
            os.environ["OPENAI_BASE_URL"] = env


def test_debug_flag_and_env_show_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["simulate", "--agent", "gpt5", "--out", str(tmp_path / "o")]
    with pytest.raises(UserError, match="unknown policy"):
        main(["--debug", *args])
    monkeypatch.setenv(DEBUG_ENV, "1")
    with pytest.raises(UserError, match="unknown policy"):
        main(args)
    assert not (tmp_path / "o").exists()


def test_console_script_in_a_subprocess(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("interactcs")
    cmd = [str(script)] if script.is_file() else [sys.executable, "-m", "interactcs.cli.main"]
    env = {k: v for k, v in os.environ.items() if k != DEBUG_ENV}
    out = tmp_path / "out"
    res = subprocess.run(
        [*cmd, "eval", "--policy", "gpt5", "--users", "2", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    text = res.stdout + res.stderr
    _assert_short(res.returncode, text.strip().splitlines(), text, out, "--policy gpt5")
    res = subprocess.run(
        [*cmd, "--debug", "eval", "--policy", "gpt5", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert res.returncode == 1 and "Traceback" in res.stderr and "UserError" in res.stderr
    assert not out.exists()


def test_failed_run_removes_only_a_folder_it_created_and_left_empty(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    with pytest.raises(RuntimeError), removed_if_empty(fresh):
        (fresh / "policy").mkdir(parents=True)
        (fresh / "policy" / "trajectories.jsonl").touch()  # opened, nothing written
        raise RuntimeError("endpoint down")
    assert not fresh.exists()
    kept = tmp_path / "kept"
    with pytest.raises(RuntimeError), removed_if_empty(kept):
        kept.mkdir()
        (kept / "trajectories.jsonl").write_text("{}\n")  # one dialogue finished
        raise RuntimeError("endpoint down")
    assert (kept / "trajectories.jsonl").is_file()
    mine = tmp_path / "mine"
    mine.mkdir()
    with pytest.raises(RuntimeError), removed_if_empty(mine):
        raise RuntimeError("endpoint down")
    assert mine.is_dir()  # existed before the command: never removed


def test_long_messages_are_cut_to_four_lines() -> None:
    lines = message_lines(UserError("\n".join(f"line {i}" for i in range(1, 8))))
    assert lines == ["error: line 1", "line 2", "line 3", "(+4 more lines: rerun with --debug)"]
    assert message_lines(KeyError("unknown x; choose a")) == ["error: unknown x; choose a"]


def test_help_has_no_type_labels_on_flags_or_lists() -> None:
    runner = CliRunner()
    root = runner.invoke(app, ["--help"], env={"COLUMNS": "100"})
    assert root.exit_code == 0 and "--debug" in root.output and "INTERACTCS_DEBUG" in root.output
    for cmd in (["train"], ["eval"], ["simulate"], ["ablate"], ["verl", "prepare-data"]):
        res = runner.invoke(app, [*cmd, "--help"], env={"COLUMNS": "100"})
        assert res.exit_code == 0, res.output
        assert "<bool>" not in res.output and "<list[" not in res.output, res.output
    train_help = runner.invoke(app, ["train", "--help"], env={"COLUMNS": "100"}).output
    assert "KEY=VALUE" in train_help and "<int>" in train_help  # typed options keep their type
    eval_help = runner.invoke(app, ["eval", "--help"], env={"COLUMNS": "100"}).output
    assert "POLICY" in eval_help
