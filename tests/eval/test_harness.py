"""The eval harness end to end: CLI, results.json / results.md, trajectories, RUN_DIR, LLM judge."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from conftest import BAD, GOOD, build_dialogue
from typer.testing import CliRunner

from interactcs.cli.main import app
from interactcs.eval.aggregate import METRICS, TABLE1, over_seeds
from interactcs.eval.harness import EvalConfig, load_pool, policy_label, run_eval, user_samples
from interactcs.eval.rubrics import COMM, LOGIC
from interactcs.eval.tables import markdown_report, rich_table
from interactcs.rollout.writer import read_trajectories
from interactcs.scenarios.schema import CATEGORY_NAMES
from interactcs.testing.openai_server import ScriptedServer, system_text

CATEGORIES = [f"{k} {v}" for k, v in CATEGORY_NAMES.items()]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("eval_cli")
    args = ["eval", "--policy", "rule", "--policy", "random", "--scene", "hard",
            "--users", "10", "--seeds", "2", "--out", str(out)]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "results.json" in res.output and "40/40" in res.output  # progress bar + summary
    return out


def test_results_json_structure(cli_run: Path):
    res = json.loads((cli_run / "results.json").read_text())
    assert list(res["policies"]) == ["rule", "random"]
    for name in ("rule", "random"):
        row = res["policies"][name]
        for key, _, _ in TABLE1:
            assert set(row[key]) == {"mean", "std"}
        assert row["dialogues"] == 20 and row["seeds"] == 2
        assert row["comm_failures"] == 0 and row["logic_failures"] == 0
        assert 1 <= row["satisfaction"]["mean"] <= 5 and 0 <= row["comm"]["mean"] <= 28
        per_seed = res["per_seed"][name]
        assert [p["seed"] for p in per_seed] == [0, 1]
        for m in METRICS:  # std is the sample std over the two seeds
            vals = [p[m] for p in per_seed]
            assert row[m]["mean"] == pytest.approx(statistics.fmean(vals))
            assert row[m]["std"] == pytest.approx(statistics.stdev(vals))
        assert list(res["by_category"][name]) == CATEGORIES  # 10 users: 1/3/2/3/1
        assert sum(g["dialogues"] for g in res["by_category"][name].values()) == 20
        assert set(res["by_need"][name]) <= {"1 Refund Insistence", "2 Refund Priority",
                                             "3 Compensation Flexible", "4 Feedback Focus"}  # fmt: skip
        assert res["judges"][name]["comm"]["judged"] == 20
    assert res["config"]["mix"] == "hard" and res["config"]["same_users"] is False
    assert res["policies"]["rule"]["logic"]["mean"] > res["policies"]["random"]["logic"]["mean"]


def test_results_md_and_trajectories(cli_run: Path):
    md = (cli_run / "results.md").read_text()
    assert "| Policy | Sat. (1-5) | FR (%) | Comm. (0-28) | Logic (0-12) | V-Rate (%) |" in md
    assert md.count("\n| rule | ") >= 11 and "\n| random | " in md  # main + 10 group tables
    assert "## Per cooperation category" in md and "| 1 Highly Uncooperative |" in md
    assert "Judge failures (excluded from the Comm./Logic means): none." in md
    for name in ("rule", "random"):
        trajs = read_trajectories(cli_run / name / "trajectories.jsonl")
        assert len(trajs) == 20
        assert sorted({t.meta["eval_seed"] for t in trajs}) == [0, 1]
        for t in trajs:
            assert 0 <= t.dialogue_scores["comm"] <= 28 and 0 <= t.dialogue_scores["logic"] <= 12
            assert t.dialogue_scores["comm_detail"]["judge"] == "offline"


def test_report_renders_eval_folder(cli_run: Path):
    from interactcs.report.html import write_report

    page = write_report(cli_run, cli_run / "report.html").read_text()
    assert "Evaluation results" in page and "comm_detail" in page


def test_user_samples_per_seed_or_shared(tmp_path: Path):
    cfg = EvalConfig(policies=["rule"], out=tmp_path, users=20, seeds=3)
    pool, mix = load_pool(cfg)
    per_seed = [[s.scenario_id for s in u] for u in user_samples(pool, mix, cfg)]
    assert len({tuple(x) for x in per_seed}) == 3
    cfg.same_users = True
    shared = [[s.scenario_id for s in u] for u in user_samples(pool, mix, cfg)]
    assert shared[0] == shared[1] == shared[2] == per_seed[0]
    cats = [s.category for s in user_samples(pool, mix, cfg)[0]]
    assert [cats.count(c) for c in range(1, 6)] == [2, 6, 5, 5, 2]  # 8/24/20/20/8 per 80


def test_path_scene_needs_a_mix(tmp_path: Path):
    from interactcs.scenarios.loaders import load_scenarios, save_jsonl

    path = tmp_path / "mine.jsonl"
    save_jsonl([s.model_copy(update={"scene": None}) for s in load_scenarios("easy", n=64)], path)
    with pytest.raises(ValueError, match="--mix"):
        load_pool(EvalConfig(policies=["rule"], out=tmp_path, scene=str(path), users=8))
    pool, mix = load_pool(EvalConfig(policies=["rule"], out=tmp_path, scene=str(path), mix="easy"))
    assert mix == "easy" and len(pool) == 64


def test_llm_judge_failures_are_counted_not_scored(tmp_path: Path):
    """Comm answers are valid, Logic answers are garbage: Logic is n/a with 5 failures."""

    def handler(body):
        if "reasoning" in system_text(body):
            return "I think the agent did fine."
        return json.dumps({"scores": {k: 2 for k in COMM.keys}, "reason": "ok"})

    with ScriptedServer(handler) as srv:
        res = run_eval(EvalConfig(
            policies=["rule"], out=tmp_path, users=5, seeds=1, judge="llm:judge",
            base_url=srv.base_url, judge_options={"max_attempts": 2, "max_retries": 0},
        ))  # fmt: skip
        assert len(srv.requests) == 5 + 5 * 2
    row = res["policies"]["rule"]
    assert row["comm"]["mean"] == 28 and row["comm_failures"] == 0
    assert row["logic_failures"] == 5 and row["logic"]["mean"] != row["logic"]["mean"]  # NaN
    assert res["judges"]["rule"]["logic"]["failed"] == 5
    md = (tmp_path / "results.md").read_text()
    assert "| rule | " in md and "n/a" in md and "rule: Comm 0, Logic 5" in md
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["policies"]["rule"]["logic"]["mean"] is None  # strict JSON, no NaN
    for t in read_trajectories(tmp_path / "rule" / "trajectories.jsonl"):
        assert t.dialogue_scores["logic"] is None and "failure" in t.dialogue_scores["logic_detail"]
        assert t.dialogue_scores["comm"] == 28


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from interactcs.train.config import SftConfig, TrainConfig
    from interactcs.train.trainer import Trainer

    out = tmp_path_factory.mktemp("runs") / "tiny_cmpo"
    cfg = TrainConfig(
        steps=2, batch_prompts=4, group_size=2, minibatches=1, train_size=32, heldout_size=8,
        eval_seeds=1, out=str(out), log_tensorboard=False, sft=SftConfig(enabled="off"),
    )  # fmt: skip
    Trainer(cfg).run()
    return out


@pytest.mark.slow  # training the tiny run (torch import included) takes ~5-10 s
def test_run_dir_policy(tiny_run: Path, tmp_path: Path):
    assert policy_label(str(tiny_run)) == "tiny_cmpo"
    res = run_eval(EvalConfig(policies=[str(tiny_run), "never-voucher"], out=tmp_path,
                              users=6, seeds=2))  # fmt: skip
    assert list(res["policies"]) == ["tiny_cmpo", "never-voucher"]
    trajs = read_trajectories(tmp_path / "tiny_cmpo" / "trajectories.jsonl")
    assert len(trajs) == 12 and {t.agent for t in trajs} == {"tiny_cmpo"}
    assert res["policies"]["tiny_cmpo"]["finish_rate"]["mean"] == 1.0


def test_tables_from_shapes():
    """Tables render NaN as n/a and rates in percent; rich table has one row per policy."""
    trajs = [build_dialogue(**GOOD), build_dialogue(**BAD)]
    for t in trajs:
        t.dialogue_scores.update(comm=20, logic=LOGIC.max_total)
    row = over_seeds([{"satisfaction": 2.5, "finish_rate": 1.0, "comm": 20.0,
                       "logic": float("nan"), "voucher_rate": 0.25, "turns": 2.0}])  # fmt: skip
    results = {"config": {"scene": "hard", "mix": "hard"}, "policies": {"x": row}}
    md = markdown_report(results)
    assert "| x | 2.50 ± 0.00 | 100.0 ± 0.0 | 20.00 ± 0.00 | n/a | 25.0 ± 0.0 |" in md
    assert rich_table(results).row_count == 1
