"""λ controllers: OmniSafe fixture replay, hand-computed updates, state round trips."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from interactcs.algo.controllers import (
    CONTROLLERS,
    LambdaController,
    MultiController,
    PIDLagrangian,
    ReleaseController,
    make_controller,
)


def _cases(shared_dir):
    data = json.loads((shared_dir / "fixtures" / "pid_lagrangian_omnisafe.json").read_text())
    return data["cases"]


def test_omnisafe_fixture_replayed_to_1e9(shared_dir):
    """Every trajectory of the OmniSafe fixture, fed one cost at a time, to 1e-9."""
    cases = _cases(shared_dir)
    assert len(cases) >= 10
    for case in cases:
        pid = PIDLagrangian.from_omnisafe(**case["params"])
        assert pid.value == 0.0  # "lambda before any update is 0.0"
        got = [pid.update(c) for c in case["costs"]]
        np.testing.assert_allclose(
            got, case["expected_lambda"], rtol=0, atol=1e-9, err_msg=case["name"]
        )


def test_omnisafe_fixture_survives_state_round_trip_midway(shared_dir):
    """Saving at the halfway point and resuming in a fresh controller changes nothing."""
    for case in _cases(shared_dir):
        costs, expected = case["costs"], case["expected_lambda"]
        half = len(costs) // 2
        a = PIDLagrangian.from_omnisafe(**case["params"])
        for c in costs[:half]:
            a.update(c)
        b = PIDLagrangian.from_omnisafe(**case["params"])
        b.load_state_dict(json.loads(json.dumps(a.state_dict())))
        got = [b.update(c) for c in costs[half:]]
        np.testing.assert_allclose(got, expected[half:], rtol=0, atol=1e-9)


def test_pid_hand_computed():
    """kp=1, ki=0.5, kd=0.2, d_delay=2, both EMA alphas 0.5, d=0.3, I_0=0.

    J=0.5: e=0.2, I=0.1, P=0.5*0+0.5*0.2=0.1, S=0.25, D=max(0, 0.25-0)=0.25,
           λ=0.1+0.1+0.2*0.25=0.25; history [0, 0.25]
    J=0.1: e=-0.2, I=max(0, 0.1-0.1)=0, P=0.05-0.1=-0.05, S=0.125+0.05=0.175,
           D=max(0, 0.175-0)=0.175, λ=max(0, -0.05+0+0.035)=0; history [0.25, 0.175]
    J=0.7: e=0.4, I=0.2, P=-0.025+0.2=0.175, S=0.0875+0.35=0.4375,
           D=0.4375-0.25=0.1875, λ=0.175+0.2+0.0375=0.4125
    """
    pid = make_controller(
        "pid", budget=0.3, kp=1, ki=0.5, kd=0.2, d_delay=2, p_ema_alpha=0.5, d_ema_alpha=0.5
    )
    assert [round(pid.update(j), 12) for j in (0.5, 0.1, 0.7)] == [0.25, 0.0, 0.4125]


def test_pid_caps():
    """lambda_max caps λ; unit_clip (OmniSafe diff_norm) caps I and λ at 1."""
    pid = PIDLagrangian(budget=0.0, kp=0, ki=10, kd=0, lambda_max=2.5)
    assert pid.update(1.0) == 2.5
    unit = PIDLagrangian(budget=0.0, kp=0, ki=10, kd=0, unit_clip=True, lambda_max=None)
    assert unit.update(1.0) == 1.0 and unit.integral == 1.0


def test_gradient_hand_computed():
    """lr=0.5, d=0.3: 0+0.5*0.2=0.1; 0.1+0.5*(-0.2)=0; stays 0 (projection);
    then 0.5*9.7=4.85; then 4.85+4.85 capped at λ_max=5."""
    g = make_controller("gradient", budget=0.3, lr=0.5, lambda_max=5.0)
    got = [g.update(j) for j in (0.5, 0.1, 0.0, 10.0, 10.0)]
    np.testing.assert_allclose(got, [0.1, 0.0, 0.0, 4.85, 5.0], atol=1e-12)


#: the release's rule with its code defaults (λ_0 = 0, r̃_0 = target = budget) instead of
#: the shipped config values that are the controller's defaults
RELEASE_CODE_DEFAULTS = {"lambda_init": 0.0, "target": None, "smoothed_init": None}


def test_release_hand_computed():
    """r̃_0 = d = 0.3, α = 0.7, lr = 0.2:
    r=0.5: r̃ = 0.09+0.35 = 0.44, λ = 0.2*0.14 = 0.028
    r=0.1: r̃ = 0.132+0.07 = 0.202, λ = 0.028 - 0.2*0.098 = 0.0084
    r=0.1: r̃ = 0.0606+0.07 = 0.1306, λ = max(0, 0.0084 - 0.03388) = 0
    """
    rc = make_controller("release", **RELEASE_CODE_DEFAULTS)
    got = [rc.update(r) for r in (0.5, 0.1, 0.1)]
    np.testing.assert_allclose(got, [0.028, 0.0084, 0.0], atol=1e-12)
    assert math.isclose(rc.smoothed, 0.1306)


def test_release_observe_windows():
    """window=4: dialogues 1,0,0,1 fill one window (rate 0.5 -> λ 0.028); 1,1 stay pending."""
    rc = ReleaseController(window=4, **RELEASE_CODE_DEFAULTS)
    assert rc.observe([1, 0, 0, 1, 1, 1]) == pytest.approx(0.028)
    assert rc.steps == 1 and rc.pending == [1.0, 1.0]
    rc2 = ReleaseController(window=4, **RELEASE_CODE_DEFAULTS)
    rc2.load_state_dict(json.loads(json.dumps(rc.state_dict())))
    assert rc2.observe([0, 0]) == rc.observe([0, 0])


def test_none_and_fixed():
    assert make_controller("none").update(0.9) == 0.0
    f = make_controller("fixed", value=0.7)
    assert f.update(0.0) == 0.7 and f.update(1.0) == 0.7
    with pytest.raises(ValueError):
        make_controller("fixed", value=-1.0)


def test_registry_and_protocol():
    assert set(CONTROLLERS.available()) == {"none", "fixed", "gradient", "pid", "release"}
    for name in CONTROLLERS.available():
        assert isinstance(make_controller(name), LambdaController)
    with pytest.raises(KeyError, match="gradient"):
        make_controller("pdi")


@pytest.mark.parametrize("name", ["none", "fixed", "gradient", "pid", "release"])
def test_state_round_trip(name):
    rng = np.random.default_rng(0)
    seq = rng.uniform(0, 1, 12)
    a = make_controller(name)
    for x in seq[:6]:
        a.update(x)
    b = make_controller(name)
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    assert b.value == a.value
    assert [b.update(x) for x in seq[6:]] == [a.update(x) for x in seq[6:]]


def test_state_of_other_controller_rejected():
    with pytest.raises(ValueError, match="gradient"):
        make_controller("pid").load_state_dict(make_controller("gradient").state_dict())


def test_nonfinite_cost_rejected():
    with pytest.raises(ValueError, match="finite"):
        make_controller("pid").update(float("nan"))


def test_multi_controller_two_budgets():
    """voucher: gradient lr=1, d=0.3; transfer: gradient lr=1, d=0.1.
    Both see 0.4: λ_v = 0.1, λ_t = 0.3."""
    mc = MultiController.from_config(
        {
            "voucher": {"controller": "gradient", "budget": 0.3, "lr": 1.0},
            "transfer": {"controller": "gradient", "budget": 0.1, "lr": 1.0},
        }
    )
    out = mc.update({"voucher": 0.4, "transfer": 0.4})
    assert out == pytest.approx({"voucher": 0.1, "transfer": 0.3})
    np.testing.assert_allclose(mc.lambdas(["transfer", "voucher"]), [0.3, 0.1])
    assert mc.budgets == {"voucher": 0.3, "transfer": 0.1}
    with pytest.raises(KeyError, match="transfer"):
        mc.update({"voucher": 0.2})
    fresh = MultiController.from_budgets({"voucher": 0.3, "transfer": 0.1}, "gradient", lr=1.0)
    fresh.load_state_dict(json.loads(json.dumps(mc.state_dict())))
    assert fresh.values == mc.values
    assert fresh.update({"voucher": 0.0, "transfer": 0.0}) == mc.update(
        {"voucher": 0.0, "transfer": 0.0}
    )


def _dialogues(vouchers: int, n: int = 128) -> list[float]:
    return [1.0] * vouchers + [0.0] * (n - vouchers)


def test_release_two_windows_as_the_release():
    """The release's shipped values (λ_0 = 0.7, target 0.27, r̃_0 = 0.28, α = 0.7, kp = 0.2,
    window 128), 256 dialogues fed as three uneven steps (100, 100, 56) of a trainer:

    window 1 (dialogues 1-128, 48 vouchers): r = 0.375
        r̃ = 0.3·0.28 + 0.7·0.375 = 0.084 + 0.2625 = 0.3465
        λ = 0.7 + 0.2·(0.3465 − 0.27) = 0.7 + 0.0153 = 0.7153
    window 2 (dialogues 129-256, 16 vouchers): r = 0.125
        r̃ = 0.3·0.3465 + 0.7·0.125 = 0.10395 + 0.0875 = 0.19145
        λ = 0.7153 + 0.2·(0.19145 − 0.27) = 0.7153 − 0.01571 = 0.69959
    """
    costs = _dialogues(48) + _dialogues(16)
    mc = MultiController({"voucher": make_controller("release", budget=0.3)})
    assert mc.values["voucher"] == 0.7  # λ of step 1
    lams = [
        mc.update_from_dialogues({"voucher": costs[a:b]})["voucher"]
        for a, b in ((0, 100), (100, 200), (200, 256))
    ]
    np.testing.assert_allclose(lams, [0.7, 0.7153, 0.69959], rtol=0, atol=1e-12)
    rc = mc.controllers["voucher"]
    assert rc.steps == 2 and rc.pending == [] and math.isclose(rc.smoothed, 0.19145)
    assert rc.budget == 0.3 and rc.target == 0.27


def test_release_rate_window_longer_than_update_window():
    """train_window_size 256, update every 128: window 2 sees all 256 dialogues, r = 64/256:
    r̃ = 0.10395 + 0.7·0.25 = 0.27895, λ = 0.7153 + 0.2·0.00895 = 0.71709."""
    rc = ReleaseController(rate_window=256)
    rc.observe(_dialogues(48) + _dialogues(16))
    assert math.isclose(rc.value, 0.71709, abs_tol=1e-12)


def test_release_caps_and_initial_values():
    assert ReleaseController(lambda_init=9.0, lambda_max=2.0).value == 2.0
    rc = ReleaseController(lambda_init=1.9, lambda_max=2.0, lr=10.0)
    assert rc.observe([1.0] * 128) == 2.0
    rc = ReleaseController(budget=0.2, target=None, smoothed_init=None)
    assert rc.target == 0.2 and rc.smoothed == 0.2


def test_pid_lambda_init_changes_step_one_only():
    """λ before the first update = lambda_init; the updates themselves are unchanged."""
    kw = {"budget": 0.3, "kp": 1.0, "ki": 0.5, "kd": 0.2, "integral_init": 0.4}
    a, b = PIDLagrangian(**kw), PIDLagrangian(**kw, lambda_init=0.4)
    assert (a.value, b.value) == (0.0, 0.4)
    seq = [0.5, 0.1, 0.3, 0.9]
    assert [a.update(x) for x in seq] == [b.update(x) for x in seq]
    assert PIDLagrangian(unit_clip=True, lambda_max=None, lambda_init=3.0).value == 1.0


def test_update_from_dialogues_equals_update_on_the_mean():
    """Step-level kinds get one update on the mean dialogue cost (= TurnBatch.cost_estimates)."""
    costs = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
    for kind in ("none", "fixed", "gradient", "pid"):
        a = MultiController.from_budgets({"voucher": 0.3, "transfer": 0.1}, kind)
        b = MultiController.from_budgets({"voucher": 0.3, "transfer": 0.1}, kind)
        got = a.update_from_dialogues(costs, names=["voucher", "transfer"])
        assert got == b.update({"voucher": 0.6, "transfer": 0.2})
        assert a.update_from_dialogues({"voucher": [], "transfer": []}) == got  # no dialogues
    with pytest.raises(KeyError, match="transfer"):
        a.update_from_dialogues({"voucher": [1.0]})
    with pytest.raises(ValueError, match="names"):
        a.update_from_dialogues(costs)


@pytest.mark.parametrize(
    ("controller", "want"),
    [
        ({"name": "none", "init": 0.4}, 0.0),
        ({"name": "fixed", "init": 0.4, "fixed_value": 0.9}, 0.9),
        ({"name": "gradient", "init": 0.4}, 0.4),
        ({"name": "pid", "init": 0.4}, 0.4),
        ({"name": "pid"}, 1.0),
        ({"name": "release", "init": 0.4}, 0.4),
        ({"name": "release"}, 0.7),
        ({"name": "release", "init": 9.0, "lambda_max": 2.0}, 2.0),
    ],
)
def test_controller_init_is_the_lambda_of_step_one(controller, want):
    from interactcs.train.components import build_controllers
    from interactcs.train.config import TrainConfig

    cfg = TrainConfig.model_validate({"controller": controller, "budgets": {"voucher": 0.3}})
    ctl = build_controllers(cfg).controllers["voucher"]
    assert ctl.value == want
    if controller["name"] == "pid":
        assert ctl.integral == controller.get("init", 1.0)  # and the integral starts there
    if controller["name"] == "release":
        assert (ctl.target, ctl.smoothed, ctl.window) == (0.27, 0.28, 128)
        assert ctl.lambda_max == controller.get("lambda_max", 5.0)
