"""Policy interface: an agent acts on a batch of live dialogues at once.

The rollout gathers every live dialogue's :class:`DialogueState` each round and calls
``aact`` once, so HF policies can run one batched ``generate`` per turn. A policy whose
states are answered independently (an API endpoint, the rule agents) sets the optional
class attribute ``batched = False``: the rollout then calls ``aact`` with one state per
dialogue and advances each dialogue as soon as its own call returns
(:mod:`interactcs.rollout.runner`). The attribute is not part of the :class:`Policy`
protocol, so policies without it keep the batched rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from interactcs.registry import Registry
from interactcs.scenarios.schema import Scenario
from interactcs.types import Message, Turn


@dataclass(slots=True)
class DialogueState:
    """What the agent can see of one live dialogue.

    Attributes:
        scenario: the full scenario. Policies must only read the agent-visible parts
            (order signals incl. ``rc_tag``; **not** ``order.complaint``, persona or demand),
            which :func:`interactcs.env.prompt.agent_system_prompt` renders.
        system_prompt: the agent system prompt with the order signals filled in.
        messages: ``user`` messages (customer text) and ``agent`` messages (the agent's
            *raw* output incl. think/action tags), alternating, starting with the user.
        turns: the agent turns so far (parsed, with costs).
        voucher_issued: whether a voucher has been issued in this dialogue.
        turn_index: index of the agent turn to produce now (0-based).
        max_turns: the turn cap.
        dialogue_id: unique id within a rollout (for seeding / caching).
    """

    scenario: Scenario
    system_prompt: str
    messages: list[Message]
    turns: list[Turn]
    voucher_issued: bool
    turn_index: int
    max_turns: int
    dialogue_id: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Policy(Protocol):
    """Produces one raw agent output per dialogue state."""

    name: str

    async def aact(self, states: list[DialogueState]) -> list[str]:
        """Return one raw agent text (``<think>..</think><response>..</response><action>..</action>``)
        per state, in order. Must not raise on a backend failure of one dialogue: return
        the text ``""`` and record the failure in ``state.extra["policy_failure"]``."""
        ...


#: name -> factory(spec_arg: str | None, **kwargs) -> Policy.
POLICIES: Registry = Registry("policy")


@dataclass
class PolicyBatch:
    """What a trainable policy needs to recompute the log-probs of the actions it took.

    A row is one dialogue; a "token" is a unit the policy chose: a text token for an LM
    policy, a whole turn's strategy for the act-level policy.

    Attributes:
        tensors: policy-specific tensors, all with the row dimension first (B, ...).
        mask: (B, L) float, 1 on units whose log-prob enters the loss (agent tokens only;
            user, system and padding tokens are 0).
        token_turn: (B, L) long, the flat turn row (``TurnBatch`` row) of each unit, -1
            where ``mask`` is 0. Used to broadcast per-turn advantages to units.
    """

    tensors: dict[str, Any]
    mask: Any
    token_turn: Any

    @property
    def rows(self) -> int:
        return int(self.mask.shape[0])

    def select(self, idx: Any) -> PolicyBatch:
        """Rows ``idx`` (a 1-D index tensor) of every tensor."""
        return PolicyBatch(
            tensors={k: v[idx] for k, v in self.tensors.items()},
            mask=self.mask[idx],
            token_turn=self.token_turn[idx],
        )

    def num_units(self) -> int:
        return int(self.mask.sum().item())


@runtime_checkable
class TrainablePolicy(Policy, Protocol):
    """A policy the trainer can update (``act`` and ``hf:``)."""

    module: Any  # torch.nn.Module holding the trainable parameters

    def encode(self, trajectories: list[Any], first_rows: Any) -> PolicyBatch:
        """Batch the actions taken in ``trajectories``; dialogue i's first turn is flat row
        ``first_rows[i]``."""
        ...

    def logprobs(self, batch: PolicyBatch) -> tuple[Any, Any]:
        """(B, L) log-prob of each chosen unit and (B, L) entropy, differentiable."""
        ...

    def set_sampling_seed(self, seed: int) -> None:
        """Re-seed rollout sampling (called every step, so resumed runs sample identically)."""
        ...

    def save(self, path: Any) -> None: ...

    def load(self, path: Any) -> None: ...
