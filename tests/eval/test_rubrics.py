"""The Comm / Logic rubrics: sizes from spec §6 and strict validation."""

from __future__ import annotations

import math

import pytest

from interactcs.eval.rubrics import COMM, LOGIC, RubricError


def test_rubric_shapes_match_the_spec():
    """Comm: 7 dimensions x 2 items x {0,1,2} = 28; Logic: 3 x 0-2 + 5 x 0-1 + 1 x 0-1 = 12."""
    assert COMM.max_total == 28 and len(COMM.items) == 14
    assert len(COMM.dimensions()) == 7
    assert all(len(v) == 2 for v in COMM.dimensions().values())
    assert LOGIC.max_total == 12 and len(LOGIC.items) == 9
    assert [len(v) for v in LOGIC.dimensions().values()] == [3, 5, 1]
    assert not COMM.sees_think and LOGIC.sees_think


def test_validate_accepts_whole_numbers():
    scores = {k: 2 for k in COMM.keys}
    scores["novelty"] = 1.0  # a whole float is fine
    out = COMM.validate(scores)
    assert out["novelty"] == 1 and isinstance(out["novelty"], int)
    assert COMM.total(scores) == 27


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("in_role", 3, "outside 0..2"),
        ("in_role", -1, "outside 0..2"),
        ("in_role", 1.5, "not a whole number"),
        ("in_role", True, "not a whole number"),
        ("in_role", "2", "not a whole number"),
        ("in_role", math.nan, "not a whole number"),
        ("in_role", math.inf, "not a whole number"),
    ],
)
def test_validate_rejects_bad_values(key, value, message):
    scores = {k: 2 for k in COMM.keys}
    scores[key] = value
    with pytest.raises(RubricError, match=message):
        COMM.validate(scores)


def test_validate_rejects_missing_and_unknown_items():
    scores = {k: 1 for k in LOGIC.keys}
    del scores["sop"]
    with pytest.raises(RubricError, match=r"missing \['sop'\]"):
        LOGIC.validate(scores)
    with pytest.raises(RubricError, match=r"unknown \['extra'\]"):
        LOGIC.validate({**{k: 1 for k in LOGIC.keys}, "extra": 1})
    with pytest.raises(RubricError, match="outside 0..1"):
        LOGIC.validate({**{k: 1 for k in LOGIC.keys}, "sop": 2})
