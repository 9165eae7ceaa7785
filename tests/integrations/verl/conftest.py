"""Fixtures of the verl integration tests (helpers live in ``verl_helpers.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from verl_helpers import EXAMPLES


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture()
def verl_config(tmp_path: Path) -> Any:
    """The example config (examples/verl/fds_cmpo.yaml) composed by Hydra, offline world."""
    import interactcs.integrations.verl  # noqa: F401
    from hydra import compose, initialize_config_dir

    overrides = [
        f"trainer.default_local_dir={tmp_path / 'ckpt'}",
        "interactcs.user_sim=offline",
        "interactcs.judge=offline",
    ]
    with initialize_config_dir(config_dir=str(EXAMPLES), version_base=None):
        return compose(config_name="fds_cmpo", overrides=overrides)
