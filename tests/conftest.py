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
