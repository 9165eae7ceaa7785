"""Generate FDS-like scenes from the project's own bank, and draw evaluation users.

Usage::

    scenarios = generate_scene("hard", n=256, seed=0)
    eval_users = sample_eval_users(scenarios, "hard", n=80, seed=1)   # 8/24/20/20/8

Category mix. Each full 128-row block holds exactly the counts measured in the release's
training files: hard 12/40/32/32/12 (the nominal 10/30/25/25/10 %), easy 12/12/41/38/25 (the
nominal 10/10/30/30/20 %); rows are shuffled within a block. A final partial block of ``m``
rows gets the block counts scaled to ``m`` by largest remainder (:func:`scaled_counts`).

Per row: need ~ ``NEED_GIVEN_CATEGORY[.][category]``; persona uniform within the category;
complaint with the release's shares for its three types (42/37/21 %) scaled to 85 % plus 5 %
each for missing_item, wrong_item and late_delivery; ``rc_tag`` with probability 0.045.
Order metadata records ``cuisine``, the ``issue_item`` the complaint is about,
``received_item`` (wrong_item) and ``delay_min`` (late_delivery) for the simulators.
Everything is a pure function of ``(scene, n, seed)``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from .bank import ScenarioBank, load_bank
from .schema import NEED_GIVEN_CATEGORY, OrderSignals, Scenario

BLOCK = 128
#: rows per category (1..5) in every 128-row block, as in the release's training files.
CATEGORY_BLOCK: dict[str, tuple[int, ...]] = {
    "hard": (12, 40, 32, 32, 12),
    "easy": (12, 12, 41, 38, 25),
}
#: rows per category in an 80-dialogue evaluation run, as in the release.
EVAL_MIX: dict[str, tuple[int, ...]] = {
    "hard": (8, 24, 20, 20, 8),
    "easy": (8, 16, 24, 24, 8),
}
_BASE = {"temperature": 0.42, "taste": 0.37, "not_fresh": 0.21}
_EXTRA = {"missing_item": 0.05, "wrong_item": 0.05, "late_delivery": 0.05}
#: complaint key -> probability (sums to 1).
COMPLAINT_WEIGHTS: dict[str, float] = {
    **{k: v * (1 - sum(_EXTRA.values())) for k, v in _BASE.items()},
    **_EXTRA,
}
RC_TAG_RATE = 0.045


def _check_scene(scene: str) -> None:
    if scene not in CATEGORY_BLOCK:
        raise ValueError(f"unknown scene {scene!r}; expected one of {sorted(CATEGORY_BLOCK)}")


def scaled_counts(weights: Sequence[float], n: int) -> list[int]:
    """Integer counts summing to ``n`` in proportion to ``weights`` (largest remainder).

    Ties in the remainder go to the lower index. Examples: ``scaled_counts([10, 30, 25, 25,
    10], 128) == [13, 38, 32, 32, 13]``; ``scaled_counts([8, 24, 20, 20, 8], 40) == [4, 12,
    10, 10, 4]``.
    """
    if n < 0 or not weights or min(weights) < 0 or sum(weights) <= 0:
        raise ValueError(f"need n >= 0 and non-negative weights, got n={n}, {list(weights)}")
    total = float(sum(weights))
    exact = [w * n / total for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts


def category_counts(scene: str, n: int) -> list[int]:
    """Rows per category (1..5) in a generated scene of ``n`` rows."""
    _check_scene(scene)
    block = CATEGORY_BLOCK[scene]
    full, rest = divmod(n, BLOCK)
    return [full * b + r for b, r in zip(block, scaled_counts(block, rest), strict=True)]


def _categories(scene: str, n: int, rng: random.Random) -> list[int]:
    out: list[int] = []
    for start in range(0, n, BLOCK):
        counts = category_counts(scene, min(BLOCK, n - start))
        block = [c for c, k in enumerate(counts, start=1) for _ in range(k)]
        rng.shuffle(block)
        out += block
    return out


def _order(rng: random.Random, bank: ScenarioBank, complaint: str, rc_tag: bool) -> OrderSignals:
    cuisine = rng.choice(bank.cuisines)
    food = rng.sample(cuisine.mains, rng.choices([1, 2], [0.7, 0.3])[0])
    food += rng.sample(cuisine.sides, rng.choices([0, 1, 2], [0.3, 0.5, 0.2])[0])
    food += rng.sample(cuisine.drinks, rng.choices([0, 1], [0.5, 0.5])[0])
    if complaint == "missing_item" and len(food) < 2:  # something must have arrived
        food.append(rng.choice(cuisine.sides))
    eatable = [x for x in food if x not in cuisine.drinks]  # never empty: one main at least
    issue = rng.choice(eatable if complaint in ("taste", "not_fresh") else food)
    metadata: dict[str, str | int] = {"source": "interactcs-bank", "cuisine": cuisine.name}
    if complaint != "late_delivery":
        metadata["issue_item"] = issue
    if complaint == "wrong_item":
        others = [x for x in cuisine.mains + cuisine.sides if x not in food]
        metadata["received_item"] = rng.choice(others)
    if complaint == "late_delivery":
        metadata["delay_min"] = rng.randrange(25, 95, 5)
    parts = [f"{x}*{rng.choices([1, 2, 3], [0.75, 0.2, 0.05])[0]}" for x in food]
    if rng.random() < 0.15:
        parts.append(f"{rng.choice(bank.fees)}*1")
    specific = bank.courier_chats.get(complaint, ())
    p_specific = 0.8 if complaint in ("late_delivery", "missing_item", "wrong_item") else 0.3
    chats = specific if specific and rng.random() < p_specific else bank.courier_chats["any"]
    return OrderSignals(
        order_id=f"ORD_{rng.getrandbits(48):012x}",
        complaint=complaint,
        food_info=",".join(parts),
        courier_chat=rng.choice(chats),
        merchant=rng.choice(cuisine.merchants),
        rc_tag=rc_tag,
        metadata=metadata,
    )


def generate_scene(
    scene: str, n: int = 256, seed: int = 0, *, bank: ScenarioBank | None = None
) -> list[Scenario]:
    """Generate ``n`` scenarios of a scene (``"hard"`` or ``"easy"``) from the built-in bank.

    Args:
        scene: ``"hard"`` (Scene 1) or ``"easy"`` (Scene 2).
        n: number of rows (>= 0).
        seed: the output is a pure function of ``(scene, n, seed)``; the first ``k`` rows of a
            larger scene differ from a scene of ``k`` rows only in the last partial block.
        bank: a custom bank (default: the packaged one).

    Returns:
        Scenarios with ids ``f"{order_id}-{i}"`` and ``scene`` set.
    """
    _check_scene(scene)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    bank = bank or load_bank()
    rng = random.Random(f"interactcs:{scene}:{seed}")
    complaints, c_weights = list(COMPLAINT_WEIGHTS), list(COMPLAINT_WEIGHTS.values())
    out = []
    for i, cat in enumerate(_categories(scene, n, rng)):
        need = rng.choices([1, 2, 3, 4], [NEED_GIVEN_CATEGORY[k][cat - 1] for k in (1, 2, 3, 4)])
        complaint = rng.choices(complaints, c_weights)[0]
        persona = rng.choice(bank.personas_for(cat))
        order = _order(rng, bank, complaint, rng.random() < RC_TAG_RATE)
        out.append(
            Scenario(
                scenario_id=f"{order.order_id}-{i}",
                scene=scene,
                order=order,
                persona=persona.model_copy(),  # the bank is cached: never share its objects
                demand=bank.demand(need[0]),
            )
        )
    return out


def sample_eval_users(
    scenarios: Sequence[Scenario], scene: str, n: int = 80, seed: int = 0
) -> list[Scenario]:
    """Draw ``n`` evaluation users with the release's per-category mix, without replacement.

    The mix is :data:`EVAL_MIX` (per 80), scaled to ``n`` by :func:`scaled_counts`. The result
    keeps the input order.

    Raises:
        ValueError: when a category has fewer scenarios than its share needs.
    """
    _check_scene(scene)
    rng = random.Random(f"interactcs-eval:{scene}:{seed}")
    chosen: list[int] = []
    for cat, k in enumerate(scaled_counts(EVAL_MIX[scene], n), start=1):
        pool = [i for i, s in enumerate(scenarios) if s.category == cat]
        if len(pool) < k:
            raise ValueError(f"category {cat}: need {k} scenarios for n={n}, have {len(pool)}")
        chosen += rng.sample(pool, k)
    return [scenarios[i] for i in sorted(chosen)]


def split_train_heldout(
    scenarios: Sequence[Scenario], heldout: float = 0.1, seed: int = 0
) -> tuple[list[Scenario], list[Scenario]]:
    """Split into (train, held-out), stratified by category; both keep the input order.

    Args:
        heldout: fraction in [0, 1]; ``round(len * heldout)`` rows are held out, spread over
            categories in proportion to their sizes (largest remainder).
    """
    if not 0.0 <= heldout <= 1.0:
        raise ValueError(f"heldout must be in [0, 1], got {heldout}")
    rng = random.Random(f"interactcs-split:{seed}")
    by_cat = [[i for i, s in enumerate(scenarios) if s.category == c] for c in range(1, 6)]
    total = round(len(scenarios) * heldout)
    sizes = [len(p) for p in by_cat]
    take = scaled_counts(sizes, total) if total else [0] * 5
    held = {i for pool, k in zip(by_cat, take, strict=True) for i in rng.sample(pool, k)}
    train = [s for i, s in enumerate(scenarios) if i not in held]
    return train, [s for i, s in enumerate(scenarios) if i in held]
