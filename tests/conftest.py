"""Shared fixtures: paths to ../shared (skipped with a reason when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} not present (the public FDS data lives beside the project root)")
    return SHARED


@pytest.fixture(scope="session")
def fds_dir(shared_dir: Path) -> Path:
    d = shared_dir / "fds"
    if not d.is_dir():
        pytest.skip(f"{d} not present")
    return d


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Qwen2-shaped chat model + BPE tokenizer, built once per session (~1 s)."""
    from interactcs.policies.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny_model"))
