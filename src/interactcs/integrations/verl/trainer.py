"""verl's synchronous PPO trainer with the project's λ controllers (trainer mode
``interactcs_cmpo``).

Usage (verl config)::

    trainer.v1.trainer_mode: interactcs_cmpo
    algorithm.adv_estimator: cmpo

Per training step:

1. :meth:`CMPOTrainer._compute_advantage` reads the batch's ``extra_fields`` from verl's
   TransferQueue, builds :class:`~interactcs.integrations.verl.estimator.TurnInputs` with
   the current λ and runs verl's own advantage computation with them in scope;
2. after verl's step (rollout, advantages, actor update; before the checkpoint save),
   :meth:`CMPOTrainer.lambda_step` feeds the step's dialogue costs per cost type to the
   controllers (``MultiController.update_from_dialogues``: one update on the mean cost Ĵ_C,
   e.g. the voucher rate, for step-level kinds; one update per full window of 128 dialogues
   for ``release``, a partial window carried into the next step) and logs ``constraint/*``
   and ``rollout/*`` metrics.

λ used for step k's advantages is the value after step k − 1 (as in the embedded trainer);
step 1 uses ``controller.init``. The release changed λ while its rollouts ran (each
dialogue's reward read the λ current when it finished); here λ is constant within a step.
Everything else is verl's ``sync`` mode: the trainer reports its mode as ``sync`` to verl's
internals, so replay buffer, dataloader and checkpoints behave exactly as there.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
from verl.trainer.ppo.checkpoint_callback import CheckpointCallback
from verl.trainer.ppo.v1.trainer_base import register_trainer
from verl.trainer.ppo.v1.trainer_sync import PPOTrainerSync

from interactcs.integrations.verl import fields as F
from interactcs.integrations.verl.checkpoint import LambdaCheckpoint
from interactcs.integrations.verl.estimator import TurnInputs, cmpo_turn_inputs
from interactcs.integrations.verl.settings import VerlSettings

logger = logging.getLogger(__name__)


def _mean(xs: list[float]) -> float:
    return float(np.mean(xs)) if xs else float("nan")


def step_statistics(extras: list[dict[str, Any]], cost_names: tuple[str, ...]) -> dict[str, Any]:
    """Per-step rollout statistics of the real (non-padding) dialogues' ``extra_fields``.

    Returns:
        ``{"costs": {type: mean dialogue cost}, "dialogue_costs": (N, K) array of each
        dialogue's total cost, "rollout/...": value}``; the mean dialogue cost of a 0/1
        voucher cost is the voucher rate (the step-level controllers' Ĵ_C).
    """
    total = np.zeros((len(extras), len(cost_names)))
    for i, e in enumerate(extras):
        if e.get(F.COSTS):
            total[i] = np.asarray(e[F.COSTS], dtype=np.float64).sum(axis=0)
    mean = total.mean(axis=0) if extras else np.zeros(len(cost_names))
    return {
        "costs": {k: float(v) for k, v in zip(cost_names, mean, strict=True)},
        "dialogue_costs": total,
        "rollout/voucher_rate": _mean([float(bool(e.get(F.VOUCHER))) for e in extras]),
        "rollout/satisfaction_mean": _mean(
            [e[F.SATISFACTION] for e in extras if e.get(F.SATISFACTION) is not None]
        ),
        "rollout/finish_rate": _mean([float(bool(e.get(F.FINISHED))) for e in extras]),
        "rollout/process_mean": _mean(
            [x for e in extras for x in e.get(F.PROCESS) or [] if x is not None]
        ),
        "rollout/agent_turns_mean": _mean([e.get(F.AGENT_TURNS, 0) for e in extras]),
    }


@register_trainer(F.TRAINER_MODE)
class CMPOTrainer(PPOTrainerSync):
    """:class:`PPOTrainerSync` + per-step λ control + λ checkpointing.

    Attributes:
        settings: the config's ``interactcs`` section.
        controllers: one λ controller per cost type.
    """

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.settings = VerlSettings.from_config(config)
        self.controllers = self.settings.build_controllers()
        self.cost_names = tuple(self.controllers.names)
        self._step_extras: list[dict[str, Any]] = []
        if type(self.checkpoint_callback) is CheckpointCallback:  # none configured
            self.checkpoint_callback = LambdaCheckpoint(config=config)
        elif not isinstance(self.checkpoint_callback, LambdaCheckpoint):
            logger.warning("checkpoint callback is not a LambdaCheckpoint: λ is not saved")
        if config.algorithm.use_kl_in_reward and config.algorithm.adv_estimator == F.ESTIMATOR_NAME:
            logger.warning(
                "use_kl_in_reward=true: the KL penalty becomes part of cmpo's outcome term"
            )

    # verl's internals branch on ``trainer_mode == "sync"``; this trainer is sync.
    @property
    def trainer_mode(self) -> str:
        return "sync"

    @trainer_mode.setter
    def trainer_mode(self, value: str) -> None:
        self.registered_mode = value

    # ---------------------------------------------------------------- advantages
    def _fetch_extra_fields(self, batch: Any) -> list[dict[str, Any]]:
        """The ``extra_fields`` dict of every row of ``batch`` (a TransferQueue KVBatchMeta)."""
        import transfer_queue as tq

        data = tq.kv_batch_get(
            keys=batch.keys, partition_id=batch.partition_id, select_fields=["extra_fields"]
        )
        return [dict(e or {}) for e in list(data["extra_fields"])]

    def turn_inputs(self, extras: list[dict[str, Any]]) -> TurnInputs:
        """Turn inputs of one batch with the current λ."""
        return TurnInputs.from_extra_fields(
            extras, lambdas=self.controllers.values, config=self.settings.advantage_config()
        )

    def _compute_advantage(self, batch: Any, metrics: dict) -> Any:
        extras = self._fetch_extra_fields(batch)
        padding = [bool(tag.get("is_padding", False)) for tag in batch.tags]
        self._step_extras += [
            e for e, pad in zip(extras, padding, strict=True) if not pad and F.OUTCOME in e
        ]
        with cmpo_turn_inputs(self.turn_inputs(extras)):
            return super()._compute_advantage(batch, metrics)

    # ----------------------------------------------------------------- λ control
    def step(self, metrics: dict, timing_raw: dict) -> Any:
        batch = super().step(metrics, timing_raw)
        metrics.update(self.lambda_step())
        return batch

    def lambda_step(self) -> dict[str, float]:
        """Update every λ once from this step's dialogues; return the step's metrics."""
        extras, self._step_extras = self._step_extras, []
        if not extras:
            logger.warning("no interactcs dialogues in this step: λ unchanged")
            return {f"constraint/lambda/{k}": v for k, v in self.controllers.values.items()}
        stats = step_statistics(extras, self.cost_names)
        used = self.controllers.values
        new = self.controllers.update_from_dialogues(stats["dialogue_costs"], names=self.cost_names)
        out: dict[str, float] = {k: v for k, v in stats.items() if k.startswith("rollout/")}
        for name in self.cost_names:
            out[f"constraint/lambda/{name}"] = used[name]  # λ used in this step's advantages
            out[f"constraint/lambda_next/{name}"] = new[name]
            out[f"constraint/cost/{name}"] = stats["costs"][name]
            out[f"constraint/budget/{name}"] = self.controllers.budgets[name]
        return out

    # ---------------------------------------------------------------- checkpoints
    def resume_folder(self) -> str | None:
        """The ``global_step_N`` folder verl resumed from (None when training from scratch)."""
        step = int(getattr(self, "global_steps", 0))  # set by verl's _load_checkpoint
        if step <= 0:
            return None
        tr = self.config.trainer
        if tr.resume_mode == "resume_path":
            folder = str(tr.resume_from_path)
        else:
            folder = os.path.join(str(tr.default_local_dir), f"global_step_{step}")
        return folder if os.path.isabs(folder) else os.path.join(os.getcwd(), folder)

    def _load_checkpoint(self) -> None:
        super()._load_checkpoint()
        self.restore_controllers()

    def restore_controllers(self) -> bool:
        """Load λ from the folder verl resumed from; False when there is none."""
        folder = self.resume_folder()
        if folder is None:
            return False
        cb = self.checkpoint_callback
        cb = cb if isinstance(cb, LambdaCheckpoint) else LambdaCheckpoint(config=self.config)
        return cb.restore(self, folder)
