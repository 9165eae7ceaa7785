"""Outcome reward, costs, and the trajectory -> TurnBatch builder."""

from __future__ import annotations

import numpy as np
import pytest

from interactcs.algo import advantages as adv
from interactcs.rewards.compose import from_trajectories, group_ids
from interactcs.rewards.cost import CostSpec, CostType
from interactcs.rewards.outcome import OutcomeConfig, outcome_reward, raw_satisfaction
from interactcs.types import EndReason, FormatStatus

CHAT = ("ok", "Could you send a photo of the fries?", "chat")
VOUCHER = ("[Sent Picture: soggy fries]", "I've issued a voucher for you.", "voucher")


@pytest.mark.parametrize("sat, expected", [(5, 1.0), (4, 0.75), (3, 0.5), (1, 0.0)])
def test_outcome_normalised(make_traj, sat, expected):
    assert outcome_reward(make_traj([CHAT], satisfaction=sat)) == expected


@pytest.mark.parametrize(
    "end", [EndReason.TURN_CAP, EndReason.FORMAT_FAILURE, EndReason.SIMULATOR_FAILURE]
)
def test_failed_or_truncated_gets_lowest(make_traj, end):
    t = make_traj([CHAT], satisfaction=5, end_reason=end)
    assert outcome_reward(t) == 0.0
    assert outcome_reward(t, OutcomeConfig(fail_value=-0.5)) == -0.5
    assert raw_satisfaction(t) is None


def test_out_of_range_satisfaction_is_failure(make_traj):
    assert outcome_reward(make_traj([CHAT], satisfaction=7)) == 0.0


def test_costs_recorded_and_table(make_traj):
    """Voucher on turn 1 only. A second cost type 'transfer' (not charged by the env) reads 0
    from Turn.costs but 1 per 'transfer' action with source='table'."""
    t = make_traj([CHAT, VOUCHER])
    spec = CostSpec()
    assert spec.names == ("voucher",) and spec.budgets == {"voucher": 0.3}
    np.testing.assert_array_equal(spec.trajectory_costs(t), [[0.0], [1.0]])
    np.testing.assert_array_equal(spec.dialogue_costs(t), [1.0])
    two = CostSpec.from_dict(
        {"voucher": {"budget": 0.3}, "transfer": {"budget": 0.1, "per_action": {"transfer": 1.0}}},
        source="table",
    )
    assert two.budgets == {"voucher": 0.3, "transfer": 0.1}
    assert two.charge("transfer") == {"voucher": 0.0, "transfer": 1.0}
    np.testing.assert_array_equal(two.trajectory_costs(t), [[0.0, 0.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="unique"):
        CostSpec((CostType("voucher"), CostType("voucher")))


def test_table_source_skips_failed_turns(make_traj):
    t = make_traj([CHAT, VOUCHER], statuses=[FormatStatus.OK, FormatStatus.SECOND_VOUCHER])
    np.testing.assert_array_equal(CostSpec(source="table").trajectory_costs(t), [[0.0], [0.0]])


def test_from_trajectories(make_traj):
    """Two dialogues of scenario A (group 0) and one of B (group 1); judge scores written by
    hand, one failed (None -> NaN). Rows: d0 t0, d0 t1, d1 t0, d2 t0."""
    d0 = make_traj([CHAT, VOUCHER], satisfaction=5, scenario_id="A")
    d1 = make_traj([CHAT], end_reason=EndReason.TURN_CAP, scenario_id="A")
    d2 = make_traj([CHAT], satisfaction=3, scenario_id="B")
    d0.turns[0].process_score, d0.turns[1].process_score = 1.0, None
    d1.turns[0].process_score, d2.turns[0].process_score = 0.5, 0.0
    d2.dialogue_scores["process"] = 0.8
    b = from_trajectories([d0, d1, d2], lambdas={"voucher": 0.4})
    np.testing.assert_array_equal(b.dialogue, [0, 0, 1, 2])
    np.testing.assert_array_equal(b.group, [0, 0, 1])
    np.testing.assert_array_equal(b.outcome, [1.0, 0.0, 0.5])
    np.testing.assert_array_equal(b.process, [1.0, np.nan, 0.5, 0.0])
    np.testing.assert_array_equal(b.costs[:, 0], [0, 1, 0, 0])
    np.testing.assert_array_equal(b.satisfaction, [5, np.nan, 3])
    np.testing.assert_array_equal(b.dialogue_process, [np.nan, np.nan, 0.8])
    assert b.lambdas.tolist() == [0.4] and b.cost_estimates() == {"voucher": pytest.approx(1 / 3)}
    per_dialogue = from_trajectories([d0, d1, d2], process_mode="dialogue")
    np.testing.assert_array_equal(per_dialogue.process, [np.nan, np.nan, np.nan, 0.8])
    # the failed judgement is left out: CMPO's process term on row 1 is exactly 0
    cmpo = adv.compute("cmpo", b, adv.AdvantageConfig(eps=0.0, use_outcome=False, use_cost=False))
    assert cmpo.advantages[1] == 0.0 and not np.isnan(cmpo.advantages).any()


def test_group_ids(make_traj):
    a, b = make_traj([CHAT], scenario_id="x"), make_traj([CHAT], scenario_id="y")
    assert group_ids([a, b, a]).tolist() == [0, 1, 0]
    a.group = 5
    with pytest.raises(ValueError, match="group"):
        group_ids([a, b])
    b.group = 9
    assert group_ids([a, b]).tolist() == [5, 9]
