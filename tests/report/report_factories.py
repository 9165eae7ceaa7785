"""Synthetic trajectories for the report tests (no simulator needed).

A plain module (not ``conftest``) with a unique name, so tests can import it directly.
"""

from __future__ import annotations

import json
from pathlib import Path

from interactcs.types import EndReason, FormatStatus, Trajectory, Turn

XSS = '<img src=x onerror="window.__xss=1"></script><script>window.__xss=2</script>'


def make_traj(
    sid: str,
    *,
    category: int = 3,
    need: int = 3,
    voucher: bool = False,
    satisfaction: int | None = 4,
    end_reason: str = EndReason.USER_END,
    opening: str = "My noodles arrived cold.",
    extra_text: str = "",
    n_turns: int = 2,
) -> Trajectory:
    """A small dialogue; the voucher (if any) is issued on the last agent turn."""
    turns = []
    user = opening
    for i in range(n_turns):
        last = i == n_turns - 1
        action = "voucher" if voucher and last else "chat"
        response = f"I am sorry about that, turn {i}. {extra_text if last else ''}".strip()
        reply = f"[Sent Picture: cold noodles] ok {i}" if i == 0 else f"thanks {i}"
        turns.append(
            Turn(
                index=i,
                user_text=user,
                raw=f"<think>t{i}</think><response>{response}</response><action>{action}</action>",
                think=f"customer seems category {category}, turn {i}",
                response=response,
                action=action,
                status=FormatStatus.OK,
                costs={"voucher": 1.0} if action == "voucher" else {},
                reply=reply if not last or end_reason == EndReason.USER_END else None,
                acts=["apologize"],
                process_score=0.5 + 0.25 * (i % 3),
                process_detail={"persona_fit": 1.0, "stage": 0.5},
            )
        )
        user = reply
    return Trajectory(
        scenario_id=sid,
        category=category,
        need=need,
        complaint="temperature",
        opening=opening,
        turns=turns,
        satisfaction=satisfaction,
        terminated=end_reason != EndReason.TURN_CAP,
        truncated=end_reason == EndReason.TURN_CAP,
        end_reason=str(end_reason),
        voucher_issued=voucher,
        seed=0,
        agent="rule",
        user_sim="offline",
        scene="hard",
    )


def write_jsonl(path: Path, trajs: list[Trajectory]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(t.to_dict()) + "\n" for t in trajs), encoding="utf-8")
    return path


def viewer_set() -> list[Trajectory]:
    """Eight dialogues with known filter answers (see test_browser)."""
    return [
        make_traj("d01", category=1, voucher=True, satisfaction=2, extra_text="Here is a voucher."),
        make_traj("d02", category=1, voucher=True, satisfaction=4, opening="Soup spilled badly"),
        make_traj(
            "d03", category=1, voucher=False, satisfaction=1, extra_text="No refunds, sorry."
        ),
        make_traj("d04", category=2, voucher=True, satisfaction=5, need=1),
        make_traj(
            "d05",
            category=5,
            voucher=False,
            satisfaction=None,
            end_reason=EndReason.TURN_CAP,
            n_turns=3,
        ),  # fmt: skip
        make_traj("d06", category=1, voucher=True, satisfaction=3, extra_text="A voucher for you."),
        make_traj("d07", category=3, voucher=False, satisfaction=3, opening=XSS, extra_text=XSS),
        make_traj("d08", category=4, voucher=False, satisfaction=5, opening="pineapple pizza"),
    ]


#: internals of results.json that must never reach the page
RAW_KEYS = ("api_key_env", "pool_seed", "max_live")
#: a policy evaluated from a run folder (long name with a time stamp, as ``eval -p RUN_DIR``)
RUN_POLICY = "train__hard__cmpo__0__20261203-101500"
#: an unbroken 300-character token: must wrap, never widen its card
LONG_TOKEN = "x" * 300


def _stat(mean: float, std: float) -> dict[str, float]:
    return {"mean": mean, "std": std}


def _eval_metrics(sat: float, fr: float, comm: float, logic: float, vr: float) -> dict:
    return {
        "satisfaction": _stat(sat, 0.12), "finish_rate": _stat(fr, 0.0),
        "comm": _stat(comm, 0.21), "logic": _stat(logic, 0.35),
        "voucher_rate": _stat(vr, 0.029), "turns": _stat(3.54, 0.06),
        "dialogues": 4, "comm_failures": 0, "logic_failures": 0, "lost_simulator": 0,
        "lost_agent": 0, "lost_judge": 0, "seeds": 2,
    }  # fmt: skip


def scored(t: Trajectory, comm: int = 25, logic: int = 7) -> Trajectory:
    """``t`` with dialogue scores shaped like the offline Comm/Logic judges' output."""
    t.dialogue_scores = {
        "comm": comm,
        "comm_detail": {"judge": "offline", "items": {"in_role": 2, "focus_latest": 0},
                        "reasons": {"focus_latest": "2 replies miss the latest message"}},
        "logic": logic,
        "logic_detail": {"judge": "offline", "items": {"emotion": 0, "sop": 1}, "reasons": {}},
    }  # fmt: skip
    return t


def make_eval_dir(root: Path) -> Path:
    """A folder shaped like ``interactcs eval`` output: results.json (with its config
    internals), and 4 scored dialogues per policy, one with an unbroken 300-char token."""
    cfg = {"policies": ["rule", RUN_POLICY], "scene": "hard", "users": 2, "seeds": 2,
           "user_sim": "offline", "judge": "offline", "base_url": None,
           "api_key_env": "OPENAI_API_KEY", "max_turns": 15, "mix": "hard",
           "same_users": False, "pool_seed": 20011, "max_live": 256}  # fmt: skip
    cats = {"1 Highly Uncooperative": _eval_metrics(1.67, 1.0, 26.7, 9.67, 0.17)}
    results = {
        "benchmark": "FDS",
        "config": cfg,
        "policies": {"rule": _eval_metrics(2.8333, 1.0, 27.3125, 10.9167, 0.22917),
                     RUN_POLICY: _eval_metrics(3.01, 1.0, 27.5, 11.2, 0.3021)},
        "by_category": {"rule": cats, RUN_POLICY: cats},
        "by_need": {"rule": cats, RUN_POLICY: cats},
        "per_seed": {}, "judges": {}, "wall_time_s": {"total": 0.5},
    }  # fmt: skip
    root.mkdir(parents=True, exist_ok=True)
    (root / "results.json").write_text(json.dumps(results), encoding="utf-8")
    for i, pol in enumerate(["rule", RUN_POLICY]):
        trajs = [scored(make_traj(f"e{i}{k}", category=k + 1, voucher=k % 2 == 0,
                                  extra_text=LONG_TOKEN if k == 0 else ""))
                 for k in range(4)]  # fmt: skip
        write_jsonl(root / pol / "trajectories.jsonl", trajs)
    return root


def make_train_dir(root: Path, steps: int = 30) -> Path:
    """A folder shaped like ``interactcs train`` output: config.yaml, metrics.jsonl,
    final_eval.json, eval_trajectories.jsonl (keys as the trainer writes them)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text(
        "scenarios: hard\npolicy: act\nalgo: cmpo\ncost_mode: turn\nuse_outcome: true\n"
        "use_process: true\nuse_cost: true\nbudgets:\n  voucher: 0.3\ncontroller:\n  name: pid\n"
        "steps: 30\nbatch_prompts: 8\ngroup_size: 2\nsft:\n  teacher: rule\n  dialogues: 8\n"
        "user_sim: offline\njudge: offline\nseed: 0\nbase_url: null\n",
        encoding="utf-8",
    )
    rows = [{"step": s, "rollout/satisfaction_mean": 2.5 + 0.02 * s, "rollout/finish_rate": 1.0,
             "rollout/voucher_rate": 0.4 - 0.004 * s, "constraint/lambda/voucher": 0.04 * s,
             "constraint/cost_rate/voucher": 0.4 - 0.004 * s, "constraint/budget/voucher": 0.3,
             "train/loss": 0.1} for s in range(1, steps + 1)]  # fmt: skip
    (root / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    stage = {"initial": (1.92, 0.314), "warm_start": (2.73, 0.243), "trained": (2.95, 0.314),
             "never_voucher": (2.51, 0.0)}  # fmt: skip
    final = {k: {"satisfaction_mean": _stat(s, 0.05), "finish_rate": _stat(1.0, 0.0),
                 "voucher_rate": _stat(v, 0.018)} for k, (s, v) in stage.items()}  # fmt: skip
    final.update(heldout_size=16, seeds=3, budgets={"voucher": 0.3}, notes="n")
    (root / "final_eval.json").write_text(json.dumps(final), encoding="utf-8")
    trajs = [make_traj(f"h{k}", category=k % 5 + 1, voucher=k % 3 == 0,
                       extra_text=LONG_TOKEN if k == 0 else "") for k in range(6)]  # fmt: skip
    write_jsonl(root / "eval_trajectories.jsonl", trajs)
    (root / "sft_data.jsonl").write_text("")
    return root
