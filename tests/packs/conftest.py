"""Fixtures for pack tests: a writable copy of the returns pack to break on purpose."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from interactcs.packs.loader import BUILTIN_DIR


@pytest.fixture
def returns_copy(tmp_path: Path) -> Path:
    """A private copy of ``packs/returns`` (a folder path, so it loads as a user pack)."""
    dst = tmp_path / "returns_copy"
    shutil.copytree(BUILTIN_DIR / "returns", dst)
    return dst


@pytest.fixture
def edit_yaml() -> Callable[[Path, Callable[[Any], None]], None]:
    """``edit_yaml(path, fn)``: load YAML, let ``fn`` mutate it, write it back."""

    def edit(path: Path, fn: Callable[[Any], None]) -> None:
        data = yaml.safe_load(path.read_text())
        fn(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    return edit
