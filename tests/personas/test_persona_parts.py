"""Strict JSON parsing, grouping, P(need | category) table, prompts."""

from __future__ import annotations

import json

import pytest

from interactcs.personas.aggregate import ProfileDraft, chunk_evenly, needs_stats, plan_groups
from interactcs.personas.extract import DialogueTraits, JsonAnswerError, parse_json_answer
from interactcs.personas.pipeline import ExtractConfig, mask_model
from interactcs.personas.prompts import (
    AGGREGATE_SYSTEM,
    EXTRACT_SYSTEM,
    aggregate_messages,
    extract_messages,
)


def traits(cooperation: int = 3, need: int | None = 2, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "summary": "A busy parent who wants things sorted quickly.",
        "communication_style": "Short and polite.",
        "information_disclosure": "Answers what is asked.",
        "problem_solving": "Accepts a fair offer.",
        "affective_style": "Calm unless ignored.",
        "catchphrases": ["Can we sort this quickly?"],
        "traits": ["Practical"],
        "goals": ["Get a fair remedy"],
        "cooperation": cooperation,
        "need": need,
        "need_text": "a refund, a voucher is fine",
    }
    return base | kw


def test_parse_accepts_exact_object_and_one_fence() -> None:
    t = parse_json_answer(json.dumps(traits()), DialogueTraits)
    assert t.cooperation == 3 and t.need == 2
    fenced = "```json\n" + json.dumps(traits(need=None)) + "\n```"
    assert parse_json_answer(fenced, DialogueTraits).need is None


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "empty"),
        ("Here it is: {}", "not valid JSON"),
        ("[1, 2]", "JSON object, not list"),
        (json.dumps(traits(cooperation="3")), "cooperation"),  # strict: no "3" for 3
        (json.dumps(traits(cooperation=6)), "cooperation"),
        (json.dumps(traits(need=5)), "need"),
        (json.dumps(traits(mood="angry")), "mood: Extra inputs"),
        (json.dumps({k: v for k, v in traits().items() if k != "need"}), "need: Field required"),
        (json.dumps(traits(traits=[])), "traits"),
        (json.dumps(traits(summary="  ")), "summary"),
        (json.dumps(traits(cooperation=True)), "cooperation"),
    ],
)
def test_parse_rejects(text: str, problem: str) -> None:
    with pytest.raises(JsonAnswerError, match=problem):
        parse_json_answer(text, DialogueTraits)


def test_chunk_evenly() -> None:
    assert chunk_evenly([1, 2, 3, 4, 5], 2) == [[1, 2, 3], [4, 5]]
    assert chunk_evenly([1, 2], 5) == [[1], [2]]
    assert chunk_evenly([], 3) == []
    assert chunk_evenly(list(range(7)), 3) == [[0, 1, 2], [3, 4], [5, 6]]
    with pytest.raises(ValueError):
        chunk_evenly([1], 0)


def _ex(pairs: list[tuple[int, int | None]]) -> list[tuple[str, DialogueTraits]]:
    return [
        (f"d{i}", DialogueTraits.model_validate(traits(c, n))) for i, (c, n) in enumerate(pairs)
    ]


def test_plan_groups_by_level() -> None:
    ex = _ex([(1, 1), (3, 2), (1, 1), (3, 3), (3, 4), (5, None)])
    groups = plan_groups(ex, per_category=2)
    assert [(g.level, g.index, g.dialogue_ids) for g in groups] == [
        (1, 1, ["d0"]),
        (1, 2, ["d2"]),
        (3, 1, ["d1", "d3"]),
        (3, 2, ["d4"]),
        (5, 1, ["d5"]),
    ]
    assert len(plan_groups(ex, per_category=1)) == 3


def test_needs_stats_hand_computed() -> None:
    # category 1: needs 1, 1, 2, other -> typed 3: [2/3, 1/3, 0, 0]; category 4: needs 4, 3
    ex = _ex([(1, 1), (1, 1), (1, 2), (1, None), (4, 4), (4, 3)])
    st = needs_stats(ex)
    assert st["counts"]["1"] == {"1": 2, "2": 1, "3": 0, "4": 0, "other": 1}
    table = st["p_need_given_category"]
    assert table["1"] == [pytest.approx(2 / 3, abs=1e-6), None, None, 0.0, None]
    assert table["2"][0] == pytest.approx(1 / 3, abs=1e-6)
    assert table["3"][3] == 0.5 and table["4"][3] == 0.5
    assert st["dialogues_by_category"] == {"1": 4, "2": 0, "3": 0, "4": 2, "5": 0}
    filled = st["need_given_category"]
    assert st["need_given_category_fds_fallback"] == [2, 3, 5]
    assert [filled[k][1] for k in "1234"] == [0.60, 0.10, 0.15, 0.15]  # FDS column 2
    assert [filled[k][3] for k in "1234"] == [0.0, 0.0, 0.5, 0.5]
    for c in range(5):
        assert sum(filled[k][c] for k in "1234") == pytest.approx(1.0, abs=1e-5)
    assert st["other_need_examples"] == {"1": ["a refund, a voucher is fine"]}
    assert st["n_dialogues"] == 6 and json.dumps(st)  # JSON-serialisable


def test_mask_model_and_config() -> None:
    t = DialogueTraits.model_validate(traits(catchphrases=["Call me on +44 20 7946 0958!"]))
    masked, counts = mask_model(t)
    assert masked.catchphrases == ["Call me on [PHONE]!"] and counts == {"phone": 1}
    cfg = ExtractConfig(json_mode=True, max_tokens=300)
    assert cfg.params() == {
        "temperature": 0.2,
        "max_tokens": 300,
        "response_format": {"type": "json_object"},
    }
    with pytest.raises(ValueError, match=">= 1"):
        ExtractConfig(per_category=0)


def test_prompts_name_every_key() -> None:
    for key in DialogueTraits.model_fields:
        assert f'"{key}"' in EXTRACT_SYSTEM
    for key in ProfileDraft.model_fields:
        assert f'"{key}"' in AGGREGATE_SYSTEM
    assert '"cooperation"' not in AGGREGATE_SYSTEM
    msgs = extract_messages("Customer: hi")
    assert msgs[0]["content"] == EXTRACT_SYSTEM and msgs[1]["content"].endswith("Customer: hi")
    agg = aggregate_messages(2, [{"summary": "x"}])
    assert agg[1]["content"].startswith("Cooperation level: 2 Uncooperative\nCustomers (1):")
