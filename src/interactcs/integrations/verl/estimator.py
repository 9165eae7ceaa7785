"""CMPO as a verl advantage estimator (``algorithm.adv_estimator=cmpo``), a thin wrapper over
:func:`interactcs.algo.advantages.compute`.

Usage::

    from verl.trainer.ppo.core_algos import get_adv_estimator_fn
    from interactcs.integrations.verl.estimator import TurnInputs, cmpo_turn_inputs

    inputs = TurnInputs.from_extra_fields(extras, lambdas={"voucher": 0.4})
    adv, ret = get_adv_estimator_fn("cmpo")(token_level_rewards=r, response_mask=m,
                                           index=uid, turn_inputs=inputs)
    with cmpo_turn_inputs(inputs):              # what the interactcs_cmpo trainer does
        data = compute_advantage(data, adv_estimator="cmpo", config=algo_cfg)   # verl's own

verl calls a registered estimator with ``token_level_rewards`` (B, L), ``response_mask``
(B, L), ``config`` and ``index`` (uid per sample, one group per prompt) only. From those:

- agent turns: the runs of 1s in ``response_mask`` (turn k of row b is its k-th run);
- outcome R_out of row b: ``token_level_rewards[b].sum()`` (the agent loop's ``reward_score``
  sits on the last response token);
- groups: equal ``index``.

Per-turn process scores, costs and λ do not fit in those tensors; they come in a
:class:`TurnInputs` (built from the agent loop's ``extra_fields``), passed as the
``turn_inputs`` keyword or set for the duration of a call with :func:`cmpo_turn_inputs`.
The math is :func:`interactcs.algo.advantages.cmpo`; this module only reshapes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import torch

from interactcs.algo import advantages
from interactcs.algo.advantages import AdvantageConfig
from interactcs.integrations.verl import fields as F
from interactcs.rewards.batch import TurnBatch


@dataclass(frozen=True)
class TurnInputs:
    """Per-turn inputs of one verl batch, row-aligned with its tensors.

    Attributes:
        process: per row, (T_b,) process scores (NaN = unjudged).
        costs: per row, (T_b, K) costs per turn.
        lambdas: (K,) λ in ``cost_names`` order, used for this batch.
        cost_names: the K cost types.
        turn_ends: per row, the recorded exclusive turn ends (checked against the mask), or
            None to skip the check.
        config: estimator settings (ablation switches, cost mode, eps).
        estimator: the project estimator to run (``cmpo`` unless testing another).
    """

    process: Sequence[Sequence[float]]
    costs: Sequence[Sequence[Sequence[float]]]
    lambdas: Sequence[float]
    cost_names: tuple[str, ...] = ("voucher",)
    turn_ends: Sequence[Sequence[int]] | None = None
    config: AdvantageConfig = field(default_factory=AdvantageConfig)
    estimator: str = "cmpo"

    @classmethod
    def from_extra_fields(
        cls,
        extras: Sequence[Mapping[str, Any] | None],
        *,
        lambdas: Mapping[str, float],
        config: AdvantageConfig | None = None,
    ) -> TurnInputs:
        """Build from the agent loop's per-row ``extra_fields`` (see :mod:`.fields`).

        Rows without interactcs fields (e.g. verl's synthetic padding) get no turns.
        """
        names = tuple(lambdas)
        process, costs, ends = [], [], []
        for e in extras:
            e = e or {}
            got = tuple(e.get(F.COST_NAMES) or names)
            if e.get(F.PROCESS) is not None and got != names:
                raise ValueError(f"rollout cost types {got} differ from the controllers' {names}")
            process.append([math.nan if x is None else float(x) for x in e.get(F.PROCESS) or []])
            costs.append([list(map(float, c)) for c in e.get(F.COSTS) or []])
            ends.append([int(x) for x in e.get(F.TURN_ENDS) or []])
        return cls(
            process=process,
            costs=costs,
            lambdas=[float(lambdas[n]) for n in names],
            cost_names=names,
            turn_ends=ends,
            config=config or AdvantageConfig(),
        )


_CURRENT: ContextVar[TurnInputs | None] = ContextVar("interactcs_cmpo_turn_inputs", default=None)


@contextmanager
def cmpo_turn_inputs(inputs: TurnInputs) -> Iterator[TurnInputs]:
    """Make ``inputs`` visible to the ``cmpo`` estimator for calls inside the block."""
    token = _CURRENT.set(inputs)
    try:
        yield inputs
    finally:
        _CURRENT.reset(token)


def run_ends(response_mask: torch.Tensor | np.ndarray) -> list[list[int]]:
    """Exclusive end offset of every run of 1s, per row of a (B, L) mask."""
    m = np.asarray(
        response_mask.cpu() if isinstance(response_mask, torch.Tensor) else response_mask
    )
    m = m.astype(bool)
    nxt = np.zeros_like(m)
    nxt[:, :-1] = m[:, 1:]
    rows, cols = np.nonzero(m & ~nxt)
    out: list[list[int]] = [[] for _ in range(m.shape[0])]
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        out[r].append(c + 1)
    return out


def build_turn_batch(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: Sequence[Any] | np.ndarray | None,
    inputs: TurnInputs,
) -> tuple[TurnBatch, torch.Tensor]:
    """The project's :class:`TurnBatch` for a verl batch, and the (B, L) token -> turn-row map.

    Raises:
        ValueError: a row's mask has a different number of agent turns than its inputs, or
            its recorded turn ends disagree with the mask.
    """
    bsz = response_mask.shape[0]
    if len(inputs.process) != bsz or len(inputs.costs) != bsz:
        raise ValueError(f"turn inputs have {len(inputs.process)} rows, the batch has {bsz}")
    k = len(inputs.cost_names)
    dialogue: list[int] = []
    process: list[float] = []
    costs: list[Sequence[float]] = []
    for b, ends in enumerate(run_ends(response_mask)):
        if not ends:  # no agent token (verl padding, or no turn was played)
            continue
        p, c = inputs.process[b], inputs.costs[b]
        if len(p) != len(ends) or len(c) != len(ends):
            raise ValueError(
                f"row {b}: response_mask has {len(ends)} agent turns, the turn inputs "
                f"{len(p)} process scores and {len(c)} cost rows"
            )
        if inputs.turn_ends is not None and list(inputs.turn_ends[b]) != ends:
            raise ValueError(
                f"row {b}: recorded turn ends {list(inputs.turn_ends[b])} != mask runs {ends}"
            )
        dialogue += [b] * len(ends)
        process += list(p)
        costs += list(c)
    group = (
        np.unique(np.asarray(index), return_inverse=True)[1]
        if index is not None
        else np.arange(bsz)
    )
    batch = TurnBatch(
        dialogue=np.asarray(dialogue, dtype=np.int64),
        group=np.asarray(group, dtype=np.int64).reshape(-1),
        outcome=token_level_rewards.detach().double().sum(-1).cpu().numpy(),
        process=np.asarray(process, dtype=np.float64),
        costs=np.asarray(costs, dtype=np.float64).reshape(len(dialogue), k),
        lambdas=np.asarray(inputs.lambdas, dtype=np.float64),
        cost_names=inputs.cost_names,
    )
    first_row = torch.as_tensor(batch.row_offsets())
    token_turn = advantages.token_turn_index(response_mask.cpu(), first_row)
    return batch, cast(torch.Tensor, token_turn)


def compute_cmpo_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    config: Any = None,
    index: Sequence[Any] | np.ndarray | None = None,
    turn_inputs: TurnInputs | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """verl estimator: CMPO advantages broadcast to every token of each agent turn.

    Args:
        token_level_rewards: (B, L) rewards; their row sum is the dialogue's outcome.
        response_mask: (B, L) 1 on policy tokens, 0 on user/padding tokens.
        config: verl's ``algorithm`` config (unused: settings come with ``turn_inputs``).
        index: (B,) group id (verl's uid) per row.
        turn_inputs: per-turn inputs; default: the ones set by :func:`cmpo_turn_inputs`.

    Returns:
        ``(advantages, returns)``, both (B, L), 0 off agent tokens (returns = advantages).

    Raises:
        RuntimeError: no turn inputs were given.
    """
    inputs = turn_inputs if turn_inputs is not None else _CURRENT.get()
    if inputs is None:
        raise RuntimeError(
            "the cmpo estimator needs per-turn process scores and costs: run with "
            "trainer.v1.trainer_mode=interactcs_cmpo, or pass turn_inputs= / wrap the call "
            "in interactcs.integrations.verl.estimator.cmpo_turn_inputs(...)"
        )
    batch, token_turn = build_turn_batch(token_level_rewards, response_mask, index, inputs)
    out = advantages.compute(inputs.estimator, batch, inputs.config)
    adv = cast(torch.Tensor, advantages.turn_to_token(out.advantages, token_turn))
    adv = adv.to(device=token_level_rewards.device, dtype=token_level_rewards.dtype)
    return adv, adv.clone()


def register() -> None:
    """Register :func:`compute_cmpo_advantage` with verl as ``cmpo`` (idempotent)."""
    from verl.trainer.ppo.core_algos import register_adv_est

    register_adv_est(F.ESTIMATOR_NAME)(compute_cmpo_advantage)


register()
