"""CMPO core: advantage estimators, λ controllers, policy losses (framework-free).

Usage::

    from interactcs.algo import advantages, make_controller
    out = advantages.compute("cmpo", batch)          # per-turn advantages (M,)
    pid = make_controller("pid", budget=0.3)
    lam = pid.update(batch.cost_estimates()["voucher"])
"""

from interactcs.algo import advantages, controllers, losses
from interactcs.algo.advantages import AdvantageConfig, AdvantageOutput, turn_to_token
from interactcs.algo.controllers import (
    CONTROLLERS,
    LambdaController,
    MultiController,
    PIDLagrangian,
    make_controller,
)
from interactcs.algo.losses import LossConfig, action_policy_loss, policy_loss

__all__ = [
    "CONTROLLERS",
    "AdvantageConfig",
    "AdvantageOutput",
    "LambdaController",
    "LossConfig",
    "MultiController",
    "PIDLagrangian",
    "action_policy_loss",
    "advantages",
    "controllers",
    "losses",
    "make_controller",
    "policy_loss",
    "turn_to_token",
]
