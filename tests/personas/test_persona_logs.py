"""Dialogue-log loader: layout checks with file+line+field errors, masking of the sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interactcs.personas.logs import LogFormatError, load_logs, mask_dialogues

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "logs" / "sample_logs.jsonl"


def test_sample_loads_and_masks() -> None:
    dialogues = load_logs(SAMPLE)
    assert len(dialogues) == 12 and len({d.dialogue_id for d in dialogues}) == 12
    assert all(d.turns[0].role == "customer" for d in dialogues)
    assert dialogues[0].transcript().startswith("Customer: My noodle soup")
    masked, counts = mask_dialogues(dialogues)
    assert counts == {"phone": 5, "card": 2, "email": 2, "address": 2}
    text = "\n".join(d.transcript() for d in masked)
    for raw in ("4539 1488 0343 6467", "(555) 123-4567", "jamie.r@example.com", "42 Elm Street"):
        assert raw not in text
    # kept: an order number that fails Luhn, prices, times, the last four card digits
    for kept in ("4829103746519283", "18.40", "12:30", "24.99", "card ending 1111"):
        assert kept in text
    assert masked[0].meta == dialogues[0].meta and masked[0].dialogue_id == "log-0001"
    assert [d.dialogue_id for d in load_logs(SAMPLE, limit=3)] == [
        "log-0001",
        "log-0002",
        "log-0003",
    ]


def _write(tmp_path: Path, lines: list[object]) -> Path:
    p = tmp_path / "logs.jsonl"
    p.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return p


GOOD = {"dialogue_id": "a", "turns": [{"role": "customer", "text": "cold soup"}]}


def test_bad_lines_name_file_line_and_field(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            GOOD,  # 1
            "{not json",  # 2
            {"turns": GOOD["turns"]},  # 3 no id
            {"dialogue_id": "b", "turns": [GOOD["turns"][0], {"role": "bot", "text": "hi"}]},  # 4
            {**GOOD, "dialogue_id": "c", "channel": "app"},  # 5 unknown key
            {**GOOD},  # 6 duplicate id
            "",  # 7 blank: skipped
            {"dialogue_id": "d", "turns": [{"role": "customer", "text": "  "}]},  # 8
            {"dialogue_id": "e", "turns": [{"role": "agent", "text": "hello"}]},  # 9
            {"dialogue_id": "f", "turns": []},  # 10
            {"dialogue_id": "g", "turns": GOOD["turns"], "meta": []},  # 11
            [1, 2],  # 12
        ],
    )
    with pytest.raises(LogFormatError) as info:
        load_logs(path)
    got = [(e.line, e.field) for e in info.value.errors]
    assert got == [
        (2, ""),
        (3, "dialogue_id"),
        (4, "turns[1].role"),
        (5, "channel"),
        (6, "dialogue_id"),
        (8, "turns[0].text"),
        (9, "turns"),
        (10, "turns"),
        (11, "meta"),
        (12, ""),
    ]
    msg = str(info.value)
    assert f"{path} line 4: turns[1].role: expected 'customer' or 'agent', got 'bot'" in msg
    assert "put extra fields under 'meta'" in msg and "first on line 1" in msg
    assert msg.startswith("10 bad line(s)")


def test_empty_file_and_int_ids(tmp_path: Path) -> None:
    with pytest.raises(LogFormatError, match="no dialogues"):
        load_logs(_write(tmp_path, [""]))
    d = load_logs(_write(tmp_path, [{**GOOD, "dialogue_id": 7}]))
    assert d[0].dialogue_id == "7"
    with pytest.raises(LogFormatError, match="dialogue_id"):
        load_logs(_write(tmp_path, [{**GOOD, "dialogue_id": True}]))
