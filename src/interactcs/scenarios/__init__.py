"""Scenarios: schema, loaders (release parquet, JSONL), the built-in bank and scene generator.

Usage::

    from interactcs.scenarios import load_scenarios, sample_eval_users
    train = load_scenarios("hard", n=1024, seed=0)
    users = sample_eval_users(load_scenarios("../shared/fds/easy_test.parquet"), "easy", n=80)
"""

from .errors import ScenarioLoadError
from .generator import generate_scene, sample_eval_users, split_train_heldout
from .loaders import load_scenarios, save_jsonl
from .release import release_row_to_scenario, scenario_to_release_row, write_release_parquet
from .schema import CoreDemand, OrderSignals, Persona, Scenario
from .stats import ScenarioStats, scenario_stats

__all__ = [
    "CoreDemand",
    "OrderSignals",
    "Persona",
    "Scenario",
    "ScenarioLoadError",
    "ScenarioStats",
    "generate_scene",
    "load_scenarios",
    "release_row_to_scenario",
    "sample_eval_users",
    "save_jsonl",
    "scenario_stats",
    "scenario_to_release_row",
    "split_train_heldout",
    "write_release_parquet",
]
