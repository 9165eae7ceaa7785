"""Release parquet layout <-> Scenario, on the public files and on our own rows."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from interactcs.scenarios.errors import RowError, ScenarioLoadError
from interactcs.scenarios.fixtures import small_scenarios
from interactcs.scenarios.loaders import load_scenarios
from interactcs.scenarios.release import (
    release_row_to_scenario,
    scenario_to_release_row,
    write_release_parquet,
)

RELEASE_FILES = {"hard_train.parquet": 7680, "easy_train.parquet": 7424, "easy_test.parquet": 256}


@pytest.mark.parametrize("name", sorted(RELEASE_FILES))
def test_every_release_row_loads(fds_dir: Path, name: str) -> None:
    path = fds_dir / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    start = time.perf_counter()
    scenarios = load_scenarios(path)
    elapsed = time.perf_counter() - start
    assert len(scenarios) == RELEASE_FILES[name]
    del elapsed  # ~2 s for hard_train on an idle box; no wall-clock assert (shared CI box)
    assert len({s.scenario_id for s in scenarios}) == len(scenarios)
    assert {s.scene for s in scenarios} == {name.split("_")[0]}
    assert {s.order.complaint for s in scenarios} == {"temperature", "taste", "not_fresh"}
    assert len({s.persona.persona_id for s in scenarios}) == 43
    assert all(s.agent_prompt and "<signals>" in s.agent_prompt for s in scenarios)
    rc = sum(s.order.rc_tag for s in scenarios) / len(scenarios)
    assert 0.02 < rc < 0.07
    first = scenarios[0]
    assert first.persona.catchphrases and first.persona.traits and first.persona.goals


def test_release_row_round_trip(fds_dir: Path) -> None:
    path = fds_dir / "easy_test.parquet"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    rows = pq.read_table(path).slice(0, 8).to_pylist()
    for i, row in enumerate(rows):
        sc = release_row_to_scenario(row, i)
        back = scenario_to_release_row(sc, index=i, split="test")
        assert release_row_to_scenario(back, i, scene=sc.scene) == sc
        ik, bk = row["extra_info"]["interaction_kwargs"], back["extra_info"]["interaction_kwargs"]
        assert bk["system_signal"] == ik["system_signal"]
        assert bk["core_demand"] == ik["core_demand"]
        assert (
            bk["user_profile"]["category_info"]["category_key"]
            == ik["user_profile"]["category_info"]["category_key"]
        )
        assert back["prompt"] == row["prompt"]


def test_own_scenarios_round_trip_through_parquet(tmp_path: Path) -> None:
    scenarios = small_scenarios(12)
    path = write_release_parquet(scenarios, tmp_path / "mine.parquet")
    again = load_scenarios(path)
    assert again == scenarios  # ids, personas (incl. affective_style), metadata, scene
    row = pq.read_table(path).slice(3, 1).to_pylist()[0]
    assert row["extra_info"]["interaction_kwargs"]["system_signal"]["faqType"] in {
        "Food temperature issue",
        "Food taste below expectations",
        "Food not fresh/undercooked",
        "Missing item",
        "Wrong item delivered",
        "Late delivery",
    }


def test_row_with_numpy_and_string_quirks() -> None:
    sc = small_scenarios(6)[0]
    row = scenario_to_release_row(sc)
    ik = row["extra_info"]["interaction_kwargs"]
    attrs = ik["user_profile"]["user_profile"]["inferredAttributes"]
    attrs["commonCatchphrases"] = str(np.array(sc.persona.catchphrases))
    attrs["impliedPersonalityTraits"] = np.array(sc.persona.traits)
    ik["core_demand"]["distribution"] = str(np.array(ik["core_demand"]["distribution"]))
    assert release_row_to_scenario(row, 0) == sc.model_copy(
        update={"scenario_id": f"{sc.order.order_id}-0"}
    )


@pytest.mark.parametrize(
    ("path", "value", "field", "detail"),
    [
        (
            "user_profile.category_info.category_key",
            "9",
            "user_profile.category_info.category_key",
            "expected '1'..'5', got '9'",
        ),
        ("system_signal.rcTag", "yes", "system_signal.rcTag", "expected 'true' or 'false'"),
        ("system_signal.faqType", "Soggy", "system_signal.faqType", "got 'Soggy'"),
        ("core_demand.core_need_type", "7", "core_demand.core_need_type", "expected '1'..'4'"),
        ("core_demand.distribution", "[0.1 0.2]", "core_demand.distribution", "expected 5"),
    ],
)
def test_bad_field_named(path: str, value: str, field: str, detail: str) -> None:
    row = copy.deepcopy(scenario_to_release_row(small_scenarios(6)[0]))
    node = row["extra_info"]["interaction_kwargs"]
    *parents, leaf = path.split(".")
    for p in parents:
        node = node[p]
    node[leaf] = value
    with pytest.raises(RowError) as info:
        release_row_to_scenario(row, 0)
    assert info.value.field == f"extra_info.interaction_kwargs.{field}"
    assert detail in str(info.value)


def test_broken_row_parquet_names_file_row_field(tmp_path: Path) -> None:
    rows = [scenario_to_release_row(s, index=i) for i, s in enumerate(small_scenarios(24))]
    rows[17]["extra_info"]["interaction_kwargs"]["user_profile"]["category_info"][
        "category_key"
    ] = "9"
    path = tmp_path / "hard.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    with pytest.raises(ScenarioLoadError) as info:
        load_scenarios(path)
    field = "extra_info.interaction_kwargs.user_profile.category_info.category_key"
    assert str(info.value) == f"{path} row 17: {field}: expected '1'..'5', got '9'"
    assert (info.value.row, info.value.field, info.value.path) == (17, field, path)


def test_missing_field_named(tmp_path: Path) -> None:
    rows = [scenario_to_release_row(s, index=i) for i, s in enumerate(small_scenarios(8))]
    del rows[5]["extra_info"]["interaction_kwargs"]["system_signal"]["orderId"]
    path = tmp_path / "x.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    with pytest.raises(
        ScenarioLoadError,
        match=r"row 5: extra_info\.interaction_kwargs\.system_signal\.orderId: missing",
    ):
        load_scenarios(path)
