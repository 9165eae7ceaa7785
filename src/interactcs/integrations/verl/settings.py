"""The ``interactcs:`` section of a verl config: simulator, judge, costs, λ controller, CMPO.

Usage::

    # in the verl YAML (see examples/verl/fds_cmpo.yaml)
    interactcs:
      user_sim: llm:Qwen2.5-32B-Instruct
      user_base_url: http://10.0.0.5:8000/v1
      judge: llm:Qwen2.5-32B-Instruct
      judge_base_url: http://10.0.0.5:8001/v1
      budgets: {voucher: 0.3}
      controller: {name: pid, kp: 1.0, ki: 0.5, kd: 1.0}

    settings = VerlSettings.from_config(config)      # config: verl's DictConfig (or a dict)
    settings.advantage_config(), settings.build_controllers(), settings.build_costs()

The section is optional; without it every field has its default (offline simulator and
judge, voucher budget 0.3, PID controller). Unknown keys are errors that name the key.
Controller settings reuse :class:`interactcs.train.config.ControllerConfig`; the CMPO fields
(:data:`interactcs.train.cmpo_settings.ADVANTAGE_FIELDS`: switches, cost mode, term weights,
``process_std_floor``) are the :class:`TrainConfig` fields themselves (same defaults, same
bounds); and every builder goes through a :class:`TrainConfig` to the embedded trainer's own
builders (:mod:`interactcs.train.cmpo_settings`, :mod:`interactcs.train.components`), so a
verl run and an embedded run with the same values build the same advantage settings,
controllers and costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

from interactcs.algo.advantages import AdvantageConfig
from interactcs.algo.controllers import MultiController
from interactcs.rewards.cost import CostSpec
from interactcs.train.cmpo_settings import ADVANTAGE_FIELDS
from interactcs.train.config import ControllerConfig, TrainConfig

SECTION = "interactcs"


def _train_field(name: str) -> Any:
    """A copy of :class:`TrainConfig`'s field ``name`` (default, bounds, description)."""
    return FieldInfo.merge_field_infos(TrainConfig.model_fields[name])


class VerlSettings(BaseModel):
    """Project settings a verl run reads from its config's ``interactcs`` section."""

    model_config = ConfigDict(extra="forbid")

    user_sim: str = Field(
        default="offline", description="offline | llm:MODEL (the simulated customer)"
    )
    user_base_url: str | None = Field(
        default=None, description="OpenAI-compatible URL of the simulator"
    )
    user_temperature: float = Field(
        default=1.0, ge=0, description="simulator temperature (release: 1.2)"
    )
    user_max_tokens: int = Field(default=128, ge=1, description="simulator reply cap in tokens")
    judge: str = Field(default="offline", description="process judge: offline | llm:MODEL | none")
    judge_base_url: str | None = Field(
        default=None, description="OpenAI-compatible URL of the judge"
    )
    judge_mode: Literal["turn", "dialogue"] = Field(
        default="turn", description="turn (paper) or dialogue (release)"
    )
    max_turns: int = Field(default=15, ge=1, description="agent-turn cap per dialogue")
    max_tokens_per_turn: int = Field(
        default=1024, ge=1, description="generation cap of one agent turn"
    )
    seed: int = Field(default=0, description="salt of the per-dialogue simulator seeds")
    # CMPO: exactly the TrainConfig fields (cmpo_settings.ADVANTAGE_FIELDS)
    cost_mode: Literal["turn", "dialogue"] = _train_field("cost_mode")
    use_outcome: bool = _train_field("use_outcome")
    use_process: bool = _train_field("use_process")
    use_cost: bool = _train_field("use_cost")
    outcome_coef: float = _train_field("outcome_coef")
    process_coef: float = _train_field("process_coef")
    process_std_floor: float = _train_field("process_std_floor")
    budgets: dict[str, float] = Field(
        default_factory=lambda: {"voucher": 0.3}, description="cost type -> budget"
    )
    controller: ControllerConfig = Field(
        default_factory=lambda: ControllerConfig.model_validate({})
    )

    @classmethod
    def from_config(cls, config: Any) -> VerlSettings:
        """Read the ``interactcs`` section of a verl ``DictConfig`` (or a plain mapping)."""
        section = config.get(SECTION) if config is not None else None
        if section is None:
            return cls()
        if type(section).__module__.startswith("omegaconf"):  # a DictConfig from verl/Hydra
            from omegaconf import OmegaConf

            section = OmegaConf.to_container(section, resolve=True)
        return cls.model_validate(dict(cast(Mapping[str, Any], section)))

    def train_config(self) -> TrainConfig:
        """The equivalent embedded :class:`TrainConfig` (used to reuse its builders)."""
        keys = ["user_sim", "judge", "judge_mode", "max_turns", "budgets", "controller"]
        keys += ADVANTAGE_FIELDS
        return TrainConfig.model_validate({k: getattr(self, k) for k in keys})

    def advantage_config(self) -> AdvantageConfig:
        """CMPO settings, built by the embedded trainer's builder
        (:func:`interactcs.train.cmpo_settings.advantage_config`)."""
        from interactcs.train.cmpo_settings import advantage_config

        return advantage_config(self.train_config())

    def build_costs(self) -> CostSpec:
        from interactcs.train.components import build_costs

        return build_costs(self.train_config())

    def build_controllers(self) -> MultiController:
        from interactcs.train.components import build_controllers

        return build_controllers(self.train_config())

    def build_simulator(self) -> Any:
        """The user simulator (``offline`` needs no server; ``llm:`` needs ``user_base_url``)."""
        from interactcs.users.factory import make_simulator

        if self.user_sim.startswith("llm:"):
            return make_simulator(
                self.user_sim,
                base_url=self.user_base_url,
                temperature=self.user_temperature,
                max_tokens=self.user_max_tokens,
            )
        return make_simulator(self.user_sim)

    def build_judge(self) -> Any | None:
        """The process judge, or None (``judge: none`` or the process term switched off)."""
        if self.judge == "none" or not self.use_process:
            return None
        from interactcs.rewards.judges import make_judge

        return make_judge(self.judge, mode=self.judge_mode, base_url=self.judge_base_url)
