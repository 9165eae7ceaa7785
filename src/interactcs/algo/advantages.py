"""Advantage estimators: one registry, one signature, per-turn output.

Usage::

    from interactcs.algo import advantages as adv
    from interactcs.rewards.batch import TurnBatch

    batch = TurnBatch(dialogue=[0, 0, 1, 2, 3], group=[0, 0, 1, 1],
                      outcome=[1.0, 0.0, 0.5, 0.25], process=[1.0, 0.5, np.nan, 0.0, 1.0],
                      costs=[[0], [1], [0], [1], [0]], lambdas=[0.4])
    out = adv.compute("cmpo", batch)             # AdvantageOutput(advantages (M,), returns (M,))
    adv.available()                              # ['capo', 'cmpo', 'gae', 'grpo', ...]
    tok = adv.turn_to_token(out.advantages, token_turn_index)    # (B, L), 0 off agent tokens

Every estimator is ``fn(batch: TurnBatch, cfg: AdvantageConfig) -> AdvantageOutput`` with
``advantages`` and ``returns`` of shape (M,), one value per agent turn row of the batch
(``returns`` equals ``advantages`` for critic-free estimators). Estimators (spec §4-5):

- ``cmpo`` (paper Eq. 5): A[i,t] = Norm_group(R_out[i]) + Norm_batch(r_proc[i,t]) − Σ_k λ_k·c_k[i,t],
  with c per turn or (``cost_mode="dialogue"``) the dialogue's total cost on every turn. The
  ablation switches ``use_outcome`` / ``use_process`` / ``use_cost`` drop one term each.
- ``grpo``: Norm_group(R_out[i]) on every turn (outcome only).
- ``release``: the public release: u = S − Σ_k λ_k·1[C_k > 0], R = 2·G + u if u > 0 else u,
  then GRPO on R (S raw satisfaction, 0 if the user never ended; G the dialogue judge score).
- ``rloo``: R_out[i] minus the mean outcome of the other dialogues of its group.
- ``reinforce_pp``: REINFORCE++: discounted outcome return per turn, whitened over the batch.
- ``gae``: turn-level GAE(γ, λ_gae) with critic ``values``; outcome reward on the last turn.
- ``capo``: turn-level judge credit in the spirit of CAPO: Norm_group(R_out[i]) minus a fixed
  penalty on the turns the judge flags (process score below a threshold).

Normalisation: Norm_group(x) = (x − mean_g)/(std_g + eps) over the dialogues of a group
(sample std, ``std_ddof=1``, as verl's GRPO); a group of one dialogue gets 0. Norm_batch uses
the mean and std of all finite turn process rewards of the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import torch

from interactcs.registry import Registry
from interactcs.rewards.batch import FloatArray, IntArray, TurnBatch

__all__ = [
    "ABLATIONS",
    "ESTIMATORS",
    "AdvantageConfig",
    "AdvantageOutput",
    "available",
    "batch_normalize",
    "compute",
    "get",
    "group_normalize",
    "token_turn_index",
    "turn_to_token",
]


@dataclass(frozen=True)
class AdvantageConfig:
    """Settings shared by all estimators (each reads the fields it needs).

    Attributes:
        eps: added to the std in every normalisation.
        std_ddof: delta degrees of freedom of the std (1 = sample std as in verl's GRPO).
        scale_by_std: divide by the std in group normalisation (False = mean-centring only,
            as in Dr. GRPO).
        use_outcome: cmpo: include the group-normalised outcome term.
        use_process: cmpo: include the batch-normalised process term.
        use_cost: cmpo: include the −λ·c term.
        outcome_coef: cmpo: weight of the outcome term.
        process_coef: cmpo: weight of the process term.
        process_std_floor: cmpo: lower bound of the std that normalises the process term
            (0 = the paper's plain batch normalisation).
        cost_mode: cmpo: ``"turn"`` charges each turn its own cost; ``"dialogue"`` charges
            every turn the dialogue's total cost.
        gamma: discount per agent turn (gae, reinforce_pp).
        gae_lambda: GAE λ (gae).
        whiten: whiten advantages over the batch (gae, reinforce_pp).
        release_judge_coef: release: weight of G in R = coef·G + u (2 in the release).
        release_fail_score: release: S for a dialogue the user never ended (0 in the release).
        capo_penalty: capo: advantage subtracted on a flagged turn.
        capo_threshold: capo: a turn is flagged when its process score is below this.
    """

    eps: float = 1e-6
    std_ddof: int = 1
    scale_by_std: bool = True
    use_outcome: bool = True
    use_process: bool = True
    use_cost: bool = True
    outcome_coef: float = 1.0
    process_coef: float = 1.0
    process_std_floor: float = 0.0
    cost_mode: Literal["turn", "dialogue"] = "turn"
    gamma: float = 1.0
    gae_lambda: float = 1.0
    whiten: bool = True
    release_judge_coef: float = 2.0
    release_fail_score: float = 0.0
    capo_penalty: float = 0.5
    capo_threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.cost_mode not in ("turn", "dialogue"):
            raise ValueError(f"cost_mode must be 'turn' or 'dialogue', got {self.cost_mode!r}")
        if self.eps < 0 or self.std_ddof not in (0, 1):
            raise ValueError("eps must be ≥ 0 and std_ddof 0 or 1")
        if not (0.0 <= self.gamma <= 1.0 and 0.0 <= self.gae_lambda <= 1.0):
            raise ValueError("gamma and gae_lambda must lie in [0, 1]")

    @classmethod
    def for_ablation(cls, name: str, **overrides: Any) -> AdvantageConfig:
        """Config of a named ablation (see :data:`ABLATIONS`), e.g. ``"no_cost"``."""
        if name not in ABLATIONS:
            raise KeyError(f"unknown ablation {name!r}; available: {', '.join(sorted(ABLATIONS))}")
        return cls(**{**ABLATIONS[name], **overrides})


#: cmpo ablations of the paper (Fig. 2 / 7B). ``no_cost`` equals running with λ = 0.
ABLATIONS: dict[str, dict[str, Any]] = {
    "full": {},
    "no_outcome": {"use_outcome": False},
    "no_process": {"use_process": False},
    "no_cost": {"use_cost": False},
    "judge_only": {"use_outcome": False, "use_cost": False},
}


class AdvantageOutput(NamedTuple):
    """Per-turn advantages and returns, both (M,) float64."""

    advantages: FloatArray
    returns: FloatArray


Estimator = Callable[[TurnBatch, AdvantageConfig], AdvantageOutput]
ESTIMATORS: Registry[Estimator] = Registry("advantage estimator")


def available() -> list[str]:
    """Names of the registered estimators."""
    return ESTIMATORS.available()


def get(name: str) -> Estimator:
    """The estimator registered as ``name`` (KeyError listing valid names)."""
    return ESTIMATORS.get(name)


def compute(name: str, batch: TurnBatch, cfg: AdvantageConfig | None = None) -> AdvantageOutput:
    """Run estimator ``name`` on ``batch`` (default config when ``cfg`` is None)."""
    return ESTIMATORS.get(name)(batch, cfg or AdvantageConfig())


# ----------------------------------------------------------------------------- normalisation


def group_normalize(
    x: FloatArray, group: IntArray, *, eps: float = 1e-6, ddof: int = 1, scale: bool = True
) -> FloatArray:
    """Group-relative normalisation (GRPO).

    Args:
        x: (N,) one scalar per dialogue.
        group: (N,) group id per dialogue.
        eps: added to the std.
        ddof: 1 for the sample std, 0 for the population std.
        scale: divide by std + eps (False: subtract the group mean only).

    Returns:
        (N,) (x − mean_g)/(std_g + eps); 0 for a dialogue alone in its group.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return x.copy()
    _, inv, counts = np.unique(group, return_inverse=True, return_counts=True)
    mean = np.bincount(inv, weights=x) / counts
    centred = x - mean[inv]
    n = counts[inv]
    if not scale:
        return np.where(n > 1, centred, 0.0)
    ss = np.bincount(inv, weights=centred**2)[inv]
    denom = np.sqrt(ss / np.maximum(n - ddof, 1)) + eps
    safe = np.where(denom > 0, denom, 1.0)  # a constant group is 0, also with eps = 0
    return np.where(n > 1, centred / safe, 0.0)


def batch_normalize(
    x: FloatArray, *, eps: float = 1e-6, ddof: int = 1, std_floor: float = 0.0
) -> FloatArray:
    """Normalise over all finite entries of ``x`` (M,); NaN entries become 0.

    With fewer than two finite entries the finite entries are only centred (std undefined).
    ``std_floor`` bounds the divisor from below: when nearly every turn gets the top score,
    the batch std is tiny and one partial score would otherwise outweigh the whole outcome
    term (see ``AdvantageConfig.process_std_floor``).
    """
    x = np.asarray(x, dtype=np.float64)
    ok = np.isfinite(x)
    out = np.zeros_like(x)
    if not ok.any():
        return out
    vals = x[ok]
    centred = vals - vals.mean()
    denom = max(vals.std(ddof=ddof), std_floor) + eps if vals.size > 1 else 1.0
    out[ok] = centred / (denom if denom > 0 else 1.0)
    return out


def _lambda_cost(batch: TurnBatch, mode: str) -> FloatArray:
    """(M,) Σ_k λ_k·c_k per turn, with turn or dialogue costs."""
    costs = batch.costs if mode == "turn" else batch.dialogue_costs()[batch.dialogue]
    return np.asarray(costs @ batch.lambdas, dtype=np.float64)


def _out(adv: FloatArray, returns: FloatArray | None = None) -> AdvantageOutput:
    adv = np.asarray(adv, dtype=np.float64)
    return AdvantageOutput(adv, adv.copy() if returns is None else returns)


def _grpo_outcome(batch: TurnBatch, cfg: AdvantageConfig, scores: FloatArray) -> FloatArray:
    """(M,) group-normalised per-dialogue ``scores`` broadcast to the dialogue's turns."""
    g = group_normalize(scores, batch.group, eps=cfg.eps, ddof=cfg.std_ddof, scale=cfg.scale_by_std)
    return g[batch.dialogue]


# ----------------------------------------------------------------------------- estimators


@ESTIMATORS.register("cmpo")
def cmpo(batch: TurnBatch, cfg: AdvantageConfig) -> AdvantageOutput:
    """Paper Eq. 5: A = Norm_g(R_out) + Norm_b(r_proc) − λ·c (each term switchable)."""
    adv = np.zeros(batch.num_turns)
    if cfg.use_outcome:
        adv += cfg.outcome_coef * _grpo_outcome(batch, cfg, batch.outcome)
    if cfg.use_process:
        adv += cfg.process_coef * batch_normalize(
            batch.process, eps=cfg.eps, ddof=cfg.std_ddof, std_floor=cfg.process_std_floor
        )
    if cfg.use_cost:
        adv -= _lambda_cost(batch, cfg.cost_mode)
    return _out(adv)


@ESTIMATORS.register("grpo")
def grpo(batch: TurnBatch, cfg: AdvantageConfig) -> AdvantageOutput:
    """Outcome only: Norm_g(R_out[i]) on every turn of dialogue i."""
    return _out(_grpo_outcome(batch, cfg, batch.outcome))


def release_rewards(batch: TurnBatch, cfg: AdvantageConfig) -> FloatArray:
    """(N,) the release's dialogue reward R = c·G + u if u > 0 else u, u = S − Σ λ_k·1[C_k > 0].

    S = ``satisfaction`` (``release_fail_score`` where NaN or absent: the user never ended);
    G = ``dialogue_process`` where finite, else the mean of the dialogue's finite turn process
    scores, else 0 (the release scores a failed judge call 0).
    """
    n = batch.num_dialogues
    sat = batch.satisfaction if batch.satisfaction is not None else np.full(n, np.nan)
    s = np.where(np.isfinite(sat), sat, cfg.release_fail_score)
    used = (batch.dialogue_costs() > 0).astype(np.float64)
    u = s - used @ batch.lambdas
    g = _dialogue_judge(batch)
    return np.where(u > 0, cfg.release_judge_coef * g + u, u)


def _dialogue_judge(batch: TurnBatch) -> FloatArray:
    n = batch.num_dialogues
    ok = np.isfinite(batch.process)
    tot = np.bincount(batch.dialogue[ok], weights=batch.process[ok], minlength=n)
    cnt = np.bincount(batch.dialogue[ok], minlength=n)
    g = np.where(cnt > 0, tot / np.maximum(cnt, 1), 0.0)
    if batch.dialogue_process is not None:
        dp = batch.dialogue_process
        g = np.where(np.isfinite(dp), dp, g)
    return np.asarray(g, dtype=np.float64)


@ESTIMATORS.register("release")
def release(batch: TurnBatch, cfg: AdvantageConfig) -> AdvantageOutput:
    """The public release: GRPO over R = 2·G + u (u > 0) else u; see :func:`release_rewards`."""
    return _out(_grpo_outcome(batch, cfg, release_rewards(batch, cfg)))


@ESTIMATORS.register("rloo")
def rloo(batch: TurnBatch, cfg: AdvantageConfig) -> AdvantageOutput:
    """Leave-one-out baseline: A_i = R_i − mean_{j≠i in group} R_j (0 for a lone dialogue)."""
    r = batch.outcome
    _, inv, counts = np.unique(batch.group, return_inverse=True, return_counts=True)
    total = np.bincount(inv, weights=r)[inv]
    n = counts[inv]
    a = np.where(n > 1, r - (total - r) / np.maximum(n - 1, 1), 0.0)
    return _out(a[batch.dialogue])


def _discounted_returns(batch: TurnBatch, rewards: FloatArray, gamma: float) -> FloatArray:
    """(M,) Σ_{t' ≥ t} γ^{t'−t} r_{t'} within each dialogue (rows contiguous, in order)."""
    ret = np.zeros(batch.num_turns)
    last = batch.is_last_turn()
    running = 0.0
    for m in range(batch.num_turns - 1, -1, -1):
        running = rewards[m] + (0.0 if last[m] else gamma * running)
        ret[m] = running
    return ret


def _outcome_on_last_turn(batch: TurnBatch) -> FloatArray:
    r = np.zeros(batch.num_turns)
    last = batch.is_last_turn()
    r[last] = batch.outcome[batch.dialogue[last]]
    return r


@ESTIMATORS.register("reinforce_pp")
def reinforce_pp(batch: TurnBatch, cfg: AdvantageConfig) -> AdvantageOutput:
    """REINFORCE++: G_t = γ^{T−1−t}·R_out per turn, whitened over all M turns (if ``whiten``)."""
    ret = _discounted_returns(batch, _outcome_on_last_turn(batch), cfg.gamma)
    adv = batch_normalize(ret, eps=cfg.eps, ddof=cfg.std_ddof) if cfg.whiten else ret.copy()
    return _out(adv, ret)


@ESTIMATORS.register("gae")
def gae(batch: TurnBatch, cfg: AdvantageConfig) -> AdvantageOutput:
    """Turn-level GAE with a critic (PPO baseline).

    Reward: the outcome on each dialogue's last turn. V after the last turn is 0.
    δ_t = r_t + γ·V_{t+1} − V_t;  A_t = δ_t + γ·λ_gae·A_{t+1};  returns = A + V (before
    whitening). Requires ``batch.values`` (M,).
    """
    if batch.values is None:
        raise ValueError("gae needs critic values: set TurnBatch.values (M,)")
    v = batch.values
    r = _outcome_on_last_turn(batch)
    last = batch.is_last_turn()
    adv = np.zeros(batch.num_turns)
    running = 0.0
    for m in range(batch.num_turns - 1, -1, -1):
        v_next = 0.0 if last[m] else v[m + 1]
        delta = r[m] + cfg.gamma * v_next - v[m]
        running = delta + (0.0 if last[m] else cfg.gamma * cfg.gae_lambda * running)
        adv[m] = running
    returns = adv + v
    if cfg.whiten:
        adv = batch_normalize(adv, eps=cfg.eps, ddof=cfg.std_ddof)
    return _out(adv, returns)


@ESTIMATORS.register("capo")
def capo(batch: TurnBatch, cfg: AdvantageConfig) -> AdvantageOutput:
    """Turn-level judge credit (CAPO-style): Norm_g(R_out) − penalty·1[process < threshold].

    Unjudged (NaN) turns are not penalised. The outcome keeps the sign of the dialogue's
    result; the judge only takes credit away from the turns it flags.
    """
    flagged = np.isfinite(batch.process) & (np.nan_to_num(batch.process) < cfg.capo_threshold)
    adv = _grpo_outcome(batch, cfg, batch.outcome) - cfg.capo_penalty * flagged
    return _out(adv)


# ----------------------------------------------------------------------------- token level

ArrayLike = npt.NDArray[Any] | torch.Tensor


def token_turn_index(agent_mask: ArrayLike, first_row: ArrayLike) -> ArrayLike:
    """Map agent tokens to turn rows from the runs of 1s in an agent-token mask.

    Each maximal run of consecutive agent tokens in a sequence is one agent turn; the k-th run
    of sequence b is turn row ``first_row[b] + k`` (e.g. ``TurnBatch.row_offsets()`` when
    sequence b is dialogue b).

    Args:
        agent_mask: (B, L) 1/True on policy tokens, 0 on prompt/user/padding tokens.
        first_row: (B,) row of each sequence's first agent turn.

    Returns:
        (B, L) int64 turn row per token, −1 off agent tokens (numpy or torch like the mask).
    """
    if isinstance(agent_mask, torch.Tensor):
        m = agent_mask.bool()
        prev = torch.zeros_like(m)
        prev[:, 1:] = m[:, :-1]
        run = torch.cumsum((m & ~prev).long(), dim=1) - 1
        rows = torch.as_tensor(first_row, device=m.device).long()[:, None] + run
        return torch.where(m, rows, torch.full_like(rows, -1))
    mn = np.asarray(agent_mask).astype(bool)
    prev_n = np.zeros_like(mn)
    prev_n[:, 1:] = mn[:, :-1]
    run_n = np.cumsum(mn & ~prev_n, axis=1) - 1
    rows_n = np.asarray(first_row, dtype=np.int64)[:, None] + run_n
    return np.where(mn, rows_n, -1).astype(np.int64)


def turn_to_token(advantages: ArrayLike, token_turn: ArrayLike) -> ArrayLike:
    """Broadcast per-turn values to tokens: every token of an agent turn gets its turn's value.

    Args:
        advantages: (M,) per-turn advantages (numpy or torch).
        token_turn: (B, L) int turn row of each token, −1 for tokens outside agent turns
            (see :func:`token_turn_index`).

    Returns:
        (B, L) advantages, 0 where ``token_turn`` is −1. A torch tensor (float32, on
        ``token_turn``'s device) when ``token_turn`` is a tensor, else float64 numpy.
    """
    if isinstance(token_turn, torch.Tensor):
        a = torch.as_tensor(advantages, dtype=torch.float32, device=token_turn.device)
        idx = token_turn.long()
        if a.numel() == 0:
            return torch.zeros(idx.shape, device=a.device)
        on = idx >= 0
        return torch.where(on, a[idx.clamp(min=0)], torch.zeros((), device=a.device))
    a_n = np.asarray(advantages, dtype=np.float64)
    idx_n = np.asarray(token_turn, dtype=np.int64)
    if a_n.size == 0:
        return np.zeros(idx_n.shape)
    return np.where(idx_n >= 0, a_n[np.maximum(idx_n, 0)], 0.0)
