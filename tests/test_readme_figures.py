"""The README's headline figures are what the default command produces.

Runs the README's main job, ``interactcs train`` with no settings (≈ 65 s on an idle 2-core
box, a few minutes on a busy one), and checks its ``final_eval.json`` against the "Result of
`interactcs train`" table of the README, within the tolerance the README states next to the
table (:data:`SAT_TOL`, :data:`RATE_TOL`). Editing either the defaults or the table without
the other fails here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
#: tolerance stated in the README under the table: satisfaction points, rate points (0–1)
SAT_TOL = 0.06
RATE_TOL = 0.03
#: README row label -> final_eval.json key
ROWS = {
    "untrained `act` policy (`initial`)": "initial",
    "after the behaviour-cloning warm start (`warm_start`)": "warm_start",
    "**CMPO-trained** (`trained`)": "trained",
}
# a number, optional "± number", optional " %": bounded, linear-time pattern
NUM = re.compile(r"(\d{1,3}(?:\.\d{1,3})?) ± \d{1,3}(?:\.\d{1,3})?( %)?")


def readme_table() -> dict[str, dict[str, float]]:
    """``{stage: {"satisfaction_mean", "voucher_rate"}}`` parsed from the README's table of
    the default run (rates as fractions)."""
    text = README.read_text(encoding="utf-8")
    start = text.index("Result of `interactcs train")
    out: dict[str, dict[str, float]] = {}
    for line in text[start : start + 3000].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] in ROWS:
            sat = NUM.search(cells[1].replace("*", ""))
            rate = NUM.search(cells[3].replace("*", ""))
            assert sat and rate, f"README row {cells[0]!r}: cannot read {cells}"
            out[ROWS[cells[0]]] = {
                "satisfaction_mean": float(sat.group(1)),
                "voucher_rate": float(rate.group(1)) / 100,
            }
    return out


def test_readme_states_the_tolerance() -> None:
    text = README.read_text(encoding="utf-8")
    assert f"± {SAT_TOL:.2f} Sat." in text and f"± {RATE_TOL * 100:.0f} pp" in text
    assert set(readme_table()) == set(ROWS.values())


@pytest.mark.slow
def test_default_train_matches_readme(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "interactcs.cli.main", "train", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((out / "final_eval.json").read_text())
    for stage, want in readme_table().items():
        got = result[stage]
        assert abs(got["satisfaction_mean"]["mean"] - want["satisfaction_mean"]) <= SAT_TOL, (
            stage,
            got["satisfaction_mean"],
            want,
        )
        assert abs(got["voucher_rate"]["mean"] - want["voucher_rate"]) <= RATE_TOL, (
            stage,
            got["voucher_rate"],
            want,
        )
