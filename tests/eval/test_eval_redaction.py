"""results.json never holds the password of a ``--base-url``; library-level resume refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interactcs.eval.harness import EvalConfig, ResumeError, run_eval


def test_base_url_credentials_redacted_and_rerun_refused(tmp_path: Path) -> None:
    cfg = EvalConfig(
        policies=["rule"], out=tmp_path, users=4, seeds=1, base_url="http://bob:hunter2@h:1/v1"
    )
    run_eval(cfg)
    text = (tmp_path / "results.json").read_text()
    assert "hunter2" not in text
    assert json.loads(text)["config"]["base_url"] == "http://***@h:1/v1"
    with pytest.raises(ResumeError, match="--resume"):
        run_eval(cfg)
    cfg.resume = True
    res = run_eval(cfg)  # nothing left to run: the four dialogues are kept
    assert res["per_seed"]["rule"][0]["dialogues"] == 4
    assert len((tmp_path / "rule" / "trajectories.jsonl").read_text().splitlines()) == 4
