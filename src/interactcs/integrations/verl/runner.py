"""Entry point: verl's ``main_ppo`` with the project's registrations inside the Ray job.

Usage::

    python -m interactcs.integrations.verl.runner \\
        --config-path "$PWD/examples/verl" --config-name fds_cmpo \\
        data.train_files=data/fds_hard_train.parquet trainer.n_gpus_per_node=8

verl resolves ``algorithm.adv_estimator``, ``trainer.v1.trainer_mode`` and each row's
``agent_name`` in other processes than the one that parsed the config: the trainer runs in
a Ray actor (verl's TaskRunner) and agent loops in Ray worker actors. Registrations are
module-level side effects, so they must happen in those processes:

- :func:`make_task_runner` wraps verl's ``TaskRunnerV1`` so its ``run`` imports
  :mod:`interactcs.integrations.verl` (all registrations) before verl looks anything up;
- :func:`main` also sets Ray's ``worker_process_setup_hook`` to :func:`setup_worker`, so every
  worker process of the job (agent-loop workers included) imports it at start-up.
"""

from __future__ import annotations

import os
from typing import Any, cast

SETUP_HOOK = "interactcs.integrations.verl.runner.setup_worker"


def setup_worker() -> None:
    """Ray worker start-up hook: perform every interactcs registration in this process."""
    import interactcs.integrations.verl  # noqa: F401  (registers on import)


def _verl_task_runner_cls() -> type:
    """verl's plain ``TaskRunnerV1`` class (``main_ppo`` only exports the Ray actor class)."""
    from verl.trainer.main_ppo import TaskRunnerV1

    try:
        meta: Any = TaskRunnerV1.__ray_metadata__  # type: ignore[attr-defined]
        return cast(type, meta.modified_class.__ray_actor_class__)
    except AttributeError as exc:  # pragma: no cover - a Ray/verl layout change
        raise RuntimeError("cannot find verl's TaskRunnerV1 class behind the Ray actor") from exc


def make_task_runner() -> Any:
    """A Ray actor class: verl's TaskRunnerV1 whose ``run`` registers interactcs first."""
    import ray

    base = _verl_task_runner_cls()

    class InteractcsTaskRunner(base):  # type: ignore[misc, valid-type]
        """verl's V1 task runner + ``import interactcs.integrations.verl``."""

        def run(self, config: Any) -> Any:
            setup_worker()
            return super().run(config)

    return ray.remote(InteractcsTaskRunner)


def add_setup_hook(config: Any) -> None:
    """Set ``ray_kwargs.ray_init.runtime_env.worker_process_setup_hook`` (keeps a user's own)."""
    from omegaconf import open_dict

    with open_dict(config):
        env = config.ray_kwargs.ray_init.setdefault("runtime_env", {})
        if not env.get("worker_process_setup_hook"):
            env["worker_process_setup_hook"] = SETUP_HOOK


def _config_dir() -> str:
    import verl.trainer.main_ppo as main_ppo

    return os.path.join(os.path.dirname(main_ppo.__file__), "config")


def main() -> None:
    """Hydra entry point, same command line as ``python -m verl.trainer.main_ppo``."""
    import hydra

    @hydra.main(config_path=_config_dir(), config_name="ppo_trainer", version_base=None)
    def _main(config: Any) -> None:
        from verl.trainer.main_ppo import run_ppo
        from verl.trainer.ppo.utils import need_critic, need_reference_policy
        from verl.utils.config import validate_config
        from verl.utils.device import auto_set_device

        setup_worker()  # fail here, with a clear error, if the extra is broken
        auto_set_device(config)
        validate_config(
            config=config,
            use_reference_policy=need_reference_policy(config),
            use_critic=need_critic(config),
        )
        if not config.trainer.use_v1:
            raise ValueError("interactcs needs verl's v1 trainer: set trainer.use_v1=true")
        add_setup_hook(config)
        run_ppo(config, task_runner_class=make_task_runner())

    _main()


if __name__ == "__main__":  # pragma: no cover
    main()
