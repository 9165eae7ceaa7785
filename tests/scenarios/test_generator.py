"""Scene generator mixes, determinism, eval sampling and the built-in bank."""

from __future__ import annotations

from collections import Counter

import pytest

from interactcs.scenarios.bank import load_bank
from interactcs.scenarios.generator import (
    CATEGORY_BLOCK,
    category_counts,
    generate_scene,
    sample_eval_users,
    scaled_counts,
    split_train_heldout,
)
from interactcs.scenarios.schema import COMPLAINT_TYPES, NEED_GIVEN_CATEGORY


def test_scaled_counts_hand_values() -> None:
    # 10/30/25/25/10 of 128 = 12.8/38.4/32/32/12.8 -> floors 12/38/32/32/12, +1 to both .8
    assert scaled_counts([10, 30, 25, 25, 10], 128) == [13, 38, 32, 32, 13]
    assert scaled_counts([8, 24, 20, 20, 8], 40) == [4, 12, 10, 10, 4]
    assert scaled_counts([1, 1, 1], 2) == [1, 1, 0]  # ties go to the lower index
    assert scaled_counts([1, 2], 0) == [0, 0]
    with pytest.raises(ValueError):
        scaled_counts([1, 2], -1)


@pytest.mark.parametrize("scene", ["hard", "easy"])
def test_exact_category_counts_per_block(scene: str) -> None:
    scenarios = generate_scene(scene, n=300, seed=1)
    cats = [s.category for s in scenarios]
    for start in (0, 128):
        block = Counter(cats[start : start + 128])
        assert tuple(block[c] for c in range(1, 6)) == CATEGORY_BLOCK[scene]
    tail = Counter(cats[256:])
    assert [tail[c] for c in range(1, 6)] == scaled_counts(CATEGORY_BLOCK[scene], 44)
    assert category_counts("hard", 300) == [28, 94, 75, 75, 28]


def test_deterministic_under_seed() -> None:
    a, b = generate_scene("hard", 64, seed=5), generate_scene("hard", 64, seed=5)
    assert a == b
    assert generate_scene("hard", 64, seed=6) != a
    assert len({s.scenario_id for s in generate_scene("easy", 1024, seed=0)}) == 1024


def test_need_complaint_rc_mixes() -> None:
    scenarios = generate_scene("hard", 128 * 40, seed=0)  # 5,120 rows
    n = len(scenarios)
    for cat in (1, 2, 5):
        rows = [s for s in scenarios if s.category == cat]
        share = Counter(s.need for s in rows)[1] / len(rows)
        assert abs(share - NEED_GIVEN_CATEGORY[1][cat - 1]) < 0.07, (cat, share)
    comp = Counter(s.order.complaint for s in scenarios)
    assert set(comp) == set(COMPLAINT_TYPES)
    base = comp["temperature"] + comp["taste"] + comp["not_fresh"]
    assert abs(comp["temperature"] / base - 0.42) < 0.03
    assert abs(comp["taste"] / base - 0.37) < 0.03
    assert abs((n - base) / n - 0.15) < 0.02
    assert abs(sum(s.order.rc_tag for s in scenarios) / n - 0.045) < 0.012


def test_order_details_fit_the_complaint() -> None:
    for s in generate_scene("easy", 512, seed=2):
        items = [name for name, _ in s.order.items]
        meta = s.order.metadata
        if s.order.complaint == "missing_item":
            assert len(items) >= 2 and meta["issue_item"] in items
        if s.order.complaint == "wrong_item":
            assert meta["received_item"] not in items
        if s.order.complaint == "late_delivery":
            assert 25 <= meta["delay_min"] < 95
        assert s.order.courier_chat and s.order.merchant


@pytest.mark.parametrize(
    ("scene", "n", "want"),
    [
        ("hard", 80, [8, 24, 20, 20, 8]),
        ("easy", 80, [8, 16, 24, 24, 8]),
        ("hard", 40, [4, 12, 10, 10, 4]),
        ("easy", 160, [16, 32, 48, 48, 16]),
    ],
)
def test_eval_sampling_counts(scene: str, n: int, want: list[int]) -> None:
    pool = generate_scene(scene, 512, seed=0)
    users = sample_eval_users(pool, scene, n=n, seed=1)
    got = Counter(s.category for s in users)
    assert [got[c] for c in range(1, 6)] == want
    assert len({s.scenario_id for s in users}) == n
    assert users == sample_eval_users(pool, scene, n=n, seed=1)
    assert users != sample_eval_users(pool, scene, n=n, seed=2)
    idx = {s.scenario_id: i for i, s in enumerate(pool)}
    assert [idx[s.scenario_id] for s in users] == sorted(idx[s.scenario_id] for s in users)


def test_eval_sampling_too_few() -> None:
    with pytest.raises(ValueError, match="category 1"):
        sample_eval_users(generate_scene("hard", 64, seed=0), "hard", n=80)


def test_split_train_heldout() -> None:
    pool = generate_scene("hard", 256, seed=0)
    train, held = split_train_heldout(pool, 0.25, seed=0)
    assert len(held) == 64 and len(train) == 192
    assert {s.scenario_id for s in train}.isdisjoint(s.scenario_id for s in held)
    assert Counter(s.category for s in held) == Counter({2: 20, 3: 16, 4: 16, 1: 6, 5: 6})


def test_bank_is_complete() -> None:
    bank = load_bank()
    for cat in range(1, 6):
        personas = bank.personas_for(cat)
        assert len(personas) >= 4
        for p in personas:
            assert all([p.summary, p.communication_style, p.information_disclosure])
            assert all([p.problem_solving, p.affective_style, p.catchphrases, p.traits, p.goals])
            assert p.category_description
    assert len({p.persona_id for p in bank.personas}) == len(bank.personas)
    assert sorted(bank.needs) == [1, 2, 3, 4]
    assert len(bank.cuisines) >= 8 and all(c.merchants and c.mains for c in bank.cuisines)


def test_unknown_scene() -> None:
    with pytest.raises(ValueError, match="hard"):
        generate_scene("medium", 4)
