"""One CMPO config for both backends: the same YAML builds the same advantage settings (every
field, ``process_std_floor`` included) and the same controllers through the embedded path
(``cmpo_settings`` on ``TrainConfig.load``) and through verl's ``interactcs:`` section."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.importorskip("verl")

from omegaconf import OmegaConf  # noqa: E402

from interactcs.algo.advantages import AdvantageConfig  # noqa: E402
from interactcs.integrations.verl.settings import VerlSettings  # noqa: E402
from interactcs.integrations.verl.trainer import CMPOTrainer  # noqa: E402
from interactcs.train.cmpo_settings import ADVANTAGE_FIELDS, advantage_config  # noqa: E402
from interactcs.train.components import build_controllers  # noqa: E402
from interactcs.train.config import TrainConfig  # noqa: E402

CMPO_YAML = """
use_outcome: true
use_process: true
use_cost: false
cost_mode: dialogue
outcome_coef: 0.75
process_coef: 1.5
process_std_floor: 0.1
judge_mode: dialogue
max_turns: 9
budgets: {voucher: 0.25}
controller: {name: pid, init: 0.4, kp: 1.5, ki: 0.3, kd: 0.7, lambda_max: 3.0}
"""

#: a non-default value of every advantage field (the test proves each one travels)
CHANGED = {
    "use_outcome": False,
    "use_process": False,
    "use_cost": False,
    "cost_mode": "turn",
    "outcome_coef": 0.5,
    "process_coef": 2.0,
    "process_std_floor": 0.05,
}


def _both(text: str, tmp_path: Path) -> tuple[TrainConfig, VerlSettings]:
    path = tmp_path / "cmpo.yaml"
    path.write_text(text)
    embedded = TrainConfig.load(path)
    section = yaml.safe_load(text) or {}
    verl = VerlSettings.from_config(OmegaConf.create({"interactcs": section}))
    return embedded, verl


def _assert_same(a: AdvantageConfig, b: AdvantageConfig) -> None:
    for f in dataclasses.fields(AdvantageConfig):
        assert getattr(a, f.name) == getattr(b, f.name), f.name


@pytest.mark.parametrize("text", [CMPO_YAML, ""], ids=["set", "defaults"])
def test_process_std_floor_and_every_advantage_setting_match(text: str, tmp_path: Path) -> None:
    embedded, verl = _both(text, tmp_path)
    emb_adv, verl_adv = advantage_config(embedded), verl.advantage_config()
    _assert_same(emb_adv, verl_adv)
    want_floor = 0.1 if text else 0.25  # 0.25: the embedded default, now verl's too
    assert emb_adv.process_std_floor == verl_adv.process_std_floor == want_floor
    a, b = build_controllers(embedded).state_dict(), verl.build_controllers().state_dict()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@pytest.mark.parametrize("field", ADVANTAGE_FIELDS)
def test_each_advantage_field_travels_to_both(field: str, tmp_path: Path) -> None:
    embedded, verl = _both(yaml.safe_dump({field: CHANGED[field]}), tmp_path)
    emb_adv, verl_adv = advantage_config(embedded), verl.advantage_config()
    _assert_same(emb_adv, verl_adv)
    assert (
        getattr(verl_adv, field)
        == CHANGED[field]
        != getattr(advantage_config(TrainConfig()), field)
    )


def test_verl_fields_are_the_train_config_fields() -> None:
    for name in ADVANTAGE_FIELDS:
        t, v = TrainConfig.model_fields[name], VerlSettings.model_fields[name]
        assert (v.annotation, v.default, v.metadata) == (t.annotation, t.default, t.metadata), name


def test_verl_trainer_uses_the_shared_settings(verl_config: Any) -> None:
    """The composed example config plus ``+interactcs.process_std_floor=0.1`` style overrides
    (the example YAML does not list these keys), through the verl trainer."""
    from omegaconf import open_dict

    with_overrides = verl_config
    with open_dict(with_overrides):
        with_overrides.interactcs.process_std_floor = 0.1
        with_overrides.interactcs.outcome_coef = 0.75
    tr = CMPOTrainer(with_overrides)
    got = tr.turn_inputs([{}]).config
    want = advantage_config(VerlSettings.from_config(with_overrides).train_config())
    _assert_same(got, want)
    assert got.process_std_floor == 0.1 and got.outcome_coef == 0.75
