"""Training configuration: one validated dataclass-like model, YAML file + CLI overrides.

Usage::

    cfg = TrainConfig.load("my.yaml", overrides=["steps=40", "controller.kp=0.5"])
    cfg.to_yaml(run_dir / "config.yaml")

Every field documents itself (``interactcs train --help-config`` prints them). Errors name
the field and say how to fix it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)


class ConfigError(ValueError):
    """A config value is wrong; the message says which field and how to fix it."""


PRESETS_DIR = Path(__file__).with_name("presets")


def presets() -> list[str]:
    """Names of the shipped presets (``interactcs train --preset NAME``)."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def preset_path(name: str) -> Path:
    path = PRESETS_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(presets())}")
    return path


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{where} is not valid YAML") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return loaded


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    """Deep-merge ``extra`` into ``base`` (mappings merge, other values replace)."""
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = v


#: λ of step 1 when ``controller.init`` is unset (the release mode uses its own 0.7)
LAMBDA_INIT_DEFAULT = 1.0


class ControllerConfig(BaseModel):
    """How λ (one per cost type) is set each step."""

    model_config = ConfigDict(extra="forbid")
    name: Literal["none", "fixed", "gradient", "pid", "release"] = Field(
        "pid",
        description="none (λ=0), fixed, gradient (plain error-driven), pid (paper Eq. 8), release",
    )
    init: float | None = Field(
        None,
        ge=0,
        description="λ of step 1 (PID: also the starting integral; starting near the equilibrium avoids the first overshoot); unset: 1.0, release: its 0.7",
    )
    fixed_value: float = Field(1.0, ge=0, description="λ for name=fixed")
    lr: float = Field(0.5, gt=0, description="step size of name=gradient")
    kp: float = Field(2.0, ge=0, description="PID proportional gain")
    ki: float = Field(0.25, ge=0, description="PID integral gain")
    kd: float = Field(0.5, ge=0, description="PID derivative gain")
    d_delay: int = Field(3, ge=1, description="PID derivative delay in steps")
    ema_p: float = Field(
        0.8, ge=0, le=1, description="EMA weight of the P term (OmniSafe delta_p_ema_alpha)"
    )
    ema_d: float = Field(
        0.5, ge=0, le=1, description="EMA weight of the D term (OmniSafe delta_d_ema_alpha)"
    )
    lambda_max: float = Field(5.0, gt=0, description="upper clip of λ")


class SftConfig(BaseModel):
    """Supervised warm start on rule-agent dialogues (HF policies; the paper's static stage)."""

    model_config = ConfigDict(extra="forbid")
    enabled: Literal["auto", "on", "off"] = Field(
        "auto", description="auto/on = warm start before RL; off = RL from scratch"
    )
    teacher: str = Field(
        "rule",
        description="policy whose dialogues are imitated; several with weights: "
        "'rule:0.6,always-voucher:sop:0.4' (fractions of `dialogues`)",
    )

    @field_validator("enabled", mode="before")
    @classmethod
    def _yaml_bool(cls, v: Any) -> Any:
        """YAML reads ``on``/``off`` as booleans; accept them."""
        return {True: "on", False: "off"}.get(v, v) if isinstance(v, bool) else v

    dialogues: int = Field(512, ge=1, description="rule-agent dialogues to imitate")
    epochs: int = Field(
        4, ge=1, description="few epochs on purpose: the warm start keeps some entropy for RL"
    )
    lr: float | None = Field(None, gt=0, description="default 1e-2 for act, 5e-4 for hf: policies")
    batch_size: int = Field(32, ge=1, description="dialogues per behaviour-cloning optimiser step")


class TrainConfig(BaseModel):
    """Everything a CMPO run needs. Defaults = the embedded CPU job (``interactcs train``)."""

    model_config = ConfigDict(extra="forbid")

    # data and world
    scenarios: str = Field(
        "hard",
        description="hard | easy | PATH (.parquet/.jsonl) | packs/NAME or a pack folder (its actions, costs, budgets, simulator, judge principles) for training dialogues",
    )
    train_size: int = Field(2048, ge=1, description="training scenarios drawn from `scenarios`")
    heldout: str | None = Field(
        None, description="held-out scenarios (default: same scene, unseen seed)"
    )
    heldout_size: int = Field(256, ge=1, description="held-out dialogues per evaluation seed")
    user_sim: str = Field("offline", description="offline | llm:MODEL")
    judge: str = Field("offline", description="process judge: offline | llm:MODEL | none")
    judge_mode: Literal["turn", "dialogue"] = Field(
        "turn", description="turn (paper) or dialogue (release)"
    )
    base_url: str | None = Field(None, description="OpenAI-compatible URL for llm: simulator/judge")
    llm_timeout: float = Field(
        60.0,
        gt=0,
        description="seconds an llm: simulator/judge request may stay silent (connecting, "
        "sending, waiting) before that attempt fails and is retried (CLI --timeout)",
    )
    llm_retries: int = Field(
        3,
        ge=0,
        description="retries of a failed llm: simulator/judge request (timeout, HTTP 429/5xx, "
        "malformed reply) after the first attempt; 0 = one attempt (CLI --retries)",
    )
    llm_concurrency: int | None = Field(
        None,
        ge=1,
        description="most llm: simulator and llm: judge requests in flight at once "
        "(CLI --concurrency); unset: the client's 64 and the judge's 32",
    )
    max_turns: int = Field(15, ge=1, description="agent-turn cap per dialogue")

    # policy
    policy: str = Field(
        "act", description="act | hf:PATH_OR_NAME | smollm2 (= hf:smollm2) | hf:FILE.gguf"
    )
    lora: bool = Field(False, description="train a LoRA adapter instead of all weights (hf: only)")
    lora_r: int = Field(16, ge=1, description="LoRA rank (alpha = 2·r)")
    lora_layers: int | None = Field(
        None, ge=1, description="adapt only the top N decoder layers (faster backward; None = all)"
    )
    prompt_style: Literal["full", "compact"] = Field(
        "full", description="agent system prompt of FDS scenarios: full or compact (small LMs)"
    )
    max_new_tokens: int = Field(96, ge=1, description="tokens generated per agent turn (hf: only)")
    temperature: float = Field(1.0, gt=0, description="rollout sampling temperature")
    sft: SftConfig = Field(default_factory=SftConfig)

    # algorithm
    algo: str = Field(
        "cmpo",
        description="advantage estimator: cmpo, grpo, release, rloo, reinforce_pp, gae, capo",
    )
    cost_mode: Literal["turn", "dialogue"] = Field(
        "dialogue",
        description="charge λ·cost on every turn of the dialogue (dialogue) or only on the costly "
        "turn (turn, Eq. 5 read literally: the earlier turn that offers the voucher, and so "
        "commits to it, is never charged; see docs/act-cmpo-findings.md)",
    )
    use_outcome: bool = Field(True, description="ablation switch: outcome term of the advantage")
    use_process: bool = Field(True, description="ablation switch: process (judge) term")
    use_cost: bool = Field(True, description="ablation switch: λ·cost term")
    outcome_coef: float = Field(
        1.0, ge=0, description="weight of the group-normalised outcome term (cmpo)"
    )
    process_coef: float = Field(
        1.0, ge=0, description="weight of the batch-normalised process term (cmpo)"
    )
    process_std_floor: float = Field(
        0.25,
        ge=0,
        description="floor of the std normalising turn process rewards: with a {0,0.5,1} judge most turns "
        "score 1, the batch std gets tiny and a single partial score would outweigh the outcome (0 = paper)",
    )
    budgets: dict[str, float] = Field(
        default_factory=lambda: {"voucher": 0.3},
        description="cost type -> budget (mean cost per dialogue)",
    )
    controller: ControllerConfig = Field(default_factory=ControllerConfig)

    # optimisation
    steps: int = Field(150, ge=1, description="training steps (one rollout batch each)")
    batch_prompts: int = Field(64, ge=1, description="scenarios per step")
    group_size: int = Field(4, ge=1, description="rollouts per scenario (GRPO group n)")
    lr: float = Field(5e-4, gt=0, description="peak learning rate")
    warmup_ratio: float = Field(
        0.1, ge=0, lt=1, description="share of the optimiser steps with a linear warm-up of lr"
    )
    min_lr_ratio: float = Field(0.2, ge=0, le=1, description="cosine floor as a fraction of lr")
    grad_clip: float = Field(1.0, gt=0, description="clip of the global gradient norm")
    ppo_epochs: int = Field(2, ge=1, description="passes over each step's rollout batch")
    minibatches: int = Field(2, ge=1, description="minibatches per PPO epoch (split by dialogue)")
    clip: float = Field(0.2, gt=0, description="PPO ratio clip ε")
    kl_coef: float = Field(
        0.02, ge=0, description="low-variance (k3) KL to the frozen reference (the warm start)"
    )
    entropy_coef: float = Field(
        0.03,
        ge=0,
        description="entropy bonus; keeps the act policy stochastic so the voucher rate responds smoothly to λ",
    )
    loss_agg: Literal["token-mean", "seq-mean"] = Field(
        "token-mean",
        description="policy-loss average: token-mean (over all tokens of the batch) or "
        "seq-mean (each dialogue's token mean, then over dialogues)",
    )
    value_coef: float = Field(0.5, ge=0, description="critic loss weight (algo=gae)")
    micro_batch_tokens: int = Field(
        8192,
        ge=1,
        description="most padded tokens (rows × longest row) in one forward; gradients "
        "accumulate over micro-batches, so memory does not grow with the batch (hf: policies)",
    )

    # bookkeeping
    seed: int = Field(0, description="seed of scenario draws, rollouts and initialisation")
    eval_seeds: int = Field(3, ge=1, description="seeds of the final held-out evaluation")
    checkpoint_every: int = Field(
        10, ge=1, description="steps between checkpoints (--resume continues from the latest)"
    )
    log_tensorboard: bool = Field(True, description="also write TensorBoard events to RUN_DIR/tb")
    log_wandb: bool = Field(
        False, description="also log to Weights & Biases (needs `pip install wandb`)"
    )
    wandb_project: str = Field("interactcs", description="W&B project of log_wandb=true")
    out: str | None = Field(
        None, description="run folder (default runs/<scene>__<algo>__<seed>__<time>)"
    )

    @model_validator(mode="before")
    @classmethod
    def _policy_alias(cls, data: Any) -> Any:
        """``smollm2`` / ``x.gguf`` mean ``hf:`` on that model."""
        from interactcs.models import NAMED_MODELS

        if isinstance(data, dict):
            pol = data.get("policy")
            if isinstance(pol, str) and (pol in NAMED_MODELS or pol.endswith(".gguf")):
                data = {**data, "policy": f"hf:{pol}"}
        return data

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if (
            self.algo != "gae"
            and self.group_size < 2
            and self.algo in {"cmpo", "grpo", "release", "rloo"}
        ):
            raise ValueError(
                f"algo={self.algo} normalises within groups: set group_size >= 2 (got {self.group_size})"
            )
        if self.minibatches > self.batch_prompts * self.group_size:
            raise ValueError(
                "minibatches exceeds dialogues per step: lower minibatches or raise batch_prompts"
            )
        if self.lora and not self.policy.startswith("hf:"):
            raise ValueError("lora=true only applies to hf: policies")
        for k, v in self.budgets.items():
            if v < 0:
                raise ValueError(f"budgets.{k} must be >= 0 (got {v})")
        return self

    @model_validator(mode="before")
    @classmethod
    def _pack_defaults(cls, data: Any) -> Any:
        """A scenario pack brings its budgets and its ``train`` defaults (dotted keys) for
        every field the config does not set."""
        from interactcs.packs import PackError, is_pack_source, load_pack

        if not isinstance(data, dict) or not is_pack_source(data.get("scenarios")):
            return data
        try:
            pack = load_pack(data["scenarios"])
        except PackError as exc:
            raise ValueError(f"scenarios: {exc}") from None
        data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
        data.setdefault("budgets", pack.budgets)
        for key, value in pack.spec.train.items():
            node = data
            parts = key.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    break
            else:
                node.setdefault(parts[-1], value)
        return data

    @model_validator(mode="after")
    def _pack_budgets(self) -> TrainConfig:
        """Budgets of a scenario pack must name the pack's cost types."""
        from interactcs.packs import is_pack_source, load_pack

        if not is_pack_source(self.scenarios):
            return self
        pack = load_pack(self.scenarios)
        unknown = sorted(set(self.budgets) - set(pack.cost_types))
        if unknown:
            raise ValueError(
                f"budgets.{unknown[0]}: pack {pack.name!r} has no cost type {unknown[0]!r} "
                f"(cost types: {', '.join(pack.cost_types)})"
            )
        return self

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        overrides: list[str] | None = None,
        *,
        preset: str | None = None,
    ) -> TrainConfig:
        """Read a preset (optional), then YAML (optional, merged over it), then apply
        ``key=value`` / ``a.b=value`` overrides (YAML-parsed)."""
        data: dict[str, Any] = {}
        if preset is not None:
            data = _read_yaml(preset_path(preset))
        if path is not None:
            _merge(data, _read_yaml(Path(path)))
        for item in overrides or []:
            key, sep, raw = item.partition("=")
            if not sep:
                raise ConfigError(f"override {item!r}: write it as key=value, e.g. steps=40")
            node = data
            parts = key.strip().split(".")
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = yaml.safe_load(raw)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            lines = []
            for e in exc.errors():
                loc = ".".join(str(x) for x in e["loc"]) or "config"
                lines.append(f"  {loc}: {e['msg']}")
            raise ConfigError(
                "invalid training config:\n"
                + "\n".join(lines)
                + "\n(see `interactcs train --help-config`)"
            ) from None

    def to_yaml(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.model_dump(), sort_keys=False))

    @classmethod
    def describe(cls) -> str:
        """One line per field: name, default, help."""
        out = []

        def walk(model: type[BaseModel], prefix: str) -> None:
            for name, f in model.model_fields.items():
                ann = f.annotation
                if isinstance(ann, type) and issubclass(ann, BaseModel):
                    walk(ann, f"{prefix}{name}.")
                    continue
                default = f.get_default(call_default_factory=True)
                out.append(f"{prefix}{name} = {default!r}: {f.description or ''}")

        walk(cls, "")
        return "\n".join(out)
