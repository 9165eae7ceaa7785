"""``simulate --resume`` / ``eval --resume`` after ``kill -9``: every dialogue exactly once.

Real subprocesses are killed with SIGKILL while they append dialogues, a partial last line is
added as a writer killed mid-line would leave it, then the run is resumed. A re-run without
``--resume`` is refused with one line and exit status 2, and the finished dialogues stay.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

CLI = [sys.executable, "-c", "from interactcs.cli.main import app; app()"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600)


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _kill_after(args: list[str], path: Path, lines: int) -> None:
    """Start the CLI, SIGKILL it once ``path`` has ``lines`` lines, then cut a line in half."""
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while _lines(path) < lines and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    with path.open("a", encoding="utf-8") as fh:  # a writer killed in the middle of a line
        fh.write('{"scenario_id": "half-writ')


def _keys(path: Path, *fields: str) -> Counter[tuple]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return Counter(
        tuple(r["meta"].get(f) if f == "eval_seed" else r[f] for f in fields) for r in rows
    )


def test_simulate_kill9_then_resume(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    traj = out / "trajectories.jsonl"
    args = ["simulate", "--n", "400", "--max-live", "1", "--out", str(out)]
    _kill_after(args, traj, lines=20)
    written = _lines(traj)
    assert 20 <= written < 400

    refused = _cli(*args)  # no --resume: refuse, keep the file
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1 and "--resume" in refused.stderr
    assert _lines(traj) == written

    other = _cli(*args[:-2], "--seed", "1", "--out", str(out), "--resume")  # another run's file
    assert other.returncode == 2 and "not part of this run" in other.stderr

    done = _cli(*args, "--resume")
    assert done.returncode == 0, done.stderr
    keys = _keys(traj, "scenario_id", "seed")
    assert len(keys) == 400 and set(keys.values()) == {1}
    assert traj.read_text(encoding="utf-8").endswith("}\n")
    assert json.loads((out / "summary.json").read_text())["n"] == 400


def test_eval_kill9_then_resume(tmp_path: Path) -> None:
    out = tmp_path / "ev"
    traj = out / "rule" / "trajectories.jsonl"
    args = ["eval", "-p", "rule", "--users", "150", "--seeds", "2", "--max-live", "1"]
    args += ["--out", str(out)]
    _kill_after(args, traj, lines=20)
    written = _lines(traj)
    assert 20 <= written < 300

    refused = _cli(*args)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert _lines(traj) == written

    done = _cli(*args, "--resume")
    assert done.returncode == 0, done.stderr
    keys = _keys(traj, "eval_seed", "scenario_id", "seed")
    assert len(keys) == 300 and set(keys.values()) == {1}
    results = json.loads((out / "results.json").read_text())
    assert [s["dialogues"] for s in results["per_seed"]["rule"]] == [150, 150]


@pytest.mark.parametrize("tail", [b"", b'{"scenario_id": "x', b'{"a": 1}', b"  "])
def test_recover_jsonl_drops_or_completes_the_last_line(tmp_path: Path, tail: bytes) -> None:
    from interactcs.rollout.writer import JsonlWriter, recover_jsonl

    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"a": 0}\n' + tail)
    rows = recover_jsonl(path)
    assert rows[0] == {"a": 0} and len(rows) == (2 if tail == b'{"a": 1}' else 1)
    with JsonlWriter(path) as w:
        w.write({"a": 2})
    assert [json.loads(x) for x in path.read_text().splitlines()] == [*rows, {"a": 2}]
    assert recover_jsonl(tmp_path / "missing.jsonl") == []
