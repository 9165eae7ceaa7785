"""Pack strategies for the act policy, the pack-aware warm-start teacher, the pack rubric
judge, and the training components built from a pack config."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import numpy as np
import pytest

from interactcs.env.prompt import render_agent_output as out
from interactcs.env.service_env import ServiceEnv
from interactcs.packs import load_pack
from interactcs.policies import act as A
from interactcs.policies.templates import FDS_STRATEGIES, STRATEGIES, strategy_set
from interactcs.rewards.judges.pack_rubric import PackRubricJudge
from interactcs.scenarios.loaders import load_scenarios
from interactcs.train.components import build_controllers, build_costs, build_judge, build_policy
from interactcs.train.config import TrainConfig
from interactcs.users.offline import OfflinePersonaSimulator

PACK = "packs/returns"


@pytest.fixture(scope="module")
def scenarios():
    return load_scenarios(PACK, n=64, seed=0)


def test_fds_space_is_unchanged() -> None:
    assert FDS_STRATEGIES.names == STRATEGIES and strategy_set("packs/fds") is FDS_STRATEGIES
    assert A.act_space(None) is A.FDS_SPACE and A.act_space("packs/fds") is A.FDS_SPACE
    assert A.FDS_SPACE.feature_dim == A.FEATURE_DIM and A.FDS_SPACE.n_actions == A.N_ACTIONS == 10
    policy = A.ActPolicy(seed=0)
    assert policy.module.head.out_features == 10


@pytest.mark.parametrize("name", strategy_set(PACK).names)
def test_every_pack_strategy_reads_back(name: str, scenarios) -> None:
    pack, st = load_pack(PACK), strategy_set(PACK)
    for seed in range(4):
        think, response, action = st.render(
            name, scenarios[seed], random.Random(seed), item="Kettle"
        )
        acts = pack.acts.detect(response, action)
        assert set(st.strategy_acts[name]) <= acts, (name, response, acts)
        assert action == st.action_of(name)
        assert think and "{" not in response


def test_act_policy_on_a_pack(scenarios, tmp_path: Path) -> None:
    policy = A.ActPolicy(seed=0, pack=PACK)
    space = policy.space
    assert space.names == strategy_set(PACK).names and space.eligible == ("refund", "replacement")
    env = ServiceEnv(OfflinePersonaSimulator())
    env.reset(scenarios[0], seed=0)
    state = env.state()
    x = A.featurize(state, space)
    assert x.shape == (space.feature_dim,)
    refund_id = space.names.index("issue_refund")
    assert A.valid_actions(state, space)[refund_id]
    texts = asyncio.run(policy.aact([state]))
    assert state.extra["turn_meta"]["strategy_name"] in space.names
    env.step(texts[0])
    assert env.last_turn().ok
    env.reset(scenarios[0], seed=0)
    env.step(out("t", "I've processed a full refund for the item.", "refund"))
    assert not A.valid_actions(env.state(), space)[refund_id]  # limit 1 reached
    policy.save(tmp_path / "p")
    fresh = A.ActPolicy(seed=1)  # FDS by default; loading rebuilds the pack space
    fresh.load(tmp_path / "p")
    assert fresh.space is space
    for a, b in zip(fresh.module.parameters(), policy.module.parameters(), strict=True):
        assert np.allclose(a.detach().numpy(), b.detach().numpy())
    fds_env = ServiceEnv(OfflinePersonaSimulator())
    fds_env.reset(load_scenarios("hard", n=1)[0], seed=0)
    with pytest.raises(ValueError, match="cannot act on a scenario of FDS"):
        asyncio.run(policy.aact([fds_env.state()]))


def test_rule_teacher_speaks_the_pack_space(scenarios) -> None:
    from interactcs.rollout.runner import run_dialogues

    trajs = run_dialogues(
        A.RuleTeacher(seed=0), OfflinePersonaSimulator(), scenarios[:32], seeds=range(32)
    )
    names = strategy_set(PACK).names
    used = {t.policy_meta["strategy_name"] for tr in trajs for t in tr.turns}
    assert used <= set(names) and {"empathize_probe", "ask_evidence"} <= used
    assert any(n.startswith("issue_") for n in used)
    policy = A.ActPolicy(seed=0, pack=PACK)
    from interactcs.rewards.compose import from_trajectories

    batch = policy.encode(trajs, from_trajectories(trajs).row_offsets())
    assert batch.tensors["features"].shape[-1] == policy.space.feature_dim
    assert all(t.ok for tr in trajs for t in tr.turns)


def _judged(scenario, script):
    env = ServiceEnv(OfflinePersonaSimulator())
    env.reset(scenario, seed=0)
    for response, action in script:
        if not env.done:
            env.step(out("t", response, action))
    traj = env.trajectory()
    PackRubricJudge(load_pack(PACK)).judge([traj], scenarios={scenario.scenario_id: scenario})
    return traj


def test_pack_rubric_judge(scenarios) -> None:
    late = next(s for s in scenarios if s.case["days_since_delivery"] > s.case["return_window"])
    ok = next(
        s
        for s in scenarios
        if s.case["days_since_delivery"] <= s.case["return_window"] and not s.order.rc_tag
    )
    rushed = _judged(ok, [("I've processed a full refund for the item.", "refund")])
    detail = rushed.turns[0].process_detail
    assert (
        detail["scores"]["scenario_rules"] == 0.0
        and "before enough" in detail["reasons"]["scenario_rules"]
    )
    outside = _judged(
        late,
        [
            ("Sorry. What happened exactly?", "chat"),
            ("Could you send me a photo?", "chat"),
            ("I've processed a full refund for the item.", "refund"),
        ],
    )
    last = outside.turns[-1]
    if last.action == "refund":
        assert last.process_detail["scores"]["scenario_rules"] == 0.0
        assert "outside the SOP" in last.process_detail["reasons"]["scenario_rules"]
    careful = _judged(ok, [("Sorry to hear that. What happened with the item exactly?", "chat")])
    assert careful.turns[0].process_score == 1.0


def test_components_from_a_pack_config() -> None:
    cfg = TrainConfig.load(None, ["scenarios=packs/returns"])
    assert cfg.budgets == {"voucher": 0.3, "refund": 0.1}
    costs = build_costs(cfg)
    assert costs.names == ("voucher", "refund") and costs.budgets == cfg.budgets
    assert costs.charge("refund") == {"voucher": 0.0, "refund": 1.0}
    assert costs.charge("replacement") == {"voucher": 0.0, "refund": 0.0}
    assert build_controllers(cfg).names == ("voucher", "refund")
    assert isinstance(build_judge(cfg), PackRubricJudge)
    assert build_policy(cfg).space.pack == PACK
    override = TrainConfig.load(None, ["scenarios=packs/returns", "budgets={refund: 0.05}"])
    assert override.budgets == {"refund": 0.05}
    pack_train = load_pack(PACK).spec.train
    for key, value in pack_train.items():
        node = cfg
        for part in key.split("."):
            node = getattr(node, part)
        assert node == value, key
    explicit = TrainConfig.load(None, ["scenarios=packs/returns", "steps=7"])
    assert explicit.steps == 7


def test_each_lambda_charges_only_its_cost_type(scenarios) -> None:
    """Two budgets: the cmpo advantage subtracts λ_voucher·c_voucher + λ_refund·c_refund.

    Turn costs (voucher, refund): refund turn (0, 1), voucher turn (1, 0), replacement turn
    (0, 0) (tracked, not budgeted). With λ = (0.5, 2.0) and only the cost term: -2.0, -0.5, 0.
    """
    from interactcs.algo.advantages import AdvantageConfig, compute
    from interactcs.rewards.compose import from_trajectories

    cfg = TrainConfig.load(None, ["scenarios=packs/returns"])
    trajs = []
    for action, text in (
        ("refund", "I've processed a full refund for the item."),
        ("voucher", "I've issued a store voucher to your account."),
        ("replacement", "I've sent a replacement unit to your address."),
    ):
        env = ServiceEnv(OfflinePersonaSimulator())
        env.reset(scenarios[5], seed=0)
        env.step(out("t", text, action))
        trajs.append(env.trajectory())
    batch = from_trajectories(
        trajs, costs=build_costs(cfg), lambdas={"voucher": 0.5, "refund": 2.0}
    )
    assert batch.cost_names == ("voucher", "refund")
    assert batch.costs.tolist() == [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]]
    adv = compute("cmpo", batch, AdvantageConfig(use_outcome=False, use_process=False))
    assert np.allclose(adv.advantages, [-2.0, -0.5, 0.0])
    assert batch.cost_estimates() == {"voucher": 1 / 3, "refund": 1 / 3}
