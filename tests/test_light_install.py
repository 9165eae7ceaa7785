"""A light install (no ``[hf]``, ``[tb]`` or ``[parquet]`` extra) runs the act path.

Each test runs the CLI in a subprocess whose import system reports transformers, peft,
tensorboard and pyarrow as not installed (a ``sys.meta_path`` finder set up in ``-c`` code),
then prints which of them got loaded: ``simulate`` with the rule agent, a one-step ``act``
train (the tiny settings of ``tests/train/train_cli.py``) and ``eval`` of its run folder must
work and load none; an ``hf:`` policy or a ``.parquet`` file must fail in one line that names
the extra to install.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixtures" / "fds_small.parquet"

#: top-level modules of the extras (interactcs.models.EXTRAS)
ABSENT = ("transformers", "peft", "tensorboard", "pyarrow")

#: run ``interactcs ARGS`` with ABSENT unimportable; the last stdout line lists what loaded
LIGHT = f"""
import sys
ABSENT = {ABSENT!r}

class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ABSENT:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
import interactcs.cli.main as cli
sys.argv = ["interactcs", *sys.argv[1:]]
try:
    cli.main()
finally:
    print("LOADED", sorted(m for m in sys.modules if m.partition(".")[0] in ABSENT))
"""


def _tiny_train_settings() -> list[str]:
    """``train_cli.TINY`` with one step and TensorBoard asked for (it must turn itself off)."""
    spec = importlib.util.spec_from_file_location("train_cli", HERE / "train" / "train_cli.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    swap = {"steps=4": "steps=1", "log_tensorboard=false": "log_tensorboard=true"}
    sets = [swap.get(s, s) for s in mod.TINY]
    assert "steps=1" in sets and "log_tensorboard=true" in sets
    return sets


def _light(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "100"}
    env.pop("INTERACTCS_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-c", LIGHT, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def _loaded(res: subprocess.CompletedProcess[str]) -> str:
    return res.stdout.strip().splitlines()[-1]


def test_simulate_rule_without_extras(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    res = _light("simulate", "--agent", "rule", "--n", "2", "--out", str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    assert _loaded(res) == "LOADED []"
    assert json.loads((out / "summary.json").read_text())["n"] == 2
    assert len((out / "trajectories.jsonl").read_text().splitlines()) == 2


def test_act_train_and_eval_without_extras(tmp_path: Path) -> None:
    run = tmp_path / "act"
    sets = [a for s in _tiny_train_settings() for a in ("-s", s)]
    res = _light("train", *sets, "--out", str(run))
    assert res.returncode == 0, res.stdout + res.stderr
    assert _loaded(res) == "LOADED []"
    notice = [line for line in res.stderr.splitlines() if "TensorBoard" in line]
    assert notice == [
        "TensorBoard logging off: tensorboard is not installed (pip install 'interactcs[tb]')"
    ]
    assert not (run / "tb").exists()
    assert [json.loads(r)["step"] for r in (run / "metrics.jsonl").read_text().splitlines()] == [1]
    assert (run / "final_eval.json").is_file()

    ev = _light(
        "eval", "-p", "rule", "-p", str(run), "--users", "4", "--seeds", "1",
        "--out", str(tmp_path / "eval"),
    )  # fmt: skip
    assert ev.returncode == 0, ev.stdout + ev.stderr
    assert _loaded(ev) == "LOADED []"


def test_hf_policy_and_parquet_name_their_extra(tmp_path: Path) -> None:
    cases = (
        (["--agent", "hf:some/model"], "an hf: policy needs transformers and peft", "hf"),
        (["--scenarios", str(FIXTURE)], "reading fds_small.parquet needs pyarrow", "parquet"),
    )
    for args, what, extra in cases:
        res = _light("simulate", *args, "--n", "1", "--out", str(tmp_path / extra))
        assert res.returncode == 2, res.stdout + res.stderr
        err = res.stderr.strip().splitlines()
        assert len(err) <= 4 and "Traceback" not in res.stderr, res.stderr
        assert f"{what}, not installed: pip install 'interactcs[{extra}]'" in " ".join(err)
