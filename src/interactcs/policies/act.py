"""``act``: a small torch policy that picks a dialogue *strategy* each turn and renders it
through the response templates into ``<think>/<response>/<action>`` text.

It is the embedded default for fast CPU experiments: the same environment, simulator,
judge, advantages, λ controllers and PPO loss as an LM policy, with one "token" per turn
(the strategy id) instead of a text. Action space: :data:`interactcs.policies.templates.STRATEGIES`.

Features of a dialogue state (all agent-visible), concatenated, shape (F,):

- hashed bag of words (unigrams + bigrams) of the latest user message (``HASH_DIM``) and of
  all user messages so far (``HASH_DIM``, log-scaled counts);
- agent turn index one-hot (``MAX_T`` buckets), voucher already issued, ``rc_tag``,
  evidence (``[Sent Picture: …]``) seen so far / in the latest message;
- previous strategies: counts (clipped at 3, /3) and the last one (one-hot + "none").

The network is an MLP ``F -> hidden -> A``; ``issue_voucher`` is masked out once a voucher
was issued (a second voucher is a format failure). The chosen strategy, its features and
the validity mask travel in ``Turn.policy_meta`` so the trainer can recompute log-probs.

Scenario packs (:mod:`interactcs.packs`): ``ActPolicy(pack="packs/returns")`` acts with the
pack's strategies (:func:`interactcs.policies.templates.strategy_set`); its features add, per
costly action with SOP conditions, whether the action is eligible on this case (e.g. within
the return window), and a strategy is masked once its action reached the pack's limit. The
FDS space (:data:`FDS_SPACE`) is exactly the original one, so FDS checkpoints load unchanged;
a checkpoint records its pack and :meth:`ActPolicy.load` rebuilds the space to match.
"""

from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from interactcs.env.prompt import render_agent_output
from interactcs.policies.base import POLICIES, DialogueState, PolicyBatch
from interactcs.policies.templates import (
    FDS_STRATEGIES,
    STRATEGIES,
    StrategySet,
    render_strategy,
    strategy_set,
)

HASH_DIM = 256
MAX_T = 8
_PICTURE = "[sent picture"
_WORD = re.compile(r"[a-z']+|\[sent picture")
VOUCHER_ID = STRATEGIES.index("issue_voucher")
N_ACTIONS = len(STRATEGIES)
FEATURE_DIM = 2 * HASH_DIM + MAX_T + 4 + 2 * N_ACTIONS + 1


@dataclass(frozen=True)
class ActSpace:
    """Strategies and feature layout of an act policy (FDS or one scenario pack).

    Attributes:
        strategies: the strategy set (names in action-index order, templates).
        eligible: costly actions whose SOP eligibility on the case is a feature.
        limits: strategy id -> (action word, most uses per dialogue) for limited actions.
    """

    strategies: StrategySet
    eligible: tuple[str, ...] = ()
    limits: dict[int, tuple[str, int]] = field(default_factory=dict)

    @property
    def pack(self) -> str | None:
        return self.strategies.pack

    @property
    def names(self) -> list[str]:
        return self.strategies.names

    @property
    def n_actions(self) -> int:
        return len(self.strategies.names)

    @property
    def feature_dim(self) -> int:
        return 2 * HASH_DIM + MAX_T + 4 + 2 * self.n_actions + 1 + len(self.eligible)


#: the original FDS action space (:data:`STRATEGIES`).
FDS_SPACE = ActSpace(FDS_STRATEGIES)


@lru_cache(maxsize=16)
def _pack_space(ref: str) -> ActSpace:
    from interactcs.packs import load_pack

    pack = load_pack(ref)
    st = strategy_set(pack)
    limits = {}
    for i, name in enumerate(st.names):
        action = st.action_of(name)
        if action in pack.limits:
            limits[i] = (action, pack.limits[action])
    eligible = tuple(a for a in pack.costly_actions if pack.action(a).requires)
    return ActSpace(st, eligible, limits)


def act_space(pack: Any = None) -> ActSpace:
    """Action space for a pack (object or reference); :data:`FDS_SPACE` for FDS / ``None``."""
    if pack is None:
        return FDS_SPACE
    if isinstance(pack, str):
        from interactcs.packs import load_pack

        pack = load_pack(pack)
    return FDS_SPACE if pack.is_fds else _pack_space(pack.ref)


def space_of(state: DialogueState) -> ActSpace:
    """The action space of a dialogue's scenario (its pack, or FDS)."""
    return act_space(state.scenario.pack) if state.scenario.pack else FDS_SPACE


def _hash_bow(text: str, out: np.ndarray, offset: int) -> None:
    """Add hashed unigram + bigram counts of ``text`` into ``out[offset:offset+HASH_DIM]``."""
    words = _WORD.findall(text.lower())
    grams = words + [a + " " + b for a, b in zip(words, words[1:], strict=False)]
    for g in grams:
        out[offset + (zlib.crc32(g.encode()) % HASH_DIM)] += 1.0


def featurize(state: DialogueState, space: ActSpace = FDS_SPACE) -> np.ndarray:
    """(F,) float32 features of one dialogue state (see module docstring)."""
    n_actions = space.n_actions
    x = np.zeros(space.feature_dim, dtype=np.float32)
    user_msgs = [m.content for m in state.messages if m.role == "user"]
    if user_msgs:
        _hash_bow(user_msgs[-1], x, 0)
    for msg in user_msgs:
        _hash_bow(msg, x, HASH_DIM)
    x[HASH_DIM : 2 * HASH_DIM] = np.log1p(x[HASH_DIM : 2 * HASH_DIM])
    o = 2 * HASH_DIM
    x[o + min(state.turn_index, MAX_T - 1)] = 1.0
    o += MAX_T
    x[o] = float(state.voucher_issued)
    x[o + 1] = float(state.scenario.order.rc_tag)
    x[o + 2] = float(any(_PICTURE in m.lower() for m in user_msgs))  # evidence seen so far
    x[o + 3] = float(bool(user_msgs) and _PICTURE in user_msgs[-1].lower())  # evidence just now
    o += 4
    last = n_actions  # "none"
    for turn in state.turns:
        sid = turn.policy_meta.get("strategy")
        if sid is not None:
            x[o + int(sid)] = min(3.0, x[o + int(sid)] * 3 + 1) / 3.0
            last = int(sid)
    o += n_actions
    x[o + last] = 1.0
    if space.eligible:
        from interactcs.packs import load_pack

        pack = load_pack(str(space.pack))
        o += n_actions + 1
        for i, action in enumerate(space.eligible):
            x[o + i] = float(pack.eligible(action, state.scenario.case))
    return x


def valid_actions(state: DialogueState, space: ActSpace = FDS_SPACE) -> np.ndarray:
    """(A,) bool: strategies allowed in this state."""
    if space is FDS_SPACE:
        ok = np.ones(N_ACTIONS, dtype=bool)
        if state.voucher_issued:
            ok[VOUCHER_ID] = False
        return ok
    ok = np.ones(space.n_actions, dtype=bool)
    if space.limits:
        taken: dict[str, int] = {}
        for t in state.turns:
            if t.ok and t.action:
                taken[t.action] = taken.get(t.action, 0) + 1
        for sid, (action, limit) in space.limits.items():
            if taken.get(action, 0) >= limit:
                ok[sid] = False
    return ok


class ActNet(nn.Module):
    """MLP over state features -> strategy logits (A,)."""

    def __init__(
        self, hidden: int = 64, feature_dim: int = FEATURE_DIM, n_actions: int = N_ACTIONS
    ) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(feature_dim, hidden), nn.Tanh())
        self.head = nn.Linear(hidden, n_actions)
        nn.init.zeros_(self.head.weight)  # start uniform over strategies
        nn.init.zeros_(self.head.bias)

    def forward(self, feats: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        logits = self.head(self.body(feats))
        return logits.masked_fill(~valid, -1e9)


class ActCritic(nn.Module):
    """Value head V(s) over the same features (for ``algo=gae``, the PPO baseline)."""

    def __init__(self, hidden: int = 64, feature_dim: int = FEATURE_DIM) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(feature_dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def values(self, batch: PolicyBatch) -> torch.Tensor:
        """(B, L) value of each turn's state."""
        return self.net(batch.tensors["features"]).squeeze(-1)


class ActPolicy:
    """Trainable act-level policy (see module docstring).

    Args:
        hidden: MLP width.
        seed: initialisation and sampling seed.
        temperature: sampling temperature.
        pack: scenario pack whose strategies the policy uses (``None``: FDS).
    """

    def __init__(
        self,
        *,
        hidden: int = 64,
        seed: int = 0,
        temperature: float = 1.0,
        pack: str | None = None,
        **_: Any,
    ) -> None:
        self.name = "act"
        self.space = act_space(pack)
        torch.manual_seed(seed)
        self.module = ActNet(hidden, self.space.feature_dim, self.space.n_actions)
        self.temperature = temperature
        self.hidden = hidden
        self._gen = torch.Generator().manual_seed(seed)
        self._render_rng = random.Random(seed)

    def set_sampling_seed(self, seed: int) -> None:
        self._gen.manual_seed(seed)
        self._render_rng.seed(seed)

    def make_critic(self) -> ActCritic:
        return ActCritic(self.hidden, self.space.feature_dim)

    def _check_space(self, states: list[DialogueState]) -> None:
        for s in states:
            if space_of(s) is not self.space:
                want = self.space.pack or "FDS"
                raise ValueError(
                    f"act policy for {want} cannot act on a scenario of {s.scenario.pack or 'FDS'}; "
                    f"build it with pack={s.scenario.pack!r}"
                )

    async def aact(self, states: list[DialogueState]) -> list[str]:
        if not states:
            return []
        self._check_space(states)
        space = self.space
        feats = np.stack([featurize(s, space) for s in states])
        valid = np.stack([valid_actions(s, space) for s in states])
        with torch.no_grad():
            logits = self.module(torch.from_numpy(feats), torch.from_numpy(valid))
            probs = torch.softmax(logits / self.temperature, dim=-1)
            choice = torch.multinomial(probs, 1, generator=self._gen).squeeze(-1).tolist()
        texts = []
        for s, a, f, v in zip(states, choice, feats, valid, strict=True):
            think, response, action = _render(space, a, s, self._render_rng)
            texts.append(render_agent_output(think, response, action))
            s.extra["turn_meta"] = {
                "strategy": int(a),
                "strategy_name": space.names[a],
                "features": _pack(f),
                "valid": v.astype(int).tolist(),
            }
        return texts

    def encode(self, trajectories: list[Any], first_rows: Any) -> PolicyBatch:
        """Rows = dialogues, L = most turns; one unit per agent turn."""
        b = len(trajectories)
        length = max((len(t.turns) for t in trajectories), default=1) or 1
        feats = torch.zeros(b, length, self.space.feature_dim)
        valid = torch.ones(b, length, self.space.n_actions, dtype=torch.bool)
        actions = torch.zeros(b, length, dtype=torch.long)
        mask = torch.zeros(b, length)
        token_turn = torch.full((b, length), -1, dtype=torch.long)
        for i, traj in enumerate(trajectories):
            for t, turn in enumerate(traj.turns):
                meta = turn.policy_meta
                if "strategy" not in meta:
                    continue
                feats[i, t] = torch.from_numpy(_unpack(meta["features"], self.space.feature_dim))
                valid[i, t] = torch.tensor(meta["valid"], dtype=torch.bool)
                actions[i, t] = int(meta["strategy"])
                mask[i, t] = 1.0
                token_turn[i, t] = int(first_rows[i]) + t
        return PolicyBatch(
            {"features": feats, "valid": valid, "actions": actions}, mask, token_turn
        )

    def logprobs(self, batch: PolicyBatch) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.module(batch.tensors["features"], batch.tensors["valid"]) / self.temperature
        logp = torch.log_softmax(logits, dim=-1)
        chosen = logp.gather(-1, batch.tensors["actions"].unsqueeze(-1)).squeeze(-1)
        p = logp.exp()
        ent = -(p * logp.clamp(min=-1e4)).sum(-1)
        return chosen, ent

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        blob = {"state_dict": self.module.state_dict(), "hidden": self.hidden}
        if self.space.pack is not None:
            blob["pack"] = self.space.pack
        torch.save(blob, path / "act_policy.pt")

    def load(self, path: str | Path) -> None:
        """Load weights; a checkpoint of another pack (or FDS) rebuilds the space to match."""
        blob = torch.load(Path(path) / "act_policy.pt", weights_only=False)
        space = act_space(blob.get("pack"))
        if space is not self.space:
            self.space = space
            self.hidden = int(blob.get("hidden", self.hidden))
            self.module = ActNet(self.hidden, space.feature_dim, space.n_actions)
        self.module.load_state_dict(blob["state_dict"])


def _pack(f: np.ndarray) -> dict[str, list[float] | list[int]]:
    """Sparse form of a feature vector (JSON-friendly: most entries are 0)."""
    idx = np.flatnonzero(f)
    return {"i": idx.tolist(), "v": [round(float(v), 6) for v in f[idx]]}


def _unpack(p: dict[str, list[Any]], dim: int = FEATURE_DIM) -> np.ndarray:
    x = np.zeros(dim, dtype=np.float32)
    x[np.asarray(p["i"], dtype=np.int64)] = np.asarray(p["v"], dtype=np.float32)
    return x


@POLICIES.register("act")
def _factory(arg: str | None = None, **kw: Any) -> ActPolicy:
    """``act`` (fresh network) or ``act:PATH`` (load weights saved by ``save``)."""
    kw = {k: v for k, v in kw.items() if k in ("hidden", "seed", "temperature", "pack")}
    policy = ActPolicy(**kw)
    if arg:
        policy.load(arg)
    return policy


def _render(
    space: ActSpace, sid: int, state: DialogueState, rng: random.Random
) -> tuple[str, str, str]:
    """Render strategy ``sid`` of ``space`` for one state (FDS: exactly as before)."""
    if space is FDS_SPACE:
        return render_strategy(STRATEGIES[sid], state.scenario, rng)
    items = state.scenario.order.items
    item = items[0][0] if items else None  # the case's product is agent-visible
    return space.strategies.render(space.names[sid], state.scenario, rng, item=item)


def nearest_strategy(plan: list[str], space: ActSpace = FDS_SPACE) -> int:
    """Strategy id whose act set best matches a plan (Jaccard; ties -> lower id).

    A plan that takes an action maps to a strategy taking the same action.
    """
    if space is FDS_SPACE and "issue_voucher" in plan:
        return VOUCHER_ID
    want = set(plan)
    st = space.strategies
    takes = [a for a in plan if a in st.actions]
    best, best_score = 0, -1.0
    for i, name in enumerate(st.names):
        acts = set(st.strategy_acts[name])
        if takes and takes[0] not in acts:
            continue
        score = len(acts & want) / len(acts | want)
        if score > best_score:
            best, best_score = i, score
    return best


class RuleTeacher:
    """The SOP rule agent's decisions expressed in the act policy's action space.

    Used for the behaviour-cloning warm start of ``act`` (the paper's SFT stage): each turn
    the rule agent plans, the plan is mapped to the nearest strategy, rendered with the act
    policy's templates and recorded in ``turn_meta`` exactly as :class:`ActPolicy` records
    its own choices, so :meth:`ActPolicy.encode` can train on it. Scenarios of a pack are
    planned by the pack rule agent (:mod:`interactcs.policies.pack_rule`) in the pack's space.
    """

    name = "rule-teacher"

    def __init__(self, seed: int = 0) -> None:
        self._render_rng = random.Random(seed)

    def _plan(self, state: DialogueState, space: ActSpace) -> list[str]:
        if space is FDS_SPACE:
            from interactcs.policies.rule import plan_turn

            return plan_turn(state)
        from interactcs.policies.pack_rule import plan_pack_turn

        return plan_pack_turn(state)

    async def aact(self, states: list[DialogueState]) -> list[str]:
        texts = []
        for s in states:
            space = space_of(s)
            a = nearest_strategy(self._plan(s, space), space)
            valid = valid_actions(s, space)
            think, response, action = _render(space, a, s, self._render_rng)
            texts.append(render_agent_output(think, response, action))
            s.extra["turn_meta"] = {
                "strategy": int(a),
                "strategy_name": space.names[a],
                "features": _pack(featurize(s, space)),
                "valid": valid.astype(int).tolist(),
            }
        return texts
