"""``interactcs chat --role agent`` for people: briefing, numbered actions, re-prompts on bad
input, Ctrl-C, and the transcript (the ``trajectories.jsonl`` layout of ``simulate``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interactcs.cli import chat_io
from interactcs.cli.main import app
from interactcs.env.service_env import ServiceEnv
from interactcs.rollout.writer import read_trajectories
from interactcs.scenarios.loaders import load_scenarios
from interactcs.users.factory import make_simulator

#: three turns' worth of input: the dialogue ends by the customer or the cap of 3 turns
CHAT_TURNS = "Sorry to hear that, tell me more.\n1\n" * 3


def _chat(tmp: Path, stdin: str, *extra: str) -> tuple[int, str, Path]:
    path = tmp / "transcript.jsonl"
    res = CliRunner().invoke(
        app,
        ["chat", "--role", "agent", "--max-turns", "3", "--transcript", str(path), *extra],
        input=stdin,
    )
    return res.exit_code, res.output, path


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_briefing_is_short_and_has_no_protocol(tmp_path: Path) -> None:
    code, out, _ = _chat(tmp_path, CHAT_TURNS)
    assert code == 0, out
    briefing = out.split("briefing: you are the support agent")[1].split("dialogue")[0]
    lines = [line for line in briefing.splitlines() if line.strip()]
    assert 10 <= len(lines) <= 20, briefing
    for raw in ("<think>", "<response>", "<action>", "# How to reply", "# Rules you always"):
        assert raw not in out
    # the order facts, the costs and the numbered actions are there
    sc = load_scenarios("hard", seed=0)[0]
    assert sc.order.order_id in briefing and sc.order.merchant in briefing
    assert "Costs: voucher = 1 voucher per use, max 1 per chat, budget 30% of chats" in briefing
    assert "  1 chat: " in briefing and "  2 voucher: " in briefing


def test_briefing_lines_fit_80_columns_for_fds_and_name_pack_rules() -> None:
    for source, n_actions in (("hard", 2), ("packs/returns", 4)):
        sc = load_scenarios(source, n=5, seed=0)[3 if source == "hard" else 0]
        env = ServiceEnv(make_simulator("offline"))
        env.reset(sc, seed=0)
        desk = chat_io.Desk.of(env, sc)
        lines = chat_io.briefing_lines(sc, desk)
        assert len(desk.actions) == n_actions and desk.actions[0] == "chat"
        assert len(lines) <= 21
        assert not any("<think>" in line for line in lines)
        if source == "hard":  # courier messages are data: they may run longer
            start, stop = (
                lines.index("Courier chat:"),
                lines.index("rcTag: false: nothing on record"),
            )
            assert stop - start == 3  # this scenario's two courier messages
            assert max(len(line) for line in lines[:start] + lines[stop:]) <= 80
            assert sum(line.startswith("  - ") for line in lines) == 6
        else:
            assert "  - `refund` only when daysSinceDelivery ≤ returnWindowDays." in lines
            assert "  refund = 1 refund per use, max 1 per chat, budget 10% of chats" in lines


def test_parse_action_by_number_or_name() -> None:
    actions = ("chat", "voucher")
    assert chat_io.parse_action("2", actions) == "voucher"
    assert chat_io.parse_action(" Voucher ", actions) == "voucher"
    assert chat_io.parse_action("1", actions) == "chat"
    for bad in ("refund", "0", "3", "", "vouch"):
        assert chat_io.parse_action(bad, actions) is None


def test_typo_reprompts_and_number_picks_the_action(tmp_path: Path) -> None:
    stdin = "Sorry, here is a voucher for the trouble.\nrefund\n2\n" + CHAT_TURNS
    code, out, path = _chat(tmp_path, stdin)
    assert code == 0, out
    assert "not an action: type 1-2 or one of chat, voucher" in out
    (row,) = _rows(path)
    first = row["turns"][0]
    assert first["action"] == "voucher" and first["status"] == "ok"
    assert first["response"] == "Sorry, here is a voucher for the trouble."
    assert row["voucher_issued"] is True
    assert row["end_reason"] in ("user_end", "turn_cap")
    assert row["agent"] == "human"
    sat = row["satisfaction"]
    assert f"satisfaction: {sat}/5" in out if sat is not None else "satisfaction: none" in out
    assert f"transcript saved to {path}" in out


def test_turn_the_protocol_rejects_is_asked_again(tmp_path: Path) -> None:
    # a voucher claimed under `chat`, then a blank reply (the prompt asks again): neither
    # ends the dialogue
    stdin = "I have issued a voucher for you.\n1\n\nI have issued a voucher for you.\nvoucher\n"
    code, out, path = _chat(tmp_path, stdin + CHAT_TURNS)
    assert code == 0, out
    assert "not sent: the response says a voucher was issued but action is chat" in out
    (row,) = _rows(path)
    assert row["end_reason"] != "format_failure"
    assert [t["status"] for t in row["turns"]] == ["ok"] * len(row["turns"])
    assert row["turns"][0]["action"] == "voucher"


def test_read_agent_turn_asks_again_on_blank_and_second_voucher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sc = load_scenarios("hard", n=1, seed=0)[0]
    env = ServiceEnv(make_simulator("offline"), max_turns=5)
    env.reset(sc, seed=0)
    desk = chat_io.Desk.of(env, sc)
    env.step(chat_io.render_agent_output("t", "Here is a voucher for you.", "voucher"))
    answers = iter(["  ", "Another one for you.", "2", "Anything else?", "chat"])
    monkeypatch.setattr(chat_io, "ask", lambda label, default=None: next(answers))
    said: list[str] = []
    text = chat_io.read_agent_turn(desk, env.state(), say=said.append)
    assert desk.rules is None  # FDS: the built-in voucher checks
    assert said == [
        "  type what the customer should read",
        "  not sent: a voucher was already issued in this dialogue; type the turn again",
    ]
    assert text == (
        "<think>(typed by a person)</think><response>Anything else?</response><action>chat</action>"
    )


def test_ctrl_c_exits_130_and_saves_turns_so_far(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["Sorry to hear that, what happened?", "1"])

    def fake_ask(label: str, default: str | None = None) -> str:
        try:
            return next(answers)
        except StopIteration:
            raise KeyboardInterrupt from None

    monkeypatch.setattr(chat_io, "ask", fake_ask)
    code, out, path = _chat(tmp_path, "")
    assert code == 130, out
    assert f"stopped after 1 turn(s); transcript saved to {path}" in out
    assert "Traceback" not in out and "Aborted" not in out
    (traj,) = read_trajectories(path)
    assert traj.end_reason == "interrupted" and traj.meta["interrupted"] is True
    assert len(traj.turns) == 1 and traj.turns[0].response == "Sorry to hear that, what happened?"
    assert traj.satisfaction is None


def test_end_of_input_exits_1_and_transcript_appends(tmp_path: Path) -> None:
    code, out, path = _chat(tmp_path, "Hello, how can I help?\n1\n", "--max-turns", "15")
    assert code == 1, out
    assert "input ended after 1 turn(s)" in out
    code2, out2, _ = _chat(tmp_path, CHAT_TURNS)
    assert code2 == 0, out2
    rows = _rows(path)  # append-only: the second dialogue is a second line
    assert len(rows) == 2
    assert rows[0]["end_reason"] == "interrupted" and rows[1]["end_reason"] != "interrupted"
    assert rows[0]["scenario_id"] == rows[1]["scenario_id"]


def test_without_transcript_says_it_was_not_saved() -> None:
    res = CliRunner().invoke(app, ["chat", "--role", "agent", "--max-turns", "3"], input=CHAT_TURNS)
    assert res.exit_code == 0, res.output
    assert "transcript not saved (pass --transcript PATH to keep it)" in res.output
