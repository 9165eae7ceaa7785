"""verl's own compute_advantage with adv_estimator=cmpo equals the project's estimator."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("verl")

import torch  # noqa: E402
from verl.protocol import DataProto  # noqa: E402
from verl.trainer.config import AlgoConfig  # noqa: E402
from verl.trainer.ppo.core_algos import get_adv_estimator_fn  # noqa: E402
from verl.trainer.ppo.ray_trainer import compute_advantage  # noqa: E402

from interactcs.algo import advantages  # noqa: E402
from interactcs.algo.advantages import AdvantageConfig  # noqa: E402
from interactcs.integrations.verl import fields as F  # noqa: E402
from interactcs.integrations.verl.estimator import TurnInputs, cmpo_turn_inputs, run_ends  # noqa: E402
from interactcs.rewards.batch import TurnBatch  # noqa: E402

# Four dialogues in two groups (uid a, b), L = 12 response tokens. Agent turns are runs of 1s:
#   row 0: turns [0,3) [5,8)      row 1: turn [0,4)
#   row 2: turns [0,2) [4,6) [9,11)   row 3: turns [1,3) [6,7)
MASK = torch.tensor(
    [
        [1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0],
        [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        [1, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0],
        [0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0],
    ]
)
SPANS = [[(0, 3), (5, 8)], [(0, 4)], [(0, 2), (4, 6), (9, 11)], [(1, 3), (6, 7)]]
OUTCOME = [1.0, 0.25, 0.5, 0.0]
PROCESS = [[1.0, 0.5], [0.0], [0.5, math.nan, 1.0], [0.25, 0.75]]
COSTS = [[[0.0], [1.0]], [[0.0]], [[0.0], [0.0], [1.0]], [[0.0], [0.0]]]
UID = np.array(["a", "a", "b", "b"], dtype=object)


def _rewards(outcome: list[float], mask: torch.Tensor) -> torch.Tensor:
    """Outcome on the last response token of each row (where verl puts reward_score)."""
    r = torch.zeros(mask.shape, dtype=torch.float32)
    r[:, -1] = torch.tensor(outcome)
    return r


def _expected(lam: float, cfg: AdvantageConfig) -> torch.Tensor:
    """The project's estimator on a hand-built TurnBatch, placed on tokens by hand."""
    batch = TurnBatch(
        dialogue=[b for b, spans in enumerate(SPANS) for _ in spans],
        group=[0, 0, 1, 1],
        outcome=OUTCOME,
        process=[p for row in PROCESS for p in row],
        costs=[c for row in COSTS for c in row],
        lambdas=[lam],
    )
    turn_adv = advantages.compute("cmpo", batch, cfg).advantages
    out = torch.zeros(MASK.shape)
    m = 0
    for b, spans in enumerate(SPANS):
        for s, e in spans:
            out[b, s:e] = float(turn_adv[m])
            m += 1
    return out


def _inputs(lam: float, cfg: AdvantageConfig) -> TurnInputs:
    extras = [
        {
            F.PROCESS: [None if math.isnan(x) else x for x in p],
            F.COSTS: c,
            F.COST_NAMES: ["voucher"],
            F.TURN_ENDS: [e for _, e in spans],
        }
        for p, c, spans in zip(PROCESS, COSTS, SPANS, strict=True)
    ]
    return TurnInputs.from_extra_fields(extras, lambdas={"voucher": lam}, config=cfg)


@pytest.mark.parametrize(
    "cfg",
    [
        AdvantageConfig(),
        AdvantageConfig(cost_mode="dialogue"),
        AdvantageConfig.for_ablation("no_process"),
    ],
    ids=["cmpo", "dialogue-cost", "no-process"],
)
def test_verl_compute_advantage_matches_project(cfg: AdvantageConfig) -> None:
    data = DataProto.from_dict(
        tensors={"token_level_rewards": _rewards(OUTCOME, MASK), "response_mask": MASK},
        non_tensors={"uid": UID},
    )
    with cmpo_turn_inputs(_inputs(0.4, cfg)):
        data = compute_advantage(data, adv_estimator="cmpo", config=AlgoConfig())
    expected = _expected(0.4, cfg)
    torch.testing.assert_close(data.batch["advantages"], expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(data.batch["returns"], expected, rtol=0, atol=1e-6)
    assert (data.batch["advantages"][MASK == 0] == 0).all()


def test_registered_fn_takes_inputs_as_keyword_and_rejects_missing() -> None:
    fn = get_adv_estimator_fn("cmpo")
    adv, _ = fn(
        token_level_rewards=_rewards(OUTCOME, MASK),
        response_mask=MASK,
        index=UID,
        turn_inputs=_inputs(0.0, AdvantageConfig()),
    )
    torch.testing.assert_close(adv, _expected(0.0, AdvantageConfig()), rtol=0, atol=1e-6)
    with pytest.raises(RuntimeError, match="interactcs_cmpo"):
        fn(token_level_rewards=_rewards(OUTCOME, MASK), response_mask=MASK, index=UID)


def test_padding_row_without_turns_changes_nothing() -> None:
    """verl's synthetic padding: all-zero mask, extra_fields copied from row 0, own uid."""
    mask = torch.cat([MASK, torch.zeros(1, 12, dtype=MASK.dtype)])
    inputs = _inputs(0.4, AdvantageConfig())
    padded = TurnInputs(
        process=[*inputs.process, inputs.process[0]],
        costs=[*inputs.costs, inputs.costs[0]],
        lambdas=inputs.lambdas,
        turn_ends=[*inputs.turn_ends, inputs.turn_ends[0]],
    )
    adv, _ = get_adv_estimator_fn("cmpo")(
        token_level_rewards=_rewards([*OUTCOME, 0.0], mask),
        response_mask=mask,
        index=np.array([*UID, "pad"], dtype=object),
        turn_inputs=padded,
    )
    torch.testing.assert_close(adv[:4], _expected(0.4, AdvantageConfig()), rtol=0, atol=1e-6)
    assert (adv[4] == 0).all()


def test_mismatched_turns_are_reported() -> None:
    inputs = _inputs(0.4, AdvantageConfig())
    short = TurnInputs(
        process=[inputs.process[0][:1], *inputs.process[1:]],
        costs=inputs.costs,
        lambdas=inputs.lambdas,
    )
    with pytest.raises(ValueError, match="row 0: response_mask has 2 agent turns"):
        get_adv_estimator_fn("cmpo")(
            token_level_rewards=_rewards(OUTCOME, MASK),
            response_mask=MASK,
            index=UID,
            turn_inputs=short,
        )
    moved = TurnInputs(
        process=inputs.process,
        costs=inputs.costs,
        lambdas=inputs.lambdas,
        turn_ends=[[3, 7], *inputs.turn_ends[1:]],
    )
    with pytest.raises(ValueError, match="recorded turn ends"):
        get_adv_estimator_fn("cmpo")(
            token_level_rewards=_rewards(OUTCOME, MASK),
            response_mask=MASK,
            index=UID,
            turn_inputs=moved,
        )


def test_run_ends() -> None:
    assert run_ends(MASK) == [[e for _, e in spans] for spans in SPANS]
