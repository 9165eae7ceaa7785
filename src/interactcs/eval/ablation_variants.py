"""The CMPO ablation variants (FDS-SPEC §5): name -> training-config overrides.

Data only; :mod:`interactcs.eval.ablation` runs them (and re-exports these names).
"""

from __future__ import annotations

from dataclasses import dataclass

#: λ of the ``fixed_lambda`` variant. The CMPO advantage adds two unit-scale normalised terms
#: (outcome: group z-score; process: batch z-score), so λ = 1 charges a voucher one standard
#: deviation of the outcome. It is where the PID λ of a default run settles (about 0.9-1.6
#: over the second half of 60 steps, measured), held constant from step 1 instead of reached.
FIXED_LAMBDA = 1.0


@dataclass(frozen=True, slots=True)
class Variant:
    """One ablation variant.

    Attributes:
        overrides: ``key=value`` overrides of :class:`TrainConfig` (``TrainConfig.load`` syntax).
        label: what changes, in words (the table's second column).
        paper: the paper's Scene-1 numbers for it (FDS-SPEC §5), ``""`` when not reported.
        lambda_applied: whether λ enters the advantage (else λ is tracked but unused).
    """

    overrides: tuple[str, ...]
    label: str
    paper: str = ""
    lambda_applied: bool = True


#: variant name -> how it changes the default CMPO run.
VARIANTS: dict[str, Variant] = {
    "cmpo": Variant((), "CMPO, full (PID-Lagrangian λ)", "Sat 2.74, V 30.8 %"),
    "cmpo_turn": Variant(
        ("cost_mode=turn",), "CMPO, cost on the voucher turn only (Eq. 5 literal)"
    ),
    "no_cost": Variant(("controller.name=none",), "w/o cost: λ = 0", "Sat 2.60, V 38.8 %"),
    "no_pid": Variant(
        ("controller.name=gradient",), "w/o PID: plain error-driven λ", "V 34.5 %, oscillates"
    ),
    "fixed_lambda": Variant(
        ("controller.name=fixed", f"controller.fixed_value={FIXED_LAMBDA:g}"),
        f"w/o dynamic λ: fixed λ = {FIXED_LAMBDA:g}",
        "Sat 2.52, V 24.6 %",
    ),
    "no_process": Variant(("use_process=false",), "w/o GenRM: no process reward", "Logic 9.56"),
    "no_outcome_cost": Variant(
        ("use_outcome=false", "use_cost=false"),
        "w/o outcome + cost: judge only",
        "Sat 2.42, V 41.2 %",
        lambda_applied=False,
    ),
    "grpo": Variant(("algo=grpo",), "GRPO: outcome only", "Sat 2.67", lambda_applied=False),
    "ppo": Variant(("algo=gae",), "PPO: turn-level GAE, critic", "Sat 2.29", lambda_applied=False),
    "release": Variant(
        ("algo=release", "controller.name=release", "judge_mode=dialogue"),
        "public release: R = 2·G + u, integral λ, dialogue judge",
    ),
}


def variant_overrides(name: str) -> list[str]:
    """The :class:`TrainConfig` overrides of variant ``name``.

    Raises:
        KeyError: unknown variant (the message lists the valid names).
    """
    if name not in VARIANTS:
        raise KeyError(f"unknown ablation variant {name!r}; choose from {', '.join(VARIANTS)}")
    return list(VARIANTS[name].overrides)
