"""`interactcs personas extract` end to end over real HTTP against ScriptedServer.

The server plays the extraction model: it recognises each sample dialogue by its (masked)
first customer line and answers scripted JSON; log-0004 first gets a malformed answer, then
a valid one; log-0008 never gets a valid one. Profile calls are answered per level.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from interactcs.cli.personas import register
from interactcs.llm.openai_client import OpenAIChatClient
from interactcs.personas.logs import load_logs, mask_dialogues
from interactcs.personas.pipeline import ExtractConfig, build_pack
from interactcs.personas.prompts import AGGREGATE_SYSTEM, EXTRACT_SYSTEM
from interactcs.scenarios.schema import Persona
from interactcs.testing.openai_server import Reply, ScriptedServer, last_message, system_text

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "logs" / "sample_logs.jsonl"

#: every PII string written into the sample logs
RAW_PII = [
    "4539 1488 0343 6467",
    "5555-5555-5555-4444",
    "(555) 123-4567",
    "555.987.6543",
    "+44 20 7946 0958",
    "07700 900123",
    "+1-202-555-0143",
    "jamie.r@example.com",
    "k.tanaka+orders@mail.example.org",
    "42 Elm Street",
    "17 Harbour Road",
]
# dialogue -> (cooperation, need) the scripted model "finds"
LABELS: dict[str, tuple[int, int | None]] = {
    "log-0001": (1, 1),
    "log-0002": (1, 1),
    "log-0003": (2, 2),
    "log-0004": (2, 3),
    "log-0005": (3, 2),
    "log-0006": (3, 2),
    "log-0007": (3, 3),
    "log-0008": (4, 4),  # never answered validly
    "log-0009": (4, 4),
    "log-0010": (5, 2),
    "log-0011": (5, 4),
    "log-0012": (5, None),
}
MALFORMED_THEN_VALID, ALWAYS_BAD = "log-0004", "log-0008"


def _traits(did: str) -> dict[str, Any]:
    coop, need = LABELS[did]
    return {
        "summary": f"Customer seen in one chat, cooperation {coop}.",
        "communication_style": "Short sentences." if coop < 3 else "Friendly and clear.",
        "information_disclosure": "Holds back evidence." if coop < 3 else "Shares photos.",
        "problem_solving": "Pushes for a refund." if need == 1 else "Open to offers.",
        "affective_style": "Irritated from the start." if coop < 3 else "Calm.",
        "catchphrases": ["Just fix it."] if coop < 3 else ["Thanks for sorting it."],
        "traits": ["Impatient"] if coop < 3 else ["Patient"],
        "goals": ["Get compensated"],
        "cooperation": coop,
        "need": need,
        "need_text": "whatever is fair" if need is None else f"need type {need}",
    }


def _profile(level: int) -> dict[str, Any]:
    phrase = "Call me on 07700 900456." if level == 5 else f"Level {level} line."
    return {
        "summary": f"A level-{level} customer distilled from logs.",
        "communication_style": "Varies with mood.",
        "information_disclosure": "Depends on trust.",
        "problem_solving": "Negotiates.",
        "affective_style": "Steady.",
        "catchphrases": [phrase],
        "traits": ["Direct"],
        "goals": ["A fair outcome"],
    }


class ModelScript:
    """Handler: scripted extraction / profile answers, keyed by dialogue and level."""

    def __init__(self) -> None:
        masked, _ = mask_dialogues(load_logs(SAMPLE))
        self.first_line = {d.dialogue_id: d.turns[0].text for d in masked}
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.profile_levels: list[int] = []
        self.fail_profile_level: int | None = None
        self.http_error_for: str | None = None

    def dialogue_of(self, body: dict[str, Any]) -> str:
        first_user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        hits = [d for d, line in self.first_line.items() if f"Customer: {line}\n" in first_user]
        assert len(hits) == 1, first_user[:200]
        return hits[0]

    def __call__(self, body: dict[str, Any]) -> str | Reply:
        sys = system_text(body)
        if sys == AGGREGATE_SYSTEM:
            level = int(re.search(r"Cooperation level: (\d)", last_message(body, "user"))[1])  # type: ignore[index]
            with self.lock:
                self.profile_levels.append(level)
            if level == self.fail_profile_level:
                return "I would describe them as grumpy."
            return json.dumps(_profile(level))
        assert sys == EXTRACT_SYSTEM
        did = self.dialogue_of(body)
        with self.lock:
            self.calls[did] += 1
            n = self.calls[did]
        if did == self.http_error_for:
            return Reply(status=400, content="context length exceeded")
        if did == ALWAYS_BAD:
            return "This customer seems cooperative overall."
        if did == MALFORMED_THEN_VALID and n == 1:
            return '{"summary": "Terse customer", "cooperation": 2,'  # cut off
        return "```json\n" + json.dumps(_traits(did)) + "\n```"


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    register(app)
    return app


def _assert_no_pii(text: str) -> None:
    """No raw PII string, and no digit run carrying a PII number in another grouping."""
    runs = [re.sub(r"\D", "", m) for m in re.findall(r"\d[\d ().+-]*\d", text)]
    for raw in RAW_PII:
        assert raw not in text, raw
        digits = re.sub(r"\D", "", raw)
        if len(digits) >= 9:
            assert not any(digits in run for run in runs), raw


def test_cli_end_to_end(tmp_path: Path) -> None:
    script = ModelScript()
    out = tmp_path / "pack" / "personas.jsonl"
    with ScriptedServer(script) as srv:
        res = CliRunner().invoke(
            _app(),
            [
                "personas", "extract", "--logs", str(SAMPLE), "--llm", "extractor",
                "--base-url", srv.base_url, "--out", str(out), "--per-category", "2",
                "--concurrency", "4", "--max-retries", "0", "--timeout-s", "5",
            ],
        )  # fmt: skip
        requests = list(srv.requests)
        assert not srv.errors
    assert res.exit_code == 0, res.output
    assert "11/12 dialogues extracted" in res.output and "log-0008" in res.output
    assert "PII masked in the logs: 11 (address 2, card 2, email 2, phone 5)" in res.output

    # the server never saw PII, dialogue ids or meta
    sent = json.dumps(requests, ensure_ascii=False)
    _assert_no_pii(sent)
    assert "log-0001" not in sent and "app chat" not in sent
    assert "[CARD]" in sent and "[PHONE]" in sent and "4829103746519283" in sent

    # 12 first calls + 1 repair (log-0004) + 2 more tries (log-0008) + 9 profile calls
    assert script.calls[MALFORMED_THEN_VALID] == 2 and script.calls[ALWAYS_BAD] == 3
    assert len(requests) == 15 + 9 and sorted(script.profile_levels) == [1, 1, 2, 2, 3, 3, 4, 5, 5]
    repair = next(
        b for b in requests if b["messages"][-1]["content"].startswith("That answer cannot be used")
    )
    assert repair["messages"][-2] == {
        "role": "assistant",
        "content": '{"summary": "Terse customer", "cooperation": 2,',
    }
    assert repair["model"] == "extractor" and repair["temperature"] == 0.2

    lines = out.read_text().splitlines()
    personas = [Persona.model_validate(json.loads(line)) for line in lines]
    assert [p.persona_id for p in personas] == [
        "ext-c1-01", "ext-c1-02", "ext-c2-01", "ext-c2-02", "ext-c3-01", "ext-c3-02",
        "ext-c4-01", "ext-c5-01", "ext-c5-02",
    ]  # fmt: skip
    assert all(p.category == int(p.persona_id[5]) and p.category_name for p in personas)
    assert all(p.category_description and p.affective_style for p in personas)
    assert personas[-1].catchphrases == ["Call me on [PHONE]."]  # model output masked too

    report = json.loads((out.parent / "extract_report.json").read_text())
    assert report["n_failed"] == 1 and [f["dialogue_id"] for f in report["failed"]] == [ALWAYS_BAD]
    assert report["failed"][0]["attempts"] == 3 and "not valid JSON" in report["failed"][0]["error"]
    assert report["masked_input"] == {"address": 2, "card": 2, "email": 2, "phone": 5, "total": 11}
    assert report["masked_output"] == {"phone": 2, "total": 2}  # both level-5 profiles
    assert report["persona_sources"]["ext-c3-01"] == ["log-0005", "log-0006"]
    assert report["persona_sources"]["ext-c4-01"] == ["log-0009"]
    assert report["model"] == "extractor" and report["categories_without_dialogues"] == []

    stats = json.loads((out.parent / "needs_stats.json").read_text())
    assert stats["n_dialogues"] == 11 and stats["dialogues_by_category"]["4"] == 1
    assert stats["counts"]["5"] == {"1": 0, "2": 1, "3": 0, "4": 1, "other": 1}
    assert stats["p_need_given_category"]["2"] == [
        0.0,
        0.5,
        pytest.approx(2 / 3, abs=1e-6),
        0.0,
        0.5,
    ]
    assert stats["by_persona"]["ext-c3-02"] == {"1": 0, "2": 0, "3": 1, "4": 0, "other": 0}
    _assert_no_pii((out.parent / "extract_report.json").read_text() + "\n".join(lines))


def test_dry_run_sends_nothing(tmp_path: Path) -> None:
    script = ModelScript()
    with ScriptedServer(script) as srv:
        res = CliRunner().invoke(
            _app(),
            ["personas", "extract", "--logs", str(SAMPLE), "--dry-run", "--llm", "m",
             "--base-url", srv.base_url, "--out", str(tmp_path / "p.jsonl")],
        )  # fmt: skip
        assert srv.requests == []
    assert res.exit_code == 0, res.output
    assert "Customer: My noodle soup showed up stone cold" in res.output
    assert res.output.count("extraction call for dialogue") == 12
    assert "[CARD]" in res.output and "PII masked: 11" in res.output
    assert "no request was sent" in res.output
    _assert_no_pii(res.output)
    assert not (tmp_path / "p.jsonl").exists()


def test_failed_profile_and_http_error_recorded() -> None:
    script = ModelScript()
    script.fail_profile_level, script.http_error_for = 3, "log-0001"
    dialogues = load_logs(SAMPLE)
    with ScriptedServer(script) as srv:
        client = OpenAIChatClient(srv.base_url, "m", timeout_s=5, max_retries=0)
        pack = build_pack(
            client, dialogues, ExtractConfig(max_attempts=2), category_descriptions={}
        )
    rep = pack.report
    assert [f["dialogue_id"] for f in rep["failed"]] == ["log-0001", ALWAYS_BAD]
    assert rep["failed"][0]["attempts"] == 1 and "HTTP 400" in rep["failed"][0]["error"]
    assert script.calls["log-0001"] == 1 and script.calls[ALWAYS_BAD] == 2
    assert [p.persona_id for p in pack.personas] == [
        "ext-c1-01",
        "ext-c2-01",
        "ext-c4-01",
        "ext-c5-01",
    ]
    assert [(f["category"], f["attempts"]) for f in rep["failed_profiles"]] == [(3, 2)]
    assert rep["failed_profiles"][0]["dialogue_ids"] == ["log-0005", "log-0006", "log-0007"]
    assert pack.personas[0].category_description == ""
    # the failed dialogues are not counted in P(need | category)
    assert pack.needs_stats["counts"]["1"]["1"] == 1


def test_cli_input_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"dialogue_id": "x", "turns": [{"role": "user", "text": "hi"}]}\n')
    res = CliRunner().invoke(_app(), ["personas", "extract", "--logs", str(bad), "--dry-run"])
    assert res.exit_code == 2 and "line 1: turns[0].role" in res.output
    res = CliRunner().invoke(
        _app(), ["personas", "extract", "--logs", str(SAMPLE)], env={"OPENAI_BASE_URL": ""}
    )
    assert res.exit_code == 2 and "missing --llm, --base-url, --out" in res.output
    res = CliRunner().invoke(_app(), ["personas", "extract", "--logs", str(tmp_path / "no.jsonl")])
    assert res.exit_code == 2 and "no such file" in res.output


def test_leak_check_can_fail() -> None:
    with pytest.raises(AssertionError):
        _assert_no_pii(SAMPLE.read_text())
    with pytest.raises(AssertionError):
        _assert_no_pii('{"content": "card 4539148803436467"}')  # regrouped digits
    _assert_no_pii("order 4829103746519283, call [PHONE]")
