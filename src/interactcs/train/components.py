"""Builders that turn a :class:`TrainConfig` into the parts of a run: data, policy, world,
judge, costs, λ controllers. Kept apart from the loop so tests and the evaluation harness
can reuse them.

When ``cfg.scenarios`` is a scenario pack (:mod:`interactcs.packs`), the pack supplies the
training and held-out scenarios (generated like a built-in scene), the act policy's
strategies, the offline judge (:class:`~interactcs.rewards.judges.pack_rubric.PackRubricJudge`
on the pack's principles; an LLM judge gets the pack's principle file), and the cost types
(each budget's cost type charged by the pack actions that charge it). The environment and
the offline simulator read the pack from each scenario, so they need nothing here."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from interactcs.algo.controllers import MultiController, make_controller
from interactcs.llm.options import ClientOptions
from interactcs.policies.base import TrainablePolicy
from interactcs.rewards.cost import CostSpec, CostType
from interactcs.scenarios.schema import Scenario
from interactcs.train.config import LAMBDA_INIT_DEFAULT, TrainConfig

#: seed offset of the held-out split of a built-in scene (unseen scenario instances)
HELDOUT_SEED_OFFSET = 10_007


def load_splits(cfg: TrainConfig) -> tuple[list[Scenario], list[Scenario]]:
    """Training and held-out scenarios.

    Built-in scenes: training = ``generate(scene, train_size, seed)``; held-out = the same
    scene generated with another seed. A file: the last ``heldout_size`` rows are held out
    (unless ``cfg.heldout`` names another source).
    """
    from interactcs.scenarios.loaders import load_scenarios

    builtin = cfg.scenarios in ("hard", "easy") or _pack(cfg) is not None
    if builtin:
        train = load_scenarios(cfg.scenarios, n=cfg.train_size, seed=cfg.seed)
    else:
        train = load_scenarios(cfg.scenarios)
    if cfg.heldout is not None:
        held = load_scenarios(cfg.heldout, n=cfg.heldout_size, seed=cfg.seed + HELDOUT_SEED_OFFSET)
    elif builtin:
        held = load_scenarios(
            cfg.scenarios, n=cfg.heldout_size, seed=cfg.seed + HELDOUT_SEED_OFFSET
        )
    else:
        if len(train) <= cfg.heldout_size:
            raise ValueError(
                f"{cfg.scenarios} has {len(train)} rows, too few to hold out {cfg.heldout_size}: "
                "lower heldout_size or pass heldout=PATH"
            )
        train, held = train[: -cfg.heldout_size], train[-cfg.heldout_size :]
        train = train[: cfg.train_size]
    return train, held


def _pack(cfg: TrainConfig) -> Any | None:
    """The scenario pack of ``cfg.scenarios`` (``None`` when it is not a pack)."""
    from interactcs.packs import is_pack_source, load_pack

    return load_pack(cfg.scenarios) if is_pack_source(cfg.scenarios) else None


def build_policy(cfg: TrainConfig) -> TrainablePolicy:
    """The trainable policy named by ``cfg.policy`` (``act`` or ``hf:PATH``)."""
    from interactcs.policies.factory import make_policy

    kw: dict[str, Any] = {"seed": cfg.seed, "temperature": cfg.temperature}
    pack = _pack(cfg)
    if pack is not None and not pack.is_fds and cfg.policy == "act":
        kw["pack"] = pack.ref
    if cfg.policy.startswith("hf:"):
        kw.update(hf_kwargs(cfg))
    policy = make_policy(cfg.policy, **kw)
    if not isinstance(policy, TrainablePolicy):
        raise ValueError(f"policy {cfg.policy!r} is not trainable; use act or hf:PATH")
    return policy


def hf_kwargs(cfg: TrainConfig) -> dict[str, Any]:
    """Keyword arguments of an ``hf:`` policy built from ``cfg`` (token cap, LoRA, prompt)."""
    from interactcs.policies.hf_common import LoraSpec

    lora = (
        LoraSpec(r=cfg.lora_r, alpha=2 * cfg.lora_r, layers=cfg.lora_layers) if cfg.lora else None
    )
    return {"max_new_tokens": cfg.max_new_tokens, "lora": lora, "prompt_style": cfg.prompt_style}


def llm_options(cfg: TrainConfig) -> ClientOptions:
    """HTTP client options of an ``llm:`` simulator or judge (``llm_timeout``,
    ``llm_retries``, ``llm_concurrency``); ``.for_spec(spec)`` gives a factory's keywords."""
    return ClientOptions(cfg.llm_timeout, cfg.llm_retries, cfg.llm_concurrency)


def build_simulator(cfg: TrainConfig) -> Any:
    """User simulator from ``cfg.user_sim``; an ``llm:`` one gets :func:`llm_options`."""
    from interactcs.users.factory import make_simulator

    kw = llm_options(cfg).for_spec(cfg.user_sim)
    return make_simulator(cfg.user_sim, base_url=cfg.base_url, **kw)


def build_judge(cfg: TrainConfig) -> Any | None:
    """Process judge from ``cfg.judge`` (``offline``, ``llm:MODEL`` or ``none``); an ``llm:``
    judge gets :func:`llm_options` (timeout, retries, concurrency)."""
    if cfg.judge == "none" or not cfg.use_process and cfg.algo in ("cmpo", "capo"):
        return None
    judges = importlib.import_module("interactcs.rewards.judges")
    kw = llm_options(cfg).for_spec(cfg.judge)
    pack = _pack(cfg)
    if pack is not None and not pack.is_fds:
        if cfg.judge in ("offline", "rubric"):
            from interactcs.rewards.judges.pack_rubric import PackRubricJudge

            return PackRubricJudge(pack, mode=cfg.judge_mode)
        return judges.make_judge(
            cfg.judge,
            mode=cfg.judge_mode,
            base_url=cfg.base_url,
            principles=str(pack.principles_path),
            **kw,
        )
    return judges.make_judge(cfg.judge, mode=cfg.judge_mode, base_url=cfg.base_url, **kw)


def build_costs(cfg: TrainConfig) -> CostSpec:
    """One cost type per budget; a cost type is charged by the action of the same name, or,
    for a scenario pack, by the pack actions that charge it (with their amounts)."""
    pack = _pack(cfg)
    if pack is not None:
        table = pack.cost_table
        return CostSpec(
            tuple(
                CostType(
                    name,
                    budget=b,
                    per_action={a: row[name] for a, row in table.items() if name in row},
                )
                for name, b in cfg.budgets.items()
            )
        )
    return CostSpec(
        tuple(CostType(name, budget=b, per_action={name: 1.0}) for name, b in cfg.budgets.items())
    )


def build_controllers(cfg: TrainConfig) -> MultiController:
    """One λ controller per cost type, all of kind ``cfg.controller.name``.

    ``controller.init`` is the λ of training step 1 (the λ the first step's advantages use)
    for ``gradient``, ``pid`` (also its starting integral, so a zero error keeps λ there)
    and ``release``; ``none`` runs at 0 and ``fixed`` at ``fixed_value``. ``lambda_max``
    caps every kind that moves λ.

    ``release`` follows the public release (:class:`~interactcs.algo.controllers.
    ReleaseController`): an update per 128 dialogues, fed by
    ``MultiController.update_from_dialogues``. An ``init`` the config does not set means the
    release's λ_0 = 0.7; target rate 0.27 and r̃_0 = 0.28 are the release's too, read from
    ``controller.target`` / ``smoothed_init`` / ``window`` when the config has such fields.
    """
    c = cfg.controller
    init = LAMBDA_INIT_DEFAULT if c.init is None else float(c.init)
    kwargs: dict[str, Any] = {
        "none": {},
        "fixed": {"value": c.fixed_value},
        "gradient": {"lr": c.lr, "lambda_max": c.lambda_max, "lambda_init": init},
        "pid": {
            "kp": c.kp,
            "ki": c.ki,
            "kd": c.kd,
            "d_delay": c.d_delay,
            "p_ema_alpha": c.ema_p,
            "d_ema_alpha": c.ema_d,
            "lambda_max": c.lambda_max,
            "integral_init": init,
            "lambda_init": init,
        },
        "release": {"lambda_max": c.lambda_max},
    }[c.name]
    if c.name == "release":
        if c.init is not None:  # else the release's 0.7
            kwargs["lambda_init"] = float(c.init)
        for key in ("target", "smoothed_init", "window"):  # optional ControllerConfig fields
            if getattr(c, key, None) is not None:
                kwargs[key] = getattr(c, key)
    return MultiController(
        {name: make_controller(c.name, budget=b, **kwargs) for name, b in cfg.budgets.items()}
    )


def run_dir_for(cfg: TrainConfig) -> Path:
    import time

    if cfg.out:
        return Path(cfg.out)
    scene = Path(cfg.scenarios).stem
    return Path("runs") / f"{scene}__{cfg.algo}__{cfg.seed}__{time.strftime('%Y%m%d-%H%M%S')}"
