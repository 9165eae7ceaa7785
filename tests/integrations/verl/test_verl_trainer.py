"""The interactcs_cmpo trainer without GPUs: λ step, advantages with λ, checkpoint round trip."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

pytest.importorskip("verl")

import torch  # noqa: E402
from verl.protocol import DataProto  # noqa: E402
from verl.trainer.ppo.ray_trainer import compute_advantage  # noqa: E402
from verl.trainer.ppo.v1.replay_buffer import ReplayBuffer  # noqa: E402
from verl.trainer.ppo.v1.trainer_sync import PPOTrainerSync  # noqa: E402

from interactcs.algo.controllers import make_controller  # noqa: E402
from interactcs.integrations.verl import fields as F  # noqa: E402
from interactcs.integrations.verl.checkpoint import LAMBDA_FILE, LambdaCheckpoint  # noqa: E402
from interactcs.integrations.verl.trainer import CMPOTrainer  # noqa: E402
from interactcs.train.config import LAMBDA_INIT_DEFAULT  # noqa: E402

PID = {
    "kp": 1.0,
    "ki": 0.5,
    "kd": 1.0,
    "d_delay": 3,
    "p_ema_alpha": 0.5,
    "d_ema_alpha": 0.5,
    "lambda_max": 5.0,
    "integral_init": 1.0,
    "lambda_init": 1.0,
}  # = examples/verl/fds_cmpo.yaml (controller.init unset: 1.0, the λ of step 1)


def _extra(voucher: bool, sat: int | None = 4) -> dict[str, Any]:
    return {
        F.TURN_ENDS: [2, 6],
        F.PROCESS: [0.5, 1.0],
        F.COSTS: [[0.0], [1.0 if voucher else 0.0]],
        F.COST_NAMES: ["voucher"],
        F.OUTCOME: 0.0 if sat is None else (sat - 1) / 4,
        F.SATISFACTION: sat,
        F.VOUCHER: voucher,
        F.FINISHED: True,
        F.AGENT_TURNS: 2,
    }


def test_trainer_is_verl_sync_with_lambda_checkpoint(verl_config: Any) -> None:
    tr = CMPOTrainer(verl_config)
    assert tr.trainer_mode == "sync" and tr.registered_mode == "interactcs_cmpo"
    assert type(tr.replay_buffer) is ReplayBuffer  # not verl's async buffer
    assert isinstance(tr.checkpoint_callback, LambdaCheckpoint)
    assert tr.controllers.names == ("voucher",) and tr.controllers.budgets == {"voucher": 0.3}


def test_advantage_uses_current_lambda_then_steps_once(verl_config: Any, monkeypatch: Any) -> None:
    tr = CMPOTrainer(verl_config)
    tr.controllers.controllers["voucher"]._value = 0.8  # λ of the previous step
    before = tr.controllers.controllers["voucher"].state_dict()
    extras = [_extra(True), _extra(False), _extra(True), _extra(True)]  # row 3: verl padding
    mask = torch.tensor([[1, 1, 0, 0, 1, 1]] * 3 + [[0] * 6])
    rewards = torch.zeros(4, 6)
    rewards[:, -1] = torch.tensor([0.75, 0.5, 0.25, 0.0])
    seen: dict[str, Any] = {}

    def fake_verl_advantage(self: Any, batch: Any, metrics: dict) -> Any:  # verl's TQ part
        data = DataProto.from_dict(
            tensors={"token_level_rewards": rewards, "response_mask": mask},
            non_tensors={"uid": np.array(["a", "a", "a", "pad"], dtype=object)},
        )
        seen["adv"] = compute_advantage(data, adv_estimator="cmpo").batch["advantages"]
        return batch

    monkeypatch.setattr(PPOTrainerSync, "_compute_advantage", fake_verl_advantage)
    monkeypatch.setattr(tr, "_fetch_extra_fields", lambda batch: extras)
    batch = SimpleNamespace(
        keys=list("abcd"), partition_id="train", tags=[{}, {}, {}, {"is_padding": True}]
    )

    def fake_verl_step(self: Any, metrics: dict, timing_raw: dict) -> Any:
        return self._compute_advantage(batch, metrics)

    monkeypatch.setattr(PPOTrainerSync, "step", fake_verl_step)
    metrics: dict[str, float] = {}
    tr.step(metrics, {})
    # turn 2 of rows 0 and 2 issued the voucher: λ = 0.8 was charged there
    adv = seen["adv"]
    assert adv[0, 4].item() - adv[1, 4].item() == pytest.approx(
        -0.8 + (0.75 - 0.5) / 0.25, abs=1e-4
    )
    assert (adv[3] == 0).all()
    # one controller update from the voucher rate of the 3 real dialogues (2/3)
    ref = make_controller("pid", budget=0.3, **PID)
    ref.load_state_dict(before)  # same starting state (value 0.8, configured integral)
    assert tr.controllers.values["voucher"] == pytest.approx(ref.update(2 / 3))
    assert tr.controllers.controllers["voucher"].steps == 1
    assert metrics["constraint/lambda/voucher"] == 0.8
    assert metrics["constraint/cost/voucher"] == pytest.approx(2 / 3)
    assert metrics["constraint/lambda_next/voucher"] == tr.controllers.values["voucher"]
    assert metrics["rollout/voucher_rate"] == pytest.approx(2 / 3)
    assert metrics["rollout/satisfaction_mean"] == 4.0
    assert (
        tr.lambda_step()["constraint/lambda/voucher"] == tr.controllers.values["voucher"]
    )  # no data


def test_lambda_checkpoint_round_trip(verl_config: Any, tmp_path: Path, monkeypatch: Any) -> None:
    a = CMPOTrainer(verl_config)
    for rate in (0.9, 0.6, 0.7):
        a._step_extras = [_extra(True)] * int(10 * rate) + [_extra(False)] * (10 - int(10 * rate))
        a.lambda_step()
    folder = Path(verl_config.trainer.default_local_dir) / "global_step_3"
    a.checkpoint_callback.on_save(trainer=a, global_step=3, checkpoint_dir=str(folder))
    saved = json.loads((folder / LAMBDA_FILE).read_text())
    assert saved["global_step"] == 3 and saved["controllers"] == a.controllers.state_dict()

    def fake_verl_load(self: Any) -> None:  # what verl's _load_checkpoint does to the step
        self.global_steps = 3

    monkeypatch.setattr(PPOTrainerSync, "_load_checkpoint", fake_verl_load)
    b = CMPOTrainer(verl_config)
    assert (
        b.controllers.values["voucher"] == LAMBDA_INIT_DEFAULT
    )  # λ of step 1 (controller.init unset)
    b._load_checkpoint()
    assert b.resume_folder() == str(folder)
    assert b.controllers.state_dict() == a.controllers.state_dict()
    assert b.controllers.update({"voucher": 0.2}) == a.controllers.update({"voucher": 0.2})


def test_restore_without_saved_state_keeps_initial_lambda(verl_config: Any) -> None:
    tr = CMPOTrainer(verl_config)
    assert not tr.restore_controllers()  # global_steps 0: training from scratch
    tr.global_steps = 5
    assert not tr.restore_controllers()  # no global_step_5/interactcs_lambda.json
    assert tr.controllers.values["voucher"] == LAMBDA_INIT_DEFAULT


def test_release_controller_updates_per_128_dialogues_across_steps(verl_config: Any) -> None:
    """controller.name=release: two steps of 96 dialogues (48 and 0 vouchers). Step 1 fills no
    window (λ stays 0.7); step 2 completes window 1 (dialogues 1-128: 48 vouchers, r = 0.375)
    and leaves 64 pending: r̃ = 0.3·0.28 + 0.7·0.375 = 0.3465, λ = 0.7 + 0.2·0.0765 = 0.7153."""
    from omegaconf import open_dict

    with open_dict(verl_config):
        verl_config.interactcs.controller = {"name": "release"}
    tr = CMPOTrainer(verl_config)
    assert tr.controllers.values["voucher"] == 0.7  # the release's λ_0, λ of step 1
    tr._step_extras = [_extra(True)] * 48 + [_extra(False)] * 48
    m1 = tr.lambda_step()
    assert m1["constraint/lambda_next/voucher"] == 0.7
    assert m1["constraint/cost/voucher"] == 0.5
    tr._step_extras = [_extra(False)] * 96
    m2 = tr.lambda_step()
    assert m2["constraint/lambda/voucher"] == 0.7
    assert m2["constraint/lambda_next/voucher"] == pytest.approx(0.7153, abs=1e-12)
    rc = tr.controllers.controllers["voucher"]
    assert rc.steps == 1 and len(rc.pending) == 64
