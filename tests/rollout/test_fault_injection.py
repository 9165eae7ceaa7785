"""Fault injection over real HTTP: ``simulate`` and ``eval`` against the scripted server.

One :class:`~interactcs.testing.openai_server.ScriptedServer` plays the customer
(``llm:sim``) and the agent endpoint (``api:agent``). Each dialogue is given a fault kind
(round robin over :data:`KINDS`, in the order the dialogues first reach the server); the
customer writes the kind into its opening line so the agent side can read it back:

- agent endpoint: HTTP 500 on every attempt, HTTP 500 once then fine, a malformed body on
  every attempt, a reply that breaks the protocol (the agent's own fault: scored), and one
  request that hangs until the client's ``--timeout`` (``hang``, ``simulate`` only);
- user simulator: HTTP 500 on every attempt, or an unusable ``[end]`` reply on every repair.

Checks: every dialogue is written (0 lost from the output), no lost dialogue is scored (it
carries its reason and is counted per kind in ``summary.json`` / ``results.json``), and the
other dialogues finish while the hung request waits for its timeout (the hung dialogue is
written last). Ordering only; no durations are asserted.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from interactcs.cli.main import app
from interactcs.llm.openai_client import OpenAIChatClient
from interactcs.rollout.metrics import scored_satisfaction
from interactcs.testing.openai_server import (
    Reply,
    RoleHandler,
    ScriptedServer,
    agent_turns_seen,
    system_text,
)
from interactcs.types import Trajectory

AGENT_OK = (
    "<think>gather facts</think><response>Sorry about that, what went wrong?</response>"
    "<action>chat</action>"
)
KINDS = (
    "ok",
    "agent_500",
    "agent_500_once",
    "agent_malformed_body",
    "agent_bad_protocol",
    "sim_500",
    "sim_malformed",
)
#: fault kind -> Trajectory.lost it must produce (absent: scored)
LOST = {
    "agent_500": "agent",
    "agent_malformed_body": "agent",
    "hang": "agent",
    "sim_500": "simulator",
    "sim_malformed": "simulator",
}
#: satisfaction each scored kind counts with in the means (no score: the lowest, 1)
SCORED_SAT = {"ok": 4.0, "agent_500_once": 4.0, "agent_bad_protocol": 1.0}
CLIENT_ARGS = ("--timeout", "1", "--retries", "1", "--concurrency", "8")


class FaultScript:
    """Both sides of the server; ``hang_at``: the case number whose agent request hangs."""

    def __init__(self, hang_at: int | None) -> None:
        self.hang_at = hang_at
        self.cases: dict[str, int] = {}  # order id -> case number (first contact order)
        self.kinds: list[str] = []  # case number -> kind
        self.agent_calls: Counter[int] = Counter()

    def user(self, body: dict[str, Any]) -> str | Reply:
        order_id = system_text(body).partition("- Order ")[2].split(" ", 1)[0]
        if order_id not in self.cases:
            case = self.cases[order_id] = len(self.cases)
            self.kinds.append("hang" if case == self.hang_at else KINDS[case % len(KINDS)])
        case = self.cases[order_id]
        kind, seen = self.kinds[case], agent_turns_seen(body)
        if seen == 0:
            return f"My soup arrived cold (case {case} kind {kind})."
        if kind == "sim_500":
            return Reply("simulator overloaded", status=500)
        if kind == "sim_malformed":
            return "[end]"  # no score: unusable, repaired, then given up
        return "Okay, thanks. [end:4]" if seen >= 2 else "So what will you do about it?"

    def agent(self, body: dict[str, Any]) -> str | Reply:
        opening = str(body["messages"][1]["content"])
        case = int(opening.partition("(case ")[2].split(" ", 1)[0])
        kind = opening.partition(" kind ")[2].split(")", 1)[0]
        self.agent_calls[case] += 1
        if kind == "hang":
            return Reply(AGENT_OK, delay_s=120.0)  # answered long after the client gave up
        if kind == "agent_500" or (kind == "agent_500_once" and self.agent_calls[case] == 1):
            return Reply("agent overloaded", status=500)
        if kind == "agent_malformed_body":
            return Reply(raw_body="{not json")
        if kind == "agent_bad_protocol":
            return "<think>I will just talk"  # a completion that breaks the agent protocol
        return AGENT_OK


def _kind(traj: Trajectory) -> str:
    return traj.opening.partition(" kind ")[2].split(")", 1)[0]


@pytest.fixture
def client_log(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """model -> keyword arguments of every OpenAIChatClient built during the test."""
    built: dict[str, dict[str, Any]] = {}
    init = OpenAIChatClient.__init__

    def spy(self: OpenAIChatClient, base_url: str, model: str, **kw: Any) -> None:
        built[model] = kw
        init(self, base_url, model, **kw)

    monkeypatch.setattr(OpenAIChatClient, "__init__", spy)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return built


def _check_lost_and_scored(trajs: list[Trajectory]) -> dict[str, int]:
    """Every dialogue's fate matches its fault kind; returns the expected lost counts."""
    for t in trajs:
        kind = _kind(t)
        assert t.lost == LOST.get(kind), (kind, t.end_reason, t.failures)
        if t.lost is not None:
            assert scored_satisfaction(t) is None and t.failures, kind
        else:
            assert scored_satisfaction(t) == SCORED_SAT[kind], (kind, t.end_reason)
        if kind in ("hang", "agent_500", "agent_malformed_body"):
            detail = t.failures[-1]["detail"]
            want = {"hang": "timeout after 1 s", "agent_500": "HTTP 500"}.get(kind, "malformed")
            assert t.failures[-1]["type"] == "policy" and want in detail, detail
    lost = Counter(t.lost for t in trajs if t.lost is not None)
    return {"lost_agent": lost["agent"], "lost_simulator": lost["simulator"], "lost_judge": 0}


def test_simulate_with_faults_loses_no_dialogue_and_scores_no_failure(
    tmp_path: Path, client_log: dict[str, dict[str, Any]]
) -> None:
    n, out = 24, tmp_path / "sim"
    script = FaultScript(hang_at=3)
    with ScriptedServer(RoleHandler(script.user, script.agent, user_model="sim")) as srv:
        args = [
            "simulate", "--agent", "api:agent", "--user", "llm:sim", "--base-url", srv.base_url,
            "--scenarios", "hard", "--n", str(n), "--max-turns", "5", "--out", str(out),
            *CLIENT_ARGS,
        ]  # fmt: skip
        res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    for model in ("agent", "sim"):  # the CLI options reached both clients
        kw = client_log[model]
        assert (kw["timeout_s"], kw["max_retries"], kw["concurrency"]) == (1.0, 1, 8)

    rows = [json.loads(line) for line in (out / "trajectories.jsonl").read_text().splitlines()]
    trajs = [Trajectory.from_dict(r) for r in rows]
    assert len(trajs) == n and len({(t.scenario_id, t.seed) for t in trajs}) == n
    assert Counter(map(_kind, trajs)) == Counter(script.kinds) and "hang" in script.kinds
    expected_lost = _check_lost_and_scored(trajs)

    # per-dialogue progress: every other dialogue was written while the hung request waited
    assert _kind(trajs[-1]) == "hang" and "hang" not in map(_kind, trajs[:-1])
    # --retries 1: two attempts for an agent request that always fails or hangs
    for case, kind in enumerate(script.kinds):
        if kind in ("hang", "agent_500"):
            assert script.agent_calls[case] == 2, kind

    summary = json.loads((out / "summary.json").read_text())
    scored = [t for t in trajs if t.lost is None]
    assert {k: summary[k] for k in expected_lost} == expected_lost
    assert summary["n"] == n and summary["scored"] == len(scored)
    assert summary["lost"] == n - len(scored) > 0
    sats = [SCORED_SAT[_kind(t)] for t in scored]
    assert summary["satisfaction_mean"] == pytest.approx(sum(sats) / len(sats))


def test_eval_with_faults_counts_lost_dialogues_per_kind(
    tmp_path: Path, client_log: dict[str, dict[str, Any]]
) -> None:
    users, out = 14, tmp_path / "ev"
    script = FaultScript(hang_at=None)
    with ScriptedServer(RoleHandler(script.user, script.agent, user_model="sim")) as srv:
        args = [
            "eval", "--policy", "api:agent", "--user-sim", "llm:sim", "--judge", "offline",
            "--base-url", srv.base_url, "--users", str(users), "--seeds", "1",
            "--max-turns", "5", "--out", str(out), *CLIENT_ARGS,
        ]  # fmt: skip
        res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert client_log["agent"]["max_retries"] == client_log["sim"]["max_retries"] == 1

    lines = (out / "api-agent" / "trajectories.jsonl").read_text().splitlines()
    trajs = [Trajectory.from_dict(json.loads(line)) for line in lines]
    assert len(trajs) == users
    expected_lost = _check_lost_and_scored(trajs)
    results = json.loads((out / "results.json").read_text())
    row = results["policies"]["api-agent"]
    assert {k: row[k] for k in expected_lost} == expected_lost
    assert row["dialogues"] == users and row["comm_failures"] == row["logic_failures"] == 0
    sats = [SCORED_SAT[_kind(t)] for t in trajs if t.lost is None]
    assert row["satisfaction"]["mean"] == pytest.approx(sum(sats) / len(sats))
    assert results["config"]["timeout_s"] == 1.0 and results["config"]["concurrency"] == 8
