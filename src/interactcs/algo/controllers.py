"""λ (Lagrange multiplier) controllers for the cost constraint E[C(τ)] ≤ d.

Usage::

    from interactcs.algo.controllers import make_controller, MultiController

    pid = make_controller("pid", budget=0.3)        # paper Eq. 8
    lam = pid.update(0.42)                          # voucher rate of this step -> new λ
    pid.value, pid.state_dict()                     # current λ, JSON-able state

    ctl = MultiController({"voucher": pid, "transfer": make_controller("gradient", budget=0.1)})
    ctl.update({"voucher": 0.42, "transfer": 0.05})  # -> {"voucher": λ_v, "transfer": λ_t}
    ctl.update_from_dialogues({"voucher": [1, 0, 0, 1], "transfer": [0, 0, 1, 0]})  # per dialogue

Every controller has the same interface: ``update(cost_estimate) -> λ``, ``value``,
``budget``, ``state_dict()``, ``load_state_dict()``. ``cost_estimate`` is the step's average
cost Ĵ_C (for the voucher cost of 1 a dialogue: the voucher rate, in [0, 1]). λ is never
negative. ``value`` before any update is the λ of training step 1: 0 (``none``), ``value``
(``fixed``) or ``lambda_init`` (the others; ``controller.init`` of the training config).
Trainers feed every kind with :meth:`MultiController.update_from_dialogues`: step-level
controllers take the mean cost Ĵ_C, ``release`` forms its windows. Names in
:data:`CONTROLLERS`:

- ``none``: λ = 0 (the "w/o cost" ablation).
- ``fixed``: constant λ (the "w/o dynamic" ablation).
- ``gradient``: λ ← clip(λ + lr·(Ĵ_C − d), 0, λ_max): plain error-driven dual ascent (the
  "w/o PID" ablation).
- ``pid``: :class:`PIDLagrangian`, paper Eq. 8 (Stooke, Achiam & Abbeel 2020), in the exact
  update order of OmniSafe's ``PIDLagrangian.pid_update``; :meth:`PIDLagrangian.from_omnisafe`
  takes OmniSafe's parameter names.
- ``release``: the public release's rule (spec §5, its ``_update_cost_lambda``): integral
  control on an EMA of the voucher rate of windows of 128 dialogues (``observe``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from interactcs.registry import Registry

__all__ = [
    "CONTROLLERS",
    "FixedController",
    "GradientController",
    "LambdaController",
    "MultiController",
    "NoController",
    "PIDLagrangian",
    "RELEASE_SHIPPED",
    "ReleaseController",
    "make_controller",
]


@runtime_checkable
class LambdaController(Protocol):
    """One λ for one cost type with budget ``d``."""

    name: str
    budget: float

    @property
    def value(self) -> float:
        """Current λ (≥ 0)."""
        ...

    def update(self, cost_estimate: float) -> float:
        """Feed the step's average cost Ĵ_C; return the new λ."""
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


CONTROLLERS: Registry[type[Any]] = Registry("lambda controller")


class _Controller:
    """Shared bookkeeping: ``value``, step count, state_dict of the listed fields."""

    name = ""
    _state_fields: tuple[str, ...] = ("_value", "steps")

    def __init__(self, budget: float) -> None:
        self.budget = float(budget)
        self._value = 0.0
        self.steps = 0

    @property
    def value(self) -> float:
        return self._value

    def update(self, cost_estimate: float) -> float:
        x = float(cost_estimate)
        if not np.isfinite(x):
            raise ValueError(f"{self.name}: cost estimate must be finite, got {cost_estimate!r}")
        self._update(x)
        self.steps += 1
        return self._value

    def _update(self, cost: float) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"controller": self.name, "budget": self.budget}
        for f in self._state_fields:
            v = getattr(self, f)
            state[f.lstrip("_")] = list(v) if isinstance(v, deque) else v
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("controller", self.name) != self.name:
            raise ValueError(f"state is for controller {state['controller']!r}, not {self.name!r}")
        for f in self._state_fields:
            cur = getattr(self, f)
            v = state[f.lstrip("_")]
            if isinstance(cur, deque):
                setattr(self, f, deque((float(x) for x in v), maxlen=cur.maxlen))
            else:
                setattr(self, f, type(cur)(v) if cur is not None else v)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(budget={self.budget}, value={self._value:.6g})"


@CONTROLLERS.register("none")
class NoController(_Controller):
    """λ = 0 always (no cost penalty)."""

    name = "none"

    def __init__(self, budget: float = 0.3) -> None:
        super().__init__(budget)

    def _update(self, cost: float) -> None:
        pass


@CONTROLLERS.register("fixed")
class FixedController(_Controller):
    """Constant λ.

    Args:
        budget: cost limit d (kept for reporting only).
        value: the constant λ ≥ 0.
    """

    name = "fixed"

    def __init__(self, budget: float = 0.3, value: float = 0.5) -> None:
        super().__init__(budget)
        if value < 0:
            raise ValueError(f"fixed λ must be ≥ 0, got {value}")
        self._value = float(value)

    def _update(self, cost: float) -> None:
        pass


@CONTROLLERS.register("gradient")
class GradientController(_Controller):
    """Plain error-driven (dual gradient ascent) update: λ ← clip(λ + lr·(Ĵ_C − d), 0, λ_max).

    Args:
        budget: cost limit d.
        lr: step size of the dual update.
        lambda_init: λ before the first update.
        lambda_max: upper clip, ``None`` for none.
    """

    name = "gradient"

    def __init__(
        self,
        budget: float = 0.3,
        lr: float = 0.5,
        lambda_init: float = 0.0,
        lambda_max: float | None = 5.0,
    ) -> None:
        super().__init__(budget)
        self.lr = float(lr)
        self.lambda_max = lambda_max
        self._value = max(0.0, float(lambda_init))

    def _update(self, cost: float) -> None:
        lam = max(0.0, self._value + self.lr * (cost - self.budget))
        self._value = lam if self.lambda_max is None else min(lam, self.lambda_max)


@CONTROLLERS.register("pid")
class PIDLagrangian(_Controller):
    """PID-Lagrangian λ update (paper Eq. 8; Stooke, Achiam & Abbeel 2020).

    One update with cost estimate J and error e = J − d, in this order (OmniSafe's order)::

        I ← max(0, I + Ki·e)                 (projected integral; clipped to [0, 1] if unit_clip)
        P ← a_p·P + (1 − a_p)·e              (EMA of the error)
        S ← a_d·S + (1 − a_d)·J              (EMA of the cost)
        D ← max(0, S − S_hist[0])            (rise of S over the last d_delay updates)
        λ ← max(0, Kp·P + I + Kd·D)          (then min(λ, 1) if unit_clip, min(λ, lambda_max))
        S_hist.append(S)                     (deque of length d_delay, starts as [0.0])

    ``lambda_init`` is λ before the first update (the λ of step 1; 0 in OmniSafe) and
    ``integral_init`` the starting value of I. The update itself never reads the old λ, so
    ``lambda_init`` changes step 1 only; starting both at the same value λ_0 starts the
    controller at a steady state (for e = 0 the next λ is λ_0 again).

    Args:
        budget: cost limit d (e.g. 0.3 for a 30 % voucher rate).
        kp, ki, kd: proportional, integral and derivative gains.
        d_delay: window (in updates) of the derivative term, ≥ 1.
        p_ema_alpha: EMA weight on the *old* P (0 = no smoothing).
        d_ema_alpha: EMA weight on the *old* smoothed cost S.
        integral_init: starting integral I_0 (OmniSafe's ``lagrangian_multiplier_init``).
        lambda_max: upper clip of λ, ``None`` for none.
        unit_clip: clip I and λ to [0, 1] (OmniSafe's ``diff_norm``).
        lambda_init: λ before the first update (clipped like λ); OmniSafe: 0.
    """

    name = "pid"
    _state_fields = ("_value", "steps", "integral", "p_term", "cost_ema", "cost_hist")

    def __init__(
        self,
        budget: float = 0.3,
        kp: float = 1.0,
        ki: float = 0.5,
        kd: float = 0.2,
        d_delay: int = 3,
        p_ema_alpha: float = 0.7,
        d_ema_alpha: float = 0.7,
        integral_init: float = 0.0,
        lambda_max: float | None = 5.0,
        unit_clip: bool = False,
        lambda_init: float = 0.0,
    ) -> None:
        super().__init__(budget)
        if d_delay < 1:
            raise ValueError(f"d_delay must be ≥ 1, got {d_delay}")
        for nm, a in (("p_ema_alpha", p_ema_alpha), ("d_ema_alpha", d_ema_alpha)):
            if not 0.0 <= a < 1.0:
                raise ValueError(f"{nm} must be in [0, 1), got {a}")
        self.kp, self.ki, self.kd = float(kp), float(ki), float(kd)
        self.d_delay = int(d_delay)
        self.p_ema_alpha, self.d_ema_alpha = float(p_ema_alpha), float(d_ema_alpha)
        self.lambda_max = lambda_max
        self.unit_clip = bool(unit_clip)
        self.integral = float(integral_init)
        self.p_term = 0.0
        self.cost_ema = 0.0
        self.cost_hist: deque[float] = deque([0.0], maxlen=self.d_delay)
        lam = min(max(0.0, float(lambda_init)), 1.0 if self.unit_clip else float("inf"))
        self._value = lam if lambda_max is None else min(lam, float(lambda_max))

    @classmethod
    def from_omnisafe(
        cls,
        *,
        cost_limit: float,
        pid_kp: float,
        pid_ki: float,
        pid_kd: float,
        pid_d_delay: int,
        pid_delta_p_ema_alpha: float,
        pid_delta_d_ema_alpha: float,
        sum_norm: bool,
        diff_norm: bool,
        penalty_max: float,
        lagrangian_multiplier_init: float,
    ) -> PIDLagrangian:
        """Build from OmniSafe's ``PIDLagrangian`` arguments (same names, same trajectories).

        OmniSafe caps λ at ``penalty_max`` only when neither ``sum_norm`` nor ``diff_norm`` is
        set; ``diff_norm`` clips I and λ to [0, 1]; ``sum_norm`` only rescales OmniSafe's mixed
        advantage by 1/(1 + λ). λ starts at 0, as in OmniSafe.
        """
        return cls(
            budget=cost_limit,
            kp=pid_kp,
            ki=pid_ki,
            kd=pid_kd,
            d_delay=pid_d_delay,
            p_ema_alpha=pid_delta_p_ema_alpha,
            d_ema_alpha=pid_delta_d_ema_alpha,
            integral_init=lagrangian_multiplier_init,
            lambda_max=None if (sum_norm or diff_norm) else penalty_max,
            unit_clip=diff_norm,
        )

    def _update(self, cost: float) -> None:
        err = cost - self.budget
        self.integral = max(0.0, self.integral + err * self.ki)
        if self.unit_clip:
            self.integral = min(1.0, self.integral)
        self.p_term = self.p_ema_alpha * self.p_term + (1.0 - self.p_ema_alpha) * err
        self.cost_ema = self.d_ema_alpha * self.cost_ema + (1.0 - self.d_ema_alpha) * cost
        d_term = max(0.0, self.cost_ema - self.cost_hist[0])
        lam = max(0.0, self.kp * self.p_term + self.integral + self.kd * d_term)
        if self.unit_clip:
            lam = min(1.0, lam)
        if self.lambda_max is not None:
            lam = min(lam, self.lambda_max)
        self._value = lam
        self.cost_hist.append(self.cost_ema)


#: The release's shipped training values (its no-voucher-transfer FDS interaction config):
#: λ_0 (``initial_voucher_cost``), the target rate (``target_voucher_rate``, a margin under
#: its 30 % budget) and r̃_0 (``resume_smoothed_voucher_rate``).
RELEASE_SHIPPED: dict[str, float] = {"lambda_init": 0.7, "target": 0.27, "smoothed_init": 0.28}


@CONTROLLERS.register("release")
class ReleaseController(_Controller):
    """The public release's rule: integral control on an EMA of the windowed voucher rate.

    Dialogues arrive one by one through :meth:`observe`. Every ``window`` (128) dialogues
    the controller appends them to a sliding buffer of the last ``rate_window`` dialogues
    (release: also 128, so the buffer is exactly the new window), takes its mean cost r
    (the voucher rate for a 0/1 voucher cost) and updates, as the release's
    ``_update_cost_lambda``::

        r̃ ← (1 − α)·r̃ + α·r
        λ ← clip(λ + lr·(r̃ − target), 0, λ_max)

    Defaults = the release: α = 0.7, lr = 0.2 (its ``kp``), λ_max = 5 and the shipped
    :data:`RELEASE_SHIPPED`. :meth:`update` does one such update on a given window rate r.

    Args:
        budget: the constraint's budget d (reported; the rule steers to ``target``).
        lr: integral gain (the release's ``kp``).
        ema_alpha: weight of the *new* rate in the EMA.
        lambda_init: λ_0, the λ of the first training step (clipped to [0, λ_max]).
        lambda_max: upper clip.
        window: dialogues per update in :meth:`observe`.
        target: rate the rule steers to; ``None`` = ``budget``.
        smoothed_init: r̃_0; ``None`` = the target (the release's code default).
        rate_window: dialogues the rate is taken over (the release's ``train_window_size``);
            ``None`` = ``window``.
    """

    name = "release"
    _state_fields = ("_value", "steps", "smoothed", "pending", "recent")

    def __init__(
        self,
        budget: float = 0.3,
        lr: float = 0.2,
        ema_alpha: float = 0.7,
        lambda_init: float = RELEASE_SHIPPED["lambda_init"],
        lambda_max: float = 5.0,
        window: int = 128,
        target: float | None = RELEASE_SHIPPED["target"],
        smoothed_init: float | None = RELEASE_SHIPPED["smoothed_init"],
        rate_window: int | None = None,
    ) -> None:
        super().__init__(budget)
        if window < 1 or (rate_window is not None and rate_window < 1):
            raise ValueError(f"window and rate_window must be ≥ 1, got {window}, {rate_window}")
        if not 0.0 <= ema_alpha <= 1.0:
            raise ValueError(f"ema_alpha must be in [0, 1], got {ema_alpha}")
        self.lr, self.ema_alpha, self.window = float(lr), float(ema_alpha), int(window)
        self.lambda_max = float(lambda_max)
        self.target = float(self.budget if target is None else target)
        self._value = min(max(0.0, float(lambda_init)), self.lambda_max)
        self.smoothed = float(self.target if smoothed_init is None else smoothed_init)
        self.pending: list[float] = []
        self.recent: deque[float] = deque(maxlen=int(rate_window or window))

    def _update(self, cost: float) -> None:
        self.smoothed = (1.0 - self.ema_alpha) * self.smoothed + self.ema_alpha * cost
        lam = self._value + self.lr * (self.smoothed - self.target)
        self._value = min(max(0.0, lam), self.lambda_max)

    def observe(self, dialogue_costs: Iterable[float]) -> float:
        """Add finished dialogues' costs (e.g. 1 if a voucher was issued), in order; update
        once per full window of ``window`` dialogues on the mean of the last ``rate_window``.
        A partial window stays pending (it is part of the state). Returns the current λ."""
        for c in dialogue_costs:
            x = float(c)
            if not np.isfinite(x):
                raise ValueError(f"release: dialogue cost must be finite, got {c!r}")
            self.pending.append(x)
            if len(self.pending) >= self.window:
                self.recent.extend(self.pending)
                self.pending = []
                self.update(float(np.mean(self.recent)))
        return self._value


def make_controller(name: str, **kwargs: Any) -> LambdaController:
    """Build a registered controller by name, e.g. ``make_controller("pid", budget=0.3)``."""
    ctrl: LambdaController = CONTROLLERS.get(name)(**kwargs)
    return ctrl


class MultiController:
    """One controller per cost type, each with its own budget.

    Args:
        controllers: cost type -> controller (insertion order fixes the λ vector order).

    Example: ``MultiController.from_config({"voucher": {"controller": "pid", "budget": 0.3},
    "transfer": {"controller": "fixed", "value": 0.1}})``, then ``mc.update({"voucher": 0.4,
    "transfer": 0.2})`` and ``mc.lambdas()`` = ``np.array([λ_voucher, λ_transfer])``.
    """

    def __init__(self, controllers: Mapping[str, LambdaController]) -> None:
        if not controllers:
            raise ValueError("MultiController needs at least one cost type")
        self.controllers: dict[str, LambdaController] = dict(controllers)

    @classmethod
    def from_config(cls, config: Mapping[str, Mapping[str, Any]]) -> MultiController:
        """``{cost type: {"controller": name, **kwargs}}``; the name defaults to ``pid``."""
        ctrls = {}
        for cost_type, spec in config.items():
            kw = dict(spec)
            ctrls[cost_type] = make_controller(str(kw.pop("controller", "pid")), **kw)
        return cls(ctrls)

    @classmethod
    def from_budgets(
        cls, budgets: Mapping[str, float], controller: str = "pid", **kwargs: Any
    ) -> MultiController:
        """Same controller kind for every cost type, each with its budget (e.g.
        ``CostSpec.budgets``); ``kwargs`` go to every controller."""
        return cls({k: make_controller(controller, budget=b, **kwargs) for k, b in budgets.items()})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.controllers)

    @property
    def values(self) -> dict[str, float]:
        return {k: c.value for k, c in self.controllers.items()}

    @property
    def budgets(self) -> dict[str, float]:
        return {k: c.budget for k, c in self.controllers.items()}

    def lambdas(self, names: Iterable[str] | None = None) -> np.ndarray:
        """λ vector (K,) in ``names`` order (default: the controllers' order)."""
        return np.array([self.controllers[n].value for n in (names or self.names)], dtype=float)

    def update(self, cost_estimates: Mapping[str, float]) -> dict[str, float]:
        """Update every controller from its cost type's estimate; all types are required."""
        missing = set(self.controllers) - set(cost_estimates)
        if missing:
            raise KeyError(f"no cost estimate for {sorted(missing)}; got {sorted(cost_estimates)}")
        return {k: c.update(cost_estimates[k]) for k, c in self.controllers.items()}

    def update_from_dialogues(
        self,
        dialogue_costs: Mapping[str, Sequence[float] | np.ndarray] | np.ndarray,
        names: Sequence[str] | None = None,
    ) -> dict[str, float]:
        """Update every controller from the costs of a step's finished dialogues.

        Args:
            dialogue_costs: ``{cost type: (N,) cost of each dialogue}`` (all types), or an
                (N, K) array such as ``TurnBatch.dialogue_costs()``.
            names: the K column names of an array (e.g. ``batch.cost_names``).

        A controller with ``observe`` (``release``) gets the dialogues in order and updates
        per window; every other kind gets one :meth:`update` with the mean dialogue cost Ĵ_C
        (= ``TurnBatch.cost_estimates()``); no dialogues: λ unchanged. Returns every λ.
        """
        if isinstance(dialogue_costs, np.ndarray):
            if names is None or dialogue_costs.ndim != 2 or dialogue_costs.shape[1] != len(names):
                raise ValueError("an (N, K) cost array needs names with its K column names")
            per_type = {n: dialogue_costs[:, j] for j, n in enumerate(names)}
        else:
            per_type = {k: np.ravel(np.asarray(v, float)) for k, v in dialogue_costs.items()}
        missing = set(self.controllers) - set(per_type)
        if missing:
            raise KeyError(f"no dialogue costs for {sorted(missing)}; got {sorted(per_type)}")
        out: dict[str, float] = {}
        for k, c in self.controllers.items():
            costs, observe = np.asarray(per_type[k], dtype=float), getattr(c, "observe", None)
            if callable(observe):
                out[k] = float(observe(costs.tolist()))
            else:
                out[k] = c.update(float(costs.mean())) if costs.size else c.value
        return out

    def state_dict(self) -> dict[str, Any]:
        return {k: c.state_dict() for k, c in self.controllers.items()}

    def load_state_dict(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        if set(state) != set(self.controllers):
            raise KeyError(f"state has cost types {sorted(state)}, expected {list(self.names)}")
        for k, c in self.controllers.items():
            c.load_state_dict(state[k])
