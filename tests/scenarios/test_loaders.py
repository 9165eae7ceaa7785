"""load_scenarios / save_jsonl: sources, JSONL round trip, errors naming file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interactcs.scenarios.errors import ScenarioLoadError
from interactcs.scenarios.fixtures import small_scenarios
from interactcs.scenarios.loaders import infer_scene, load_scenarios, save_jsonl

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "fds_small.parquet"


def test_builtin_scenes_default_and_n() -> None:
    hard = load_scenarios("hard")
    assert len(hard) == 256 and {s.scene for s in hard} == {"hard"}
    easy = load_scenarios("easy", n=10, seed=3)
    assert len(easy) == 10 and easy == load_scenarios("easy", n=10, seed=3)
    assert load_scenarios("easy", n=10, seed=4) != easy


def test_jsonl_round_trip(tmp_path: Path) -> None:
    scenarios = small_scenarios(24)
    path = save_jsonl(scenarios, tmp_path / "sub" / "s.jsonl")
    assert load_scenarios(path) == scenarios
    assert load_scenarios(path, n=5) == scenarios[:5]
    relabelled = load_scenarios(path, scene="custom")
    assert {s.scene for s in relabelled} == {"custom"}


def test_broken_jsonl_line_names_file_line_field(tmp_path: Path) -> None:
    lines = [s.model_dump() for s in small_scenarios(6)]
    lines[2]["persona"]["category"] = 9
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    with pytest.raises(ScenarioLoadError) as info:
        load_scenarios(path)
    msg = str(info.value)
    assert msg.startswith(f"{path} line 3: persona.category: ")
    assert "got 9" in msg and (info.value.row, info.value.field) == (3, "persona.category")


def test_bad_json_and_bad_complaint(tmp_path: Path) -> None:
    good = small_scenarios(6)[0].model_dump()
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(good) + "\n\n{not json\n")
    with pytest.raises(ScenarioLoadError, match=r"bad\.jsonl line 3: invalid JSON"):
        load_scenarios(path)
    good["order"]["complaint"] = "soggy"
    path.write_text(json.dumps(good) + "\n")
    with pytest.raises(ScenarioLoadError, match=r"line 1: order\.complaint: .*soggy"):
        load_scenarios(path)


def test_unknown_sources(tmp_path: Path) -> None:
    with pytest.raises(ScenarioLoadError, match="unknown scenario source"):
        load_scenarios("medium")
    with pytest.raises(ScenarioLoadError, match="no such file"):
        load_scenarios(tmp_path / "absent.parquet")
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not a parquet file")
    with pytest.raises(ScenarioLoadError, match="cannot read parquet"):
        load_scenarios(junk)


def test_infer_scene() -> None:
    assert infer_scene("x/hard_train.parquet") == "hard"
    assert infer_scene("easy-test.jsonl") == "easy"
    assert infer_scene("hardware.parquet") is None and infer_scene("hard_easy.parquet") is None


def test_small_fixture_loads_and_is_ours() -> None:
    scenarios = load_scenarios(FIXTURE)
    expected = small_scenarios()
    assert len(scenarios) == 24
    stale = "fixture differs from the bank: rebuild with python tests/fixtures/make_fds_small.py"
    assert [s.model_copy(update={"agent_prompt": None}) for s in scenarios] == expected, stale
    assert all(s.agent_prompt and s.order.food_info in s.agent_prompt for s in scenarios)
    assert {s.category for s in scenarios} == {1, 2, 3, 4, 5}
    assert {s.need for s in scenarios} == {1, 2, 3, 4}
    assert len({s.order.complaint for s in scenarios}) == 6
    assert sum(s.order.rc_tag for s in scenarios) == 2
    assert load_scenarios(FIXTURE, n=4) == scenarios[:4]
