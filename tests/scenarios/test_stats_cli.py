"""scenario_stats and the `interactcs data` sub-app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from interactcs.cli.data import register
from interactcs.scenarios.generator import generate_scene
from interactcs.scenarios.loaders import load_scenarios
from interactcs.scenarios.stats import scenario_stats

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "fds_small.parquet"


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:  # keeps `data` a sub-command
        pass

    register(app)
    return app


def test_stats_counts() -> None:
    st = scenario_stats(generate_scene("hard", 128, seed=0))
    assert st.n == 128 and st.by_category == {1: 12, 2: 40, 3: 32, 4: 32, 5: 12}
    assert sum(st.by_need.values()) == 128 and sum(st.by_rc_tag.values()) == 128
    assert sum(st.need_by_category[2].values()) == 40
    assert st.share("by_category", 2) == 40 / 128
    d = st.to_dict()
    assert d["by_rc_tag"].keys() == {"false", "true"} and d["by_category"]["2"] == 40


def test_cli_stats_table_and_json(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(_app(), ["data", "stats", str(FIXTURE)])
    assert res.exit_code == 0, res.output
    assert "24 scenarios" in res.output and "late_delivery" in res.output
    res = runner.invoke(_app(), ["data", "stats", "easy", "--n", "128", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["by_category"] == {"1": 12, "2": 12, "3": 41, "4": 38, "5": 25}


def test_cli_bad_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    res = CliRunner().invoke(_app(), ["data", "stats", str(bad)])
    assert res.exit_code == 2 and "line 1" in res.output


def test_cli_export(tmp_path: Path) -> None:
    out = tmp_path / "h.parquet"
    res = CliRunner().invoke(
        _app(), ["data", "export", "hard", str(out), "--n", "20", "--prompt", "scenario"]
    )
    assert res.exit_code == 0, res.output
    assert load_scenarios(out) == generate_scene("hard", 20, seed=0)
    res = CliRunner().invoke(_app(), ["data", "export", str(out), str(tmp_path / "h.jsonl")])
    assert res.exit_code == 0 and len(load_scenarios(tmp_path / "h.jsonl")) == 20


def test_cli_export_with_project_prompt(tmp_path: Path) -> None:
    prompt_mod = pytest.importorskip("interactcs.env.prompt")
    out = tmp_path / "e.parquet"
    res = CliRunner().invoke(_app(), ["data", "export", "easy", str(out), "--n", "3"])
    assert res.exit_code == 0, res.output
    loaded = load_scenarios(out)
    expected = [prompt_mod.agent_system_prompt(s) for s in generate_scene("easy", 3, seed=0)]
    assert [s.agent_prompt for s in loaded] == expected
