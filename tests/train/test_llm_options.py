"""``train --timeout/--retries/--concurrency``: config fields reach the HTTP clients of an
``llm:`` user simulator and judge; the defaults keep the clients' own (60 s, 3, 64 / 32)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from interactcs.train.components import build_judge, build_simulator
from interactcs.train.config import ConfigError, TrainConfig

LLM = ["user_sim=llm:sim-model", "judge=llm:judge-model", "base_url=http://127.0.0.1:9/v1"]


def test_defaults_match_the_clients_own() -> None:
    cfg = TrainConfig.load(None, LLM)
    sim, judge = build_simulator(cfg), build_judge(cfg)
    for client in (sim.client, judge.client):
        assert (client.timeout_s, client.max_retries, client.concurrency) == (60.0, 3, 64)
    assert judge.concurrency == 32


def test_options_reach_simulator_and_judge_clients() -> None:
    cfg = TrainConfig.load(None, [*LLM, "llm_timeout=5", "llm_retries=0", "llm_concurrency=7"])
    sim, judge = build_simulator(cfg), build_judge(cfg)
    for client in (sim.client, judge.client):
        assert (client.timeout_s, client.max_retries, client.concurrency) == (5.0, 0, 7)
    assert judge.concurrency == 7
    assert judge.client.model == "judge-model" and sim.client.model == "sim-model"


def test_offline_parts_ignore_the_options() -> None:
    cfg = TrainConfig.load(None, ["llm_timeout=5", "llm_retries=1", "llm_concurrency=2"])
    assert build_simulator(cfg) is not None and build_judge(cfg) is not None


@pytest.mark.parametrize("bad", ["llm_timeout=0", "llm_retries=-1", "llm_concurrency=0"])
def test_bad_values_name_the_field(bad: str) -> None:
    with pytest.raises(ConfigError, match=bad.split("=")[0]):
        TrainConfig.load(None, [bad])


def test_cli_flags_set_the_fields(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import interactcs.cli.train as train_cli
    from interactcs.cli.main import app

    seen: dict[str, Any] = {}

    def fake_run(cfg: TrainConfig, resume: bool) -> tuple[dict[str, Any], Path]:
        seen["cfg"] = cfg
        return {}, tmp_path

    monkeypatch.setattr(train_cli, "_run", fake_run)
    monkeypatch.setattr(train_cli, "_print_result", lambda *a: None)
    out = tmp_path / "run"
    args = ["train", "--timeout", "7.5", "--retries", "1", "--concurrency", "4", "--out", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    cfg = seen["cfg"]
    assert (cfg.llm_timeout, cfg.llm_retries, cfg.llm_concurrency) == (7.5, 1, 4)
