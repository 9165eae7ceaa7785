"""Parsers for the release's value quirks (stringified numpy arrays, "true"/"false" flags)."""

from __future__ import annotations

import numpy as np
import pytest

from interactcs.scenarios.parsing import (
    complaint_key,
    parse_flag,
    parse_float_list,
    parse_key,
    parse_str_list,
)


def test_str_list_from_numpy_string_form() -> None:
    items = ["Quick to anger", 'Says "no" a lot', "Won't wait", "back\\slash"]
    text = str(np.array(items))  # "['Quick to anger' 'Says \"no\" a lot' \"Won't wait\" ...]"
    assert parse_str_list(text) == items
    wrapped = "['Impatient and easily frustrated'\n 'Skeptical of support']"
    assert parse_str_list(wrapped) == ["Impatient and easily frustrated", "Skeptical of support"]


def test_str_list_other_shapes() -> None:
    assert parse_str_list(["a", "b"]) == ["a", "b"]
    assert parse_str_list(np.array(["a", "b"])) == ["a", "b"]
    assert parse_str_list('["a", "b, c"]') == ["a", "b, c"]
    assert parse_str_list("[]") == [] and parse_str_list("  ") == []
    assert parse_str_list("just one goal") == ["just one goal"]


@pytest.mark.parametrize("bad", ["['a' oops 'b']", "['a'", 3])
def test_str_list_rejects(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_str_list(bad)


def test_float_list_shapes() -> None:
    want = [0.15, 0.1, 0.15, 0.15, 0.2]
    assert parse_float_list(str(np.array(want))) == want  # "[0.15 0.1  0.15 0.15 0.2 ]"
    assert parse_float_list("[0.15, 0.1, 0.15, 0.15, 0.2]") == want
    assert parse_float_list(np.array(want)) == want
    with pytest.raises(ValueError):
        parse_float_list("[0.1 x]")


def test_flag_key_complaint() -> None:
    assert parse_flag("true") is True and parse_flag("False") is False and parse_flag(True)
    with pytest.raises(ValueError, match="'yes'"):
        parse_flag("yes")
    assert parse_key("3", 1, 5) == 3 and parse_key(4, 1, 4) == 4
    for bad in ("9", "0", "x", "", True, 2.0):
        with pytest.raises(ValueError, match="expected '1'..'5'"):
            parse_key(bad, 1, 5)
    assert complaint_key("Food temperature issue") == "temperature"
    assert complaint_key("Food not fresh/undercooked") == "not_fresh"
    assert (
        complaint_key("not fresh") == "not_fresh"
        and complaint_key("late_delivery") == "late_delivery"
    )
    with pytest.raises(ValueError, match="Food taste"):
        complaint_key("Food too salty")
