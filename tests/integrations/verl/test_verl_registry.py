"""Registrations are visible through verl's own lookups; the task runner wraps verl's."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

pytest.importorskip("verl")

import hydra  # noqa: E402
from verl.experimental.agent_loop.agent_loop import AgentLoopBase, _agent_loop_registry  # noqa: E402
from verl.trainer.ppo.checkpoint_callback import build_checkpoint_callback  # noqa: E402
from verl.trainer.ppo.core_algos import get_adv_estimator_fn  # noqa: E402
from verl.trainer.ppo.v1 import PPOTrainerSync, get_trainer_cls  # noqa: E402

import interactcs.integrations.verl as ics_verl  # noqa: E402
from interactcs.integrations.verl import estimator, runner  # noqa: E402
from interactcs.integrations.verl.checkpoint import LambdaCheckpoint  # noqa: E402
from interactcs.integrations.verl.settings import VerlSettings  # noqa: E402
from interactcs.integrations.verl.trainer import CMPOTrainer  # noqa: E402


def test_verl_lookups_find_every_registration(verl_config: Any) -> None:
    assert ics_verl.VERL_AVAILABLE
    assert get_adv_estimator_fn("cmpo") is estimator.compute_cmpo_advantage
    target = _agent_loop_registry["interactcs_fds"]["_target_"]
    cls = hydra.utils.get_class(target)
    assert issubclass(cls, AgentLoopBase) and cls.__name__ == "FDSAgentLoop"
    trainer_cls = get_trainer_cls("interactcs_cmpo")
    assert trainer_cls is CMPOTrainer and issubclass(trainer_cls, PPOTrainerSync)
    assert isinstance(build_checkpoint_callback(verl_config), LambdaCheckpoint)
    estimator.register()  # idempotent: re-registering the same function is fine


def test_task_runner_wraps_verl_runner_and_sets_the_hook(verl_config: Any) -> None:
    from verl.trainer.main_ppo import TaskRunnerV1

    actor_cls = runner.make_task_runner()
    plain = actor_cls.__ray_metadata__.modified_class.__ray_actor_class__
    assert plain.__name__ == "InteractcsTaskRunner"
    assert issubclass(plain, TaskRunnerV1.__ray_metadata__.modified_class.__ray_actor_class__)
    runner.add_setup_hook(verl_config)
    assert (
        verl_config.ray_kwargs.ray_init.runtime_env.worker_process_setup_hook == runner.SETUP_HOOK
    )


def test_settings_section_is_validated(verl_config: Any) -> None:
    s = VerlSettings.from_config(verl_config)
    assert s.user_sim == "offline" and s.budgets == {"voucher": 0.3} and s.controller.name == "pid"
    assert VerlSettings.from_config({}) == VerlSettings()
    with pytest.raises(ValueError, match="user_simm"):
        VerlSettings.from_config({"interactcs": {"user_simm": "offline"}})


@pytest.mark.slow
def test_setup_hook_registers_in_a_fresh_process() -> None:
    """What a Ray worker does at start-up (worker_process_setup_hook)."""
    code = (
        "from interactcs.integrations.verl.runner import setup_worker; setup_worker()\n"
        "from verl.trainer.ppo.core_algos import get_adv_estimator_fn\n"
        "from verl.experimental.agent_loop.agent_loop import _agent_loop_registry\n"
        "from verl.trainer.ppo.v1 import get_trainer_cls\n"
        "get_adv_estimator_fn('cmpo'); get_trainer_cls('interactcs_cmpo')\n"
        "assert 'interactcs_fds' in _agent_loop_registry\n"
    )
    res = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-2000:]
