"""Score one tau2 simulation with the project's own checks, and compare with tau2's.

:func:`score_simulation` recomputes, from the trajectory and the task:

- the DB check: the database hashes (agent side and user side) of the environment the
  conversation ran on, against those of a fresh environment after the gold actions (tau2
  instead replays the trajectory on a fresh environment, so the two checks share no state);
- the communicate check: every required info item appears (case-insensitive, commas removed
  from the message, as tau2 does) in some agent text message;
- environment assertions (telecom) on the replayed environment;
- gold *write* actions matched by a tool call of the trajectory (tau2's argument matching,
  :meth:`tau2.data_model.tasks.Action.compare_with_tool_call`).

:func:`disagreements` lists where these differ from tau2's own ``reward_info``; the runner
stores the list, so every run doubles as a check of the harness.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from tau2.data_model.message import AssistantMessage, Message, ToolCall, UserMessage
from tau2.data_model.simulation import SimulationRun, TerminationReason
from tau2.data_model.tasks import Action, RewardType, Task
from tau2.environment.environment import Environment
from tau2.environment.toolkit import ToolType
from tau2.registry import registry

from interactcs.integrations.tau2.metrics import SimScore

#: hand-off tools counted with the write actions (they end the agent's part of the call).
HANDOFF_TOOLS = frozenset({"transfer_to_human_agents"})


@dataclass(slots=True)
class Checks:
    """Per-simulation check results (see module docstring).

    Attributes:
        db: databases equal the gold ones.
        communicate: info item -> told.
        env_assertions: one flag per assertion of the task.
        write_actions: gold action index -> matched, for the gold write actions only.
    """

    db: bool
    communicate: dict[str, bool] = field(default_factory=dict)
    env_assertions: list[bool] = field(default_factory=list)
    write_actions: dict[int, bool] = field(default_factory=dict)


def _tool_calls(messages: list[Message]) -> list[ToolCall]:
    calls: list[ToolCall] = []
    for m in messages:
        if isinstance(m, AssistantMessage | UserMessage) and m.tool_calls:
            calls.extend(m.tool_calls)
    return calls


def is_write_action(env: Environment, action: Action) -> bool:
    """A gold action that changes state (tool type WRITE) or hands the customer off."""
    if action.name in HANDOFF_TOOLS:
        return True
    kit = env.user_tools if action.requestor == "user" else env.tools
    if kit is None or not kit.has_tool(action.name):
        return False
    return kit.tool_type(action.name) == ToolType.WRITE


def _initial(task: Task) -> tuple[object, object, list[Message]]:
    init = task.initial_state
    if init is None:
        return None, None, []
    return init.initialization_data, init.initialization_actions, list(init.message_history or [])


def _gold_env(domain: str, task: Task) -> Environment:
    data, actions, history = _initial(task)
    env = registry.get_env_constructor(domain)()
    env.set_state(initialization_data=data, initialization_actions=actions, message_history=history)
    crit = task.evaluation_criteria
    for action in (crit.actions or []) if crit else []:
        try:
            env.make_tool_call(action.name, requestor=action.requestor, **action.arguments)
        except Exception:  # noqa: BLE001 - a failing gold action leaves the state as it is
            pass
        # as the orchestrator does after every tool call: sync the two sides (telecom: a
        # payment request sent by the agent only reaches the phone, where the user pays it,
        # after a sync)
        env.sync_tools()
    return env


@dataclass(frozen=True, slots=True)
class GoldState:
    """What the checks need from the gold run of a task (cached: trials share it)."""

    db_hash: str | None
    user_db_hash: str | None
    write_indices: tuple[int, ...]


_GOLD_CACHE: dict[tuple[str, str], GoldState] = {}
_GOLD_LOCK = threading.Lock()


def gold_state(domain: str, task: Task) -> GoldState:
    """Database hashes after the gold actions, and which gold actions are writes."""
    key = (domain, task.id)
    with _GOLD_LOCK:
        if key in _GOLD_CACHE:
            return _GOLD_CACHE[key]
    env = _gold_env(domain, task)
    crit = task.evaluation_criteria
    actions = (crit.actions or []) if crit else []
    writes = tuple(i for i, a in enumerate(actions) if is_write_action(env, a))
    state = GoldState(env.get_db_hash(), env.get_user_db_hash(), writes)
    with _GOLD_LOCK:
        _GOLD_CACHE[key] = state
    return state


def told(info: str, messages: list[Message]) -> bool:
    """Whether an agent text message contains ``info`` (case-insensitive, commas dropped)."""
    needle = info.lower()
    for m in messages:
        if isinstance(m, AssistantMessage) and m.has_text_content():
            if needle in str(m.content).lower().replace(",", ""):
                return True
    return False


def run_checks(domain: str, task: Task, messages: list[Message], env: Environment) -> Checks:
    """The project's checks on a finished trajectory (see module docstring).

    Args:
        domain: tau2 domain name.
        task: the task played.
        messages: the simulation's messages.
        env: the environment the conversation ran on, in its final state (not a replay, so
            the DB check does not share tau2's replay code).
    """
    gold = gold_state(domain, task)
    db = env.get_db_hash() == gold.db_hash and env.get_user_db_hash() == gold.user_db_hash
    crit = task.evaluation_criteria
    checks = Checks(db=db)
    if crit is None:
        return checks
    checks.communicate = {info: told(info, messages) for info in crit.communicate_info or []}
    checks.env_assertions = [
        env.run_env_assertion(a, raise_assertion_error=False) for a in crit.env_assertions or []
    ]
    calls = _tool_calls(messages)
    actions = crit.actions or []
    for i in gold.write_indices:
        checks.write_actions[i] = any(actions[i].compare_with_tool_call(tc) for tc in calls)
    return checks


def score_simulation(
    domain: str,
    task: Task,
    sim: SimulationRun,
    env: Environment | None,
    *,
    error: str | None = None,
) -> tuple[SimScore, Checks | None]:
    """A :class:`SimScore` for one simulation, and the raw checks (``None`` when it ended early).

    Args:
        domain, task, sim: the simulation to score.
        env: the environment it ran on (final state); ``None`` when it crashed.
        error: the crash message, if any.

    A simulation that did not end by user or agent stop scores 0 on every check.
    """
    crit = task.evaluation_criteria
    needs_comm = bool(crit and crit.communicate_info)
    has_env = bool(crit and crit.env_assertions)
    reward = sim.reward_info.reward if sim.reward_info is not None else 0.0
    base = dict(
        task_id=task.id,
        trial=sim.trial or 0,
        reward=reward,
        needs_communicate=needs_comm,
        termination=str(getattr(sim.termination_reason, "value", sim.termination_reason)),
        error=error,
    )
    ended_normally = sim.termination_reason in {
        TerminationReason.AGENT_STOP,
        TerminationReason.USER_STOP,
    }
    completed = error is None and env is not None and ended_normally
    if not completed:
        score = SimScore(
            completed=False, db=False, communicate=False,
            env_assertions=False if has_env else None,
            write_matched=0, write_total=len(gold_state(domain, task).write_indices), **base,
        )  # fmt: skip
        return score, None
    checks = run_checks(domain, task, sim.messages, env)
    score = SimScore(
        completed=True,
        db=checks.db,
        communicate=all(checks.communicate.values()),
        env_assertions=all(checks.env_assertions) if has_env else None,
        write_matched=sum(checks.write_actions.values()),
        write_total=len(checks.write_actions),
        **base,
    )
    return score, checks


def disagreements(checks: Checks | None, sim: SimulationRun) -> list[str]:
    """Where the project's checks differ from tau2's ``reward_info`` (empty: they agree).

    The DB checks are compared only where DB is part of the task's reward basis (airline,
    retail): in telecom tau2 plays the gold actions without syncing the phone with the line
    between them, so its (unused) DB flag can be false on a perfect run.
    """
    info = sim.reward_info
    if checks is None or info is None or info.db_check is None:
        return []
    out = []
    if RewardType.DB in (info.reward_basis or []) and checks.db != info.db_check.db_match:
        out.append(f"db: ours {checks.db}, tau2 {info.db_check.db_match}")
    theirs_comm = {c.info: c.met for c in info.communicate_checks or []}
    if checks.communicate != theirs_comm:
        out.append(f"communicate: ours {checks.communicate}, tau2 {theirs_comm}")
    theirs_env = [c.met for c in info.env_assertions or []]
    if checks.env_assertions != theirs_env:
        out.append(f"env_assertions: ours {checks.env_assertions}, tau2 {theirs_env}")
    theirs_act = info.action_checks or []
    for i, ok in checks.write_actions.items():
        theirs = theirs_act[i].action_match if i < len(theirs_act) else None
        if theirs != ok:
            out.append(f"write action {i}: ours {ok}, tau2 {theirs}")
    return out
