"""Convert between :class:`Scenario` and one row of the authors' release parquet (verl layout).

Usage::

    rows = pyarrow.parquet.read_table("hard_train.parquet").to_pylist()
    sc = release_row_to_scenario(rows[17], 17)          # scenario_id = f"{orderId}-17"
    row = scenario_to_release_row(sc, index=17)         # back to the release layout
    write_release_parquet(scenarios, "out.parquet", prompt_fn=agent_system_prompt)

Field mapping (release -> Scenario), all under ``extra_info.interaction_kwargs``:
``system_signal.*`` -> ``order`` (``faqType`` name -> complaint key, ``rcTag`` "true"/"false"
-> bool), ``user_profile.category_info`` + ``user_profile.user_profile`` -> ``persona``,
``core_demand`` -> ``demand``; the row's system prompt -> ``agent_prompt``.

Scenario ids are ``f"{orderId}-{row index}"``: order ids repeat in the release (hard_train has
7,680 rows but 1,686 distinct orders). Release personas carry no id; they get
``release-c{category}-{sha1(summary)[:8]}``. Two fields the release lacks are written as
extra keys that release readers ignore: ``behavioralPatterns.affectiveStyle`` and
``user_profile.user_profile.persona_id`` (and ``interaction_kwargs.scene`` when known).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import RowError
from .parsing import (
    complaint_key,
    parse_flag,
    parse_float_list,
    parse_key,
    parse_str_list,
)
from .schema import (
    CATEGORY_NAMES,
    COMPLAINT_TYPES,
    NEED_GIVEN_CATEGORY,
    NEED_NAMES,
    CoreDemand,
    OrderSignals,
    Persona,
    Scenario,
)

IK = "extra_info.interaction_kwargs"
SIG = f"{IK}.system_signal"
CAT = f"{IK}.user_profile.category_info"
PROF = f"{IK}.user_profile.user_profile"
DEM = f"{IK}.core_demand"
DATA_SOURCE = "customer_service_simulation"
_MISSING = object()


class _RowReader:
    """Reads dotted paths from one row and turns every problem into a :class:`RowError`."""

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.row = row

    def get(self, path: str, default: Any = _MISSING) -> Any:
        node: Any = self.row
        for part in path.split("."):
            # dict first: an isinstance(x, Mapping) ABC check is ~5x slower (hot loop).
            node = node.get(part) if isinstance(node, dict) or isinstance(node, Mapping) else None
            if node is None:
                if default is _MISSING:
                    raise RowError(path, "missing")
                return default
        return node

    def text(self, path: str, default: Any = _MISSING) -> str:
        value = self.get(path, default)
        if not isinstance(value, str):
            raise RowError(path, f"expected a string, got {type(value).__name__} {value!r}")
        return value

    def convert(self, path: str, fn: Callable[[Any], Any], default: Any = _MISSING) -> Any:
        value = self.get(path, _MISSING if default is _MISSING else None)
        if value is None:
            return default
        try:
            return fn(value)
        except ValueError as exc:
            raise RowError(path, str(exc)) from None


def release_persona_id(category: int, summary: str) -> str:
    """Stable id for a release persona (the release has none)."""
    return f"release-c{category}-{hashlib.sha1(summary.encode()).hexdigest()[:8]}"


def _order(r: _RowReader) -> OrderSignals:
    metadata = r.get(f"{SIG}.metadata", {})
    if not isinstance(metadata, Mapping):
        raise RowError(f"{SIG}.metadata", f"expected a mapping, got {metadata!r}")
    return OrderSignals(
        order_id=r.text(f"{SIG}.orderId"),
        order_status=r.text(f"{SIG}.orderStatus", "Delivered"),
        complaint=r.convert(f"{SIG}.faqType", complaint_key),
        food_info=r.text(f"{SIG}.foodInfo"),
        courier_chat=r.text(f"{SIG}.instantMessageMap", ""),
        merchant=r.text(f"{SIG}.merchantNameMap.en"),
        rc_tag=r.convert(f"{SIG}.rcTag", parse_flag),
        metadata={k: v for k, v in metadata.items() if v is not None},
    )


def _persona(r: _RowReader) -> Persona:
    category = r.convert(f"{CAT}.category_key", lambda v: parse_key(v, 1, 5))
    summary = r.text(f"{PROF}.summary")
    bp, ia = f"{PROF}.behavioralPatterns", f"{PROF}.inferredAttributes"
    return Persona(
        persona_id=r.text(f"{PROF}.persona_id", "") or release_persona_id(category, summary),
        category=category,
        category_name=CATEGORY_NAMES[category],
        category_description=r.text(f"{CAT}.description", ""),
        summary=summary,
        communication_style=r.text(f"{bp}.communicationStyle"),
        information_disclosure=r.text(f"{bp}.informationDisclosure"),
        problem_solving=r.text(f"{bp}.problemSolvingApproach"),
        affective_style=r.text(f"{bp}.affectiveStyle", ""),
        catchphrases=r.convert(f"{ia}.commonCatchphrases", parse_str_list, []),
        traits=r.convert(f"{ia}.impliedPersonalityTraits", parse_str_list, []),
        goals=r.convert(f"{ia}.primaryGoals", parse_str_list, []),
    )


def _check_distribution(values: list[float]) -> list[float]:
    if len(values) != 5:
        raise ValueError(f"expected 5 probabilities (one per category), got {values!r}")
    return values


def _demand(r: _RowReader) -> CoreDemand:
    need = r.convert(f"{DEM}.core_need_type", lambda v: parse_key(v, 1, 4))
    # Validated only: P(need | category) was used to generate the data, not to run it.
    r.convert(f"{DEM}.distribution", lambda v: _check_distribution(parse_float_list(v)), None)
    return CoreDemand(need=need, name=NEED_NAMES[need], instruction=r.text(f"{DEM}.core_need"))


def _agent_prompt(r: _RowReader) -> str | None:
    prompt = r.get("prompt", None)
    if prompt is None or isinstance(prompt, str):
        return prompt or None
    if isinstance(prompt, Mapping) or not hasattr(prompt, "__iter__"):
        raise RowError("prompt", f"expected a list of messages, got {type(prompt).__name__}")
    for i, msg in enumerate(prompt):
        if not isinstance(msg, Mapping) or not isinstance(msg.get("content"), str):
            raise RowError(f"prompt[{i}]", f"expected {{'role', 'content'}}, got {msg!r}")
        if msg.get("role") == "system":
            return msg["content"] or None
    return None


def release_row_to_scenario(
    row: Mapping[str, Any], index: int, *, scene: str | None = None
) -> Scenario:
    """Convert one release row (a dict as from ``Table.to_pylist()``) into a :class:`Scenario`.

    Args:
        row: the row; lists may also be numpy arrays or their string form.
        index: the row's position in its file (used in the scenario id).
        scene: scene label; defaults to the row's ``interaction_kwargs.scene`` if present.

    Raises:
        RowError: naming the dotted field path, e.g.
            ``extra_info.interaction_kwargs.system_signal.rcTag: expected 'true' or 'false', got 'yes'``.
    """
    if not isinstance(row, Mapping):
        raise RowError("", f"expected a mapping, got {type(row).__name__}")
    r = _RowReader(row)
    try:
        order = _order(r)
        return Scenario(
            scenario_id=f"{order.order_id}-{index}",
            scene=scene if scene is not None else r.get(f"{IK}.scene", None),
            order=order,
            persona=_persona(r),
            demand=_demand(r),
            agent_prompt=_agent_prompt(r),
        )
    except ValidationError as exc:  # a value passed the field checks but not the schema
        err = exc.errors()[0]
        raise RowError(
            ".".join(map(str, err["loc"])), f"{err['msg']}, got {err['input']!r}"
        ) from None


def scenario_to_release_row(
    scenario: Scenario, *, index: int = 0, split: str = "train", prompt: str | None = None
) -> dict[str, Any]:
    """The release-layout row of ``scenario`` (inverse of :func:`release_row_to_scenario`).

    Args:
        scenario: the scenario.
        index: row position; written as ``index`` and ``batch_id = index // 128``.
        split: ``train`` or ``test`` (the release's ``split`` field).
        prompt: agent system prompt to write; default ``scenario.agent_prompt`` or ``""``.
    """
    o, p, d = scenario.order, scenario.persona, scenario.demand
    cat_name = f"{CATEGORY_NAMES[p.category]} User"
    signal: dict[str, Any] = {
        "faqType": COMPLAINT_TYPES[o.complaint],
        "foodInfo": o.food_info,
        "instantMessageMap": o.courier_chat,
        "merchantNameMap": {"en": o.merchant},
        "orderId": o.order_id,
        "orderStatus": o.order_status,
        "rcTag": "true" if o.rc_tag else "false",
    }
    if o.metadata:  # parquet cannot store a struct without fields
        signal["metadata"] = dict(o.metadata)
    profile = {
        "persona_id": p.persona_id,
        "summary": p.summary,
        "behavioralPatterns": {
            "communicationStyle": p.communication_style,
            "informationDisclosure": p.information_disclosure,
            "problemSolvingApproach": p.problem_solving,
            "affectiveStyle": p.affective_style,
        },
        "cooperativenessCategory": {"category": str(p.category), "category_name": cat_name},
        "inferredAttributes": {
            "commonCatchphrases": list(p.catchphrases),
            "impliedPersonalityTraits": list(p.traits),
            "primaryGoals": list(p.goals),
        },
    }
    kwargs: dict[str, Any] = {
        "batch_id": index // 128,
        "index": index,
        "name": "user_simulation",
        "split": split,
        "core_demand": {
            "core_need": d.instruction,
            "core_need_type": str(d.need),
            "core_need_type_name": f"{NEED_NAMES[d.need]} Type",
            "distribution": list(NEED_GIVEN_CATEGORY[d.need]),
        },
        "system_signal": signal,
        "user_profile": {
            "category_info": {
                "category_key": str(p.category),
                "category_name": cat_name,
                "description": p.category_description,
            },
            "user_profile": profile,
        },
    }
    if scenario.scene is not None:
        kwargs["scene"] = scenario.scene
    text = prompt if prompt is not None else (scenario.agent_prompt or "")
    return {
        "data_source": DATA_SOURCE,
        "prompt": [{"content": text, "role": "system"}],
        "reward_model": {"ground_truth": "", "style": "rule"},
        "extra_info": {"interaction_kwargs": kwargs},
    }


def write_release_parquet(
    scenarios: Iterable[Scenario],
    path: str | Path,
    *,
    split: str = "train",
    prompt_fn: Callable[[Scenario], str] | None = None,
) -> Path:
    """Write scenarios as a release-layout parquet (what verl's RL dataset reads).

    Args:
        scenarios: rows in order; row ``i`` reloads with id ``f"{orderId}-{i}"``.
        path: output file; parent folders are created.
        split: value of the ``split`` field.
        prompt_fn: builds each row's agent system prompt (e.g.
            ``interactcs.env.prompt.agent_system_prompt``); when ``None`` the scenario's own
            ``agent_prompt`` is written, or ``""`` (which reloads as ``None``).

    Returns:
        The path written. Order ``metadata`` values must keep one type per key across rows.
    """
    from interactcs.models import require_extra

    require_extra("parquet", f"writing {Path(path).name}")
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        scenario_to_release_row(
            sc, index=i, split=split, prompt=None if prompt_fn is None else prompt_fn(sc)
        )
        for i, sc in enumerate(scenarios)
    ]
    if not rows:
        raise ValueError("no scenarios to write")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), out)
    return out
