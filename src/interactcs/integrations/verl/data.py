"""Scenario sets as verl RL-data parquet (release layout plus ``agent_name``).

Usage::

    from interactcs.integrations.verl.data import prepare_data, scenario_from_row
    prepare_data("hard", "data/fds_hard_train.parquet", n=7680, seed=0)
    prepare_data("../shared/fds/hard_test.parquet", "data/fds_hard_test.parquet", split="test")
    sc = scenario_from_row(row_kwargs)        # inside the agent loop: row -> Scenario

Each row is :func:`interactcs.scenarios.release.scenario_to_release_row` (``data_source``,
``prompt`` = the project's agent system prompt, ``reward_model``,
``extra_info.interaction_kwargs``) with two additions verl reads: a top-level ``agent_name``
column (``interactcs_fds``: verl picks the agent loop per row from it) and
``extra_info.index`` (verl's sample index). Works without verl installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from interactcs.integrations.verl.fields import AGENT_LOOP_NAME
from interactcs.scenarios.schema import Scenario


def verl_rows(
    scenarios: list[Scenario], *, split: str = "train", agent_name: str = AGENT_LOOP_NAME
) -> list[dict[str, Any]]:
    """verl-layout rows for ``scenarios`` (row ``i`` has ``extra_info.index = i``)."""
    from interactcs.env.prompt import agent_system_prompt
    from interactcs.scenarios.release import scenario_to_release_row

    rows = []
    for i, sc in enumerate(scenarios):
        row = scenario_to_release_row(sc, index=i, split=split, prompt=agent_system_prompt(sc))
        row["agent_name"] = agent_name
        row["extra_info"]["index"] = i
        row["extra_info"]["scenario_id"] = sc.scenario_id
        rows.append(row)
    return rows


def prepare_data(
    source: str | Path,
    out: str | Path,
    *,
    n: int | None = None,
    seed: int = 0,
    split: str = "train",
    agent_name: str = AGENT_LOOP_NAME,
) -> Path:
    """Load scenarios from ``source`` and write them as one verl parquet file.

    Args:
        source: ``hard`` / ``easy`` (built-in generated scene), an FDS ``.parquet`` or a
            scenario ``.jsonl`` (see :func:`interactcs.scenarios.loaders.load_scenarios`).
        out: output ``.parquet`` path; parent folders are created.
        n: rows to generate (built-in) or the first rows to keep (files).
        seed: generator seed of built-in scenes.
        split: the rows' ``split`` field (``train`` or ``test``).
        agent_name: verl agent loop that plays each row.

    Returns:
        The written path.

    Raises:
        ScenarioLoadError: bad source (names file, row and field).
        ValueError: the source has no rows.
    """
    from interactcs.models import require_extra

    require_extra("parquet", f"writing {Path(out).name}")
    import pyarrow as pa
    import pyarrow.parquet as pq

    from interactcs.scenarios.loaders import load_scenarios

    scenarios = load_scenarios(source, n=n, seed=seed)
    if not scenarios:
        raise ValueError(f"{source}: no scenarios to write")
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist(verl_rows(scenarios, split=split, agent_name=agent_name)), path
    )
    return path


def scenario_from_row(row: Mapping[str, Any]) -> Scenario:
    """Rebuild the :class:`Scenario` of one dataset row as verl hands it to an agent loop.

    Reads ``extra_info`` (or the top-level ``interaction_kwargs`` verl copies out of it),
    ``raw_prompt`` / ``prompt`` for the agent prompt, and ``index`` for the scenario id.
    """
    from interactcs.scenarios.release import release_row_to_scenario

    extra = dict(row.get("extra_info") or {})
    kwargs = extra.get("interaction_kwargs") or row.get("interaction_kwargs")
    if not kwargs:
        raise ValueError(
            "row has no extra_info.interaction_kwargs: write the data with "
            "`interactcs verl prepare-data SOURCE OUT.parquet`"
        )
    prompt = row.get("raw_prompt", row.get("prompt"))
    release_row = {"extra_info": {"interaction_kwargs": kwargs}, "prompt": _plain(prompt)}
    index = int(extra.get("index", row.get("index", 0)) or 0)
    sc = release_row_to_scenario(release_row, index)
    sid = extra.get("scenario_id")
    return sc.model_copy(update={"scenario_id": str(sid)}) if sid else sc


def _plain(prompt: Any) -> Any:
    """Messages as a list of dicts (verl may hand over a numpy array of dicts)."""
    if prompt is None or isinstance(prompt, str):
        return prompt
    return [dict(m) for m in prompt]
