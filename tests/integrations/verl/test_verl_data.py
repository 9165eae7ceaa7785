"""``interactcs verl prepare-data``: verl-layout parquet from any scenario source.

The CLI tests run without verl; the dataset round trip reads the file with verl's own
RLHFDataset (skipped without the extra).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from interactcs.cli.main import app
from interactcs.integrations.verl.data import scenario_from_row
from interactcs.scenarios.loaders import load_scenarios, save_jsonl

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "fds_small.parquet"


def _same(a: Any, b: Any) -> bool:
    """Equal scenarios up to the agent prompt (the file carries the project's prompt)."""
    return a.model_dump(exclude={"agent_prompt"}) == b.model_dump(exclude={"agent_prompt"})


@pytest.mark.parametrize("source", ["builtin", "fds", "jsonl"])
def test_prepare_data_from_any_source(source: str, tmp_path: Path) -> None:
    if source == "builtin":
        arg, want = "hard", load_scenarios("hard", n=6, seed=3)
        extra = ["--n", "6", "--seed", "3"]
    elif source == "fds":
        arg, want, extra = str(FIXTURE), load_scenarios(FIXTURE, n=6), ["--n", "6"]
    else:
        want = load_scenarios("easy", n=5, seed=1)
        arg, extra = str(save_jsonl(want, tmp_path / "s.jsonl")), []
    out = tmp_path / "out" / "train.parquet"
    res = CliRunner().invoke(app, ["verl", "prepare-data", arg, str(out), *extra])
    assert res.exit_code == 0, res.output
    rows = pq.read_table(out).to_pylist()
    assert len(rows) == len(want)
    for i, (row, sc) in enumerate(zip(rows, want, strict=True)):
        assert row["agent_name"] == "interactcs_fds" and row["extra_info"]["index"] == i
        assert row["prompt"][0]["role"] == "system" and "# Your role" in row["prompt"][0]["content"]
        got = scenario_from_row({**row, "raw_prompt": row["prompt"], "index": i})
        assert got.scenario_id == sc.scenario_id and _same(got, sc)


def test_prepare_data_reports_bad_input(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["verl", "prepare-data", str(tmp_path / "nope.parquet"), str(tmp_path / "o.parquet")]
    )
    assert res.exit_code == 2 and "no such file" in res.output
    res = CliRunner().invoke(app, ["verl", "prepare-data", "hard", str(tmp_path / "o.csv")])
    assert res.exit_code != 0


@pytest.mark.skipif(importlib.util.find_spec("verl") is None, reason="needs interactcs[verl]")
def test_verl_dataset_reads_the_file(tmp_path: Path, tiny_tokenizer: Any) -> None:
    from omegaconf import OmegaConf
    from verl.utils.dataset.rl_dataset import RLHFDataset

    from interactcs.integrations.verl.data import prepare_data

    path = prepare_data(FIXTURE, tmp_path / "fds.parquet", n=8)
    ds = RLHFDataset(
        data_files=[str(path)],
        tokenizer=tiny_tokenizer,
        config=OmegaConf.create({"max_prompt_length": 4096, "filter_overlong_prompts": True}),
    )
    want = load_scenarios(FIXTURE, n=8)
    assert len(ds) == 8
    for i in range(8):
        row = ds[i]
        assert row["agent_name"] == "interactcs_fds" and row["index"] == i
        assert _same(scenario_from_row(row), want[i])
