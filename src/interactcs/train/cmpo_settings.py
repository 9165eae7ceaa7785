"""One builder of the CMPO settings, for every backend (embedded trainer and verl).

Usage::

    from interactcs.train.cmpo_settings import advantage_config, loss_config

    cfg = TrainConfig.load("run.yaml")
    adv_cfg = advantage_config(cfg)      # -> algo.advantages.AdvantageConfig
    loss_cfg = loss_config(cfg)          # -> algo.losses.LossConfig

The embedded trainer (``train/trainer.py``) and the verl integration
(``integrations/verl/settings.py``: ``VerlSettings.advantage_config()``) both call
:func:`advantage_config`, so the same config gives the same advantage settings on both
(the test ``tests/integrations/verl/test_verl_settings.py`` compares them field by field).

:data:`ADVANTAGE_FIELDS` names the :class:`~interactcs.train.config.TrainConfig` fields the
advantage settings read; a backend with its own config section (verl's ``interactcs:``)
carries exactly these fields, with the same defaults, and hands them back through a
``TrainConfig``. Fields of :class:`AdvantageConfig` that no config field sets (``eps``,
``std_ddof``, ``gamma``, ...) keep their :class:`AdvantageConfig` defaults on every backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from interactcs.algo.advantages import AdvantageConfig
from interactcs.algo.losses import LossConfig

if TYPE_CHECKING:
    from interactcs.train.config import TrainConfig

#: TrainConfig fields that set the advantage estimator's settings (cmpo and the others).
ADVANTAGE_FIELDS: tuple[str, ...] = (
    "use_outcome",
    "use_process",
    "use_cost",
    "cost_mode",
    "outcome_coef",
    "process_coef",
    "process_std_floor",
)

#: TrainConfig fields that set the policy loss (embedded trainer; verl has its own actor
#: settings: ``actor_rollout_ref.actor.clip_ratio``, ``kl_loss_coef``, ``entropy_coeff``).
LOSS_FIELDS: tuple[str, ...] = ("clip", "loss_agg", "kl_coef", "entropy_coef")


def advantage_config(cfg: TrainConfig) -> AdvantageConfig:
    """The estimator settings of a run: ablation switches, cost mode, term weights and the
    process-std floor (the embedded trainer's ``train_step`` logic, in one place).

    Args:
        cfg: the run's config (only :data:`ADVANTAGE_FIELDS` are read).

    Returns:
        The :class:`AdvantageConfig`; unlisted fields keep their defaults.
    """
    return AdvantageConfig(
        use_outcome=cfg.use_outcome,
        use_process=cfg.use_process,
        use_cost=cfg.use_cost,
        cost_mode=cfg.cost_mode,
        outcome_coef=cfg.outcome_coef,
        process_coef=cfg.process_coef,
        process_std_floor=cfg.process_std_floor,
    )


def loss_config(cfg: TrainConfig) -> LossConfig:
    """The clipped-surrogate loss settings of the embedded trainer.

    ``clip`` is the symmetric ratio clip ε; ``loss_agg`` ``token-mean`` stays token-mean and
    ``seq-mean`` means the mean over sequences of the per-sequence token mean; ``kl_coef``
    weighs the k3 KL to the reference; ``entropy_coef`` the entropy bonus.
    """
    return LossConfig(
        clip_low=cfg.clip,
        agg=cfg.loss_agg if cfg.loss_agg == "token-mean" else "seq-mean-token-mean",
        kl_coef=cfg.kl_coef,
        entropy_coef=cfg.entropy_coef,
    )
