"""Generate scenarios from a pack: category mix, P(need | category), personas, case fields.

Usage::

    from interactcs.packs import load_pack
    from interactcs.packs.generate import generate_pack_scenarios
    scenarios = generate_pack_scenarios(load_pack("packs/returns"), n=256, seed=0)

Per call: category counts follow the scene's weights exactly (largest remainder, then
shuffled); per row, the need is drawn from ``need_given_category``, the persona uniformly
within the category, and the case fields in their declared order (a catalog row first when
the pack has a catalog). The result is a pure function of ``(pack, n, seed, scene)``.

Each scenario keeps its case in ``Scenario.case`` and its pack in ``Scenario.pack``; the
shared :class:`~interactcs.scenarios.schema.OrderSignals` is filled through the pack's
``case.order`` mapping, with the pack-qualified complaint key ``"<pack>:<issue>"``.
An ``engine: fds`` pack delegates to :func:`interactcs.scenarios.generator.generate_scene`.
"""

from __future__ import annotations

import random
from typing import Any

from interactcs.packs.loader import Pack
from interactcs.packs.schema import FieldSpec
from interactcs.scenarios.generator import generate_scene, scaled_counts
from interactcs.scenarios.schema import CoreDemand, OrderSignals, Scenario

__all__ = ["generate_pack_scenarios", "pack_complaint"]


def pack_complaint(pack_name: str, issue: str) -> str:
    """Pack-qualified complaint key stored in ``OrderSignals.complaint``."""
    return f"{pack_name}:{issue}"


def _field(key: str, f: FieldSpec, rng: random.Random, row: dict[str, Any], pack: Pack) -> Any:
    if f.kind == "id":
        return f"{f.prefix}{rng.getrandbits(48):012x}"
    if f.kind == "choice":
        assert f.values is not None
        return rng.choices(f.values, f.weights)[0] if f.weights else rng.choice(f.values)
    if f.kind == "int":
        assert f.low is not None and f.high is not None
        return int(rng.randrange(int(f.low), int(f.high) + 1, max(1, int(f.step))))
    if f.kind == "float":
        assert f.low is not None and f.high is not None
        return round(rng.uniform(f.low, f.high), f.digits)
    if f.kind == "bool":
        return rng.random() < float(f.p or 0.0)
    if f.kind == "const":
        return f.value
    if f.kind == "catalog":
        v = row[str(f.column)]
        if isinstance(v, list) and len(v) == 2 and all(isinstance(x, int | float) for x in v):
            return round(rng.uniform(float(v[0]), float(v[1])), f.digits)
        if isinstance(v, list) and v:  # a list of options: pick one
            return rng.choice(v)
        return v
    keys = list(pack.issues)
    allowed = row.get("issues")  # a catalog row may restrict its issue types
    if isinstance(allowed, list) and allowed:
        keys = [k for k in keys if k in allowed] or keys
    return rng.choices(keys, [pack.issues[k].weight for k in keys])[0]


def _case(pack: Pack, rng: random.Random) -> dict[str, Any]:
    assert pack.spec.case is not None
    row = rng.choice(pack.catalog) if pack.catalog else {}
    return {k: _field(k, f, rng, row, pack) for k, f in pack.spec.case.fields.items()}


def generate_pack_scenarios(
    pack: Pack, n: int = 256, seed: int = 0, scene: str | None = None
) -> list[Scenario]:
    """``n`` scenarios of ``pack`` (scene: one of the pack's ``scenes``; default its first).

    Raises:
        ValueError: unknown scene or ``n < 0``.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    scene = scene or pack.default_scene
    if scene not in pack.spec.scenes:
        raise ValueError(
            f"pack {pack.name!r} has no scene {scene!r}; scenes: {sorted(pack.spec.scenes)}"
        )
    if pack.is_fds:
        return generate_scene(scene, n=n, seed=seed)
    rng = random.Random(f"interactcs-pack:{pack.name}:{scene}:{seed}")
    counts = scaled_counts(pack.spec.scenes[scene], n)
    cats = [c for c, k in enumerate(counts, start=1) for _ in range(k)]
    rng.shuffle(cats)
    table = pack.spec.need_given_category
    need_keys = sorted(table)
    m = pack.spec.case.order if pack.spec.case else None
    assert m is not None
    out = []
    for i, cat in enumerate(cats):
        need = rng.choices(need_keys, [table[k][cat - 1] for k in need_keys])[0]
        persona = rng.choice([p for p in pack.personas if p.category == cat])
        case = _case(pack, rng)
        order = OrderSignals(
            order_id=str(case[m.id]),
            complaint=pack_complaint(pack.name, str(case[m.issue])),
            food_info=f"{case[m.item]}*1",
            merchant=str(case[m.merchant]),
            rc_tag=bool(case[m.flag]) if m.flag else False,
            metadata={"pack": pack.name},
        )
        spec = pack.needs[need]
        out.append(
            Scenario(
                scenario_id=f"{order.order_id}-{i}",
                scene=scene,
                order=order,
                persona=persona.model_copy(),
                demand=CoreDemand(need=need, name=spec.name, instruction=spec.instruction),
                pack=pack.ref,
                case=case,
            )
        )
    return out
