"""Fixtures of the verl integration tests (helpers live in ``verl_helpers.py``)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from verl_helpers import EXAMPLES


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="session")
def composed_verl_config() -> Any:
    """The example config (examples/verl/fds_cmpo.yaml) composed by Hydra, offline world."""
    from hydra import compose, initialize_config_dir

    import interactcs.integrations.verl  # noqa: F401

    overrides = ["interactcs.user_sim=offline", "interactcs.judge=offline"]
    with initialize_config_dir(config_dir=str(EXAMPLES), version_base=None):
        return compose(config_name="fds_cmpo", overrides=overrides)


@pytest.fixture()
def verl_config(composed_verl_config: Any, tmp_path: Path) -> Any:
    """A private copy of the composed example config, checkpoints under ``tmp_path``."""
    from omegaconf import open_dict

    cfg = copy.deepcopy(composed_verl_config)
    with open_dict(cfg):
        cfg.trainer.default_local_dir = str(tmp_path / "ckpt")
    return cfg
