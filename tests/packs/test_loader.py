"""Pack loading: built-in packs, the FDS pack matches the code, and every broken pack fails
with a message naming the file and the field."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from interactcs.env.costs import CostTable
from interactcs.env.prompt import _ROLE
from interactcs.env.rules import RC_TAG_NOTE, SOP_RULES
from interactcs.packs import PackError, builtin_packs, is_pack_source, load_pack, resolve_pack
from interactcs.packs.loader import BUILTIN_DIR
from interactcs.scenarios.errors import ScenarioLoadError
from interactcs.scenarios.generator import CATEGORY_BLOCK
from interactcs.scenarios.loaders import load_scenarios
from interactcs.scenarios.schema import NEED_GIVEN_CATEGORY
from interactcs.train.config import TrainConfig


def test_builtin_packs_and_returns_contents() -> None:
    assert {"fds", "returns"} <= set(builtin_packs())
    pack = load_pack("packs/returns")
    assert pack.actions == ("chat", "refund", "voucher", "replacement")
    assert pack.cost_table == {
        "refund": {"refund": 1.0},
        "voucher": {"voucher": 1.0},
        "replacement": {"replacement": 1.0},
    }
    assert pack.budgets == {"voucher": 0.3, "refund": 0.1}
    assert pack.limits == {"refund": 1, "voucher": 1, "replacement": 1}
    assert sorted(pack.needs) == [1, 2, 3, 4]
    assert {p.category for p in pack.personas} == {1, 2, 3, 4, 5}
    assert pack.eligible("refund", {"days_since_delivery": 10, "return_window": 14})
    assert not pack.eligible("refund", {"days_since_delivery": 20, "return_window": 14})


def test_fds_pack_states_todays_behaviour() -> None:
    pack = load_pack("packs/fds")
    spec = pack.spec
    assert pack.is_fds and pack.acts is None
    assert " ".join(spec.agent.role.split()) == " ".join(_ROLE.split())
    assert [" ".join(r.split()) for r in spec.agent.sop] == [" ".join(r.split()) for r in SOP_RULES]
    assert " ".join(spec.agent.flag_note.split()) == " ".join(RC_TAG_NOTE.split())
    assert spec.need_given_category == NEED_GIVEN_CATEGORY
    assert {k: tuple(v) for k, v in spec.scenes.items()} == CATEGORY_BLOCK
    assert CostTable(pack.cost_table) == CostTable()
    assert pack.budgets == TrainConfig().budgets
    assert pack.actions == ("chat", "voucher") and pack.limits == {"voucher": 1}
    assert pack.principles_path.name == "fds.yaml"
    # scenarios of the FDS pack are exactly the built-in scene (no pack attached)
    a, b = load_scenarios("packs/fds", n=40, seed=3), load_scenarios("hard", n=40, seed=3)
    assert [s.model_dump() for s in a] == [s.model_dump() for s in b]
    assert all(s.pack is None for s in a)


def test_resolution_forms_give_one_cached_pack(tmp_path: Path) -> None:
    folder = BUILTIN_DIR / "returns"
    refs = [resolve_pack(x) for x in ("packs/returns", "returns", folder, folder / "pack.yaml")]
    assert {r[0] for r in refs if r} == {"packs/returns"} and all(refs)
    assert load_pack("returns") is load_pack(folder)
    assert not is_pack_source("hard") and not is_pack_source(tmp_path / "x.jsonl")
    assert resolve_pack(tmp_path) is None
    with pytest.raises(PackError, match="not a scenario pack"):
        load_pack(tmp_path)


def _fails(folder: Path, file: str, field: str) -> PackError:
    with pytest.raises(PackError) as info:
        load_pack(folder)
    err = info.value
    msg = str(err)
    assert err.path is not None and err.path.name == file, msg
    assert f"{file}: {field}" in msg, msg
    return err


def test_budget_on_unknown_cost_type(returns_copy: Path, edit_yaml) -> None:
    edit_yaml(returns_copy / "pack.yaml", lambda d: d["budgets"].update(gift=0.2))
    err = _fails(returns_copy, "pack.yaml", "budgets.gift")
    assert "no action charges cost type 'gift'" in str(err)


def test_probability_column_must_sum_to_one(returns_copy: Path, edit_yaml) -> None:
    def bump(d: dict) -> None:
        d["need_given_category"][1][2] = 0.35  # category 3 column: 1.05

    edit_yaml(returns_copy / "pack.yaml", bump)
    err = _fails(returns_copy, "pack.yaml", "need_given_category")
    assert re.search(r"category 3 column sums to 1\.05", str(err))


def test_missing_field_in_pack_yaml(returns_copy: Path, edit_yaml) -> None:
    edit_yaml(returns_copy / "pack.yaml", lambda d: d["agent"].pop("role"))
    err = _fails(returns_copy, "pack.yaml", "agent.role")
    assert "Field required" in str(err)


def test_typo_is_an_unknown_field(returns_copy: Path, edit_yaml) -> None:
    edit_yaml(returns_copy / "pack.yaml", lambda d: d.update(budget={"voucher": 0.3}))
    _fails(returns_copy, "pack.yaml", "budget")


@pytest.mark.parametrize(
    ("file", "mutate", "field"),
    [
        ("issues.yaml", lambda d: d["defective"].pop("problem"), "defective.problem"),
        ("needs.yaml", lambda d: d[1].update(wants="gift"), "1.wants"),
        ("simulator.yaml", lambda d: d["needs"][2]["utility"].pop("voucher"), "needs.2.utility"),
        ("templates.yaml", lambda d: d.pop("stalling"), "stalling"),
        (
            "templates.yaml",
            lambda d: d["continue"].update(kind=["What about {colour}?"]),
            "continue.kind.0",
        ),
        ("strategies.yaml", lambda d: d["strategies"].update(x=["teleport"]), "strategies.x"),
        (
            "strategies.yaml",
            lambda d: d["fragments"].update(offer_refund=["Have a nice day."]),
            "fragments.offer_refund.0",
        ),
        (
            "strategies.yaml",
            lambda d: d["rule_agent"].update(default_offer="gift"),
            "rule_agent.default_offer",
        ),
        ("principles.yaml", lambda d: d["principles"][0].update(weight=0), "principles.0.weight"),
        (
            "pack.yaml",
            lambda d: d["actions"]["refund"]["offer"].append("(unclosed"),
            "actions.refund.offer.2",
        ),
        ("pack.yaml", lambda d: d["case"]["order"].update(item="colour"), "case.order.item"),
        (
            "pack.yaml",
            lambda d: d["actions"]["refund"]["requires"][0].update(ref="window"),
            "actions.refund.requires.0",
        ),
        ("pack.yaml", lambda d: d["actions"].pop("chat"), "actions"),
    ],
)
def test_broken_files_name_file_and_field(
    returns_copy: Path, edit_yaml, file, mutate, field
) -> None:
    edit_yaml(returns_copy / file, mutate)
    _fails(returns_copy, file, field)


def test_bad_persona_line_and_missing_category(returns_copy: Path) -> None:
    path = returns_copy / "personas.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(x for x in lines if json.loads(x)["category"] != 5) + "\n")
    err = _fails(returns_copy, "personas.jsonl", "category")
    assert "[5]" in str(err)
    bad = json.loads(lines[0])
    bad["category"] = 9
    path.write_text(json.dumps(bad) + "\n" + "\n".join(lines[1:]) + "\n")
    _fails(returns_copy, "personas.jsonl", "line 1.category")


def test_missing_file_is_named(returns_copy: Path) -> None:
    (returns_copy / "catalog.jsonl").unlink()
    with pytest.raises(PackError, match=r"catalog\.jsonl: file not found"):
        load_pack(returns_copy)


def test_loaders_and_config_report_pack_errors(returns_copy: Path, edit_yaml) -> None:
    edit_yaml(returns_copy / "pack.yaml", lambda d: d["budgets"].update(gift=0.2))
    with pytest.raises(ScenarioLoadError, match=r"pack\.yaml: budgets\.gift"):
        load_scenarios(returns_copy)
    with pytest.raises(ValueError, match=r"budgets\.gift"):
        TrainConfig(scenarios=str(returns_copy))
