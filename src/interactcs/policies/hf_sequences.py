"""Chat layout and tokenised training sequences with agent-token masks and turn indices.

Shared by the HF policy (prompts at generation, ``HFPolicy.encode`` for training) and the
trainers (:mod:`interactcs.train.sequences` re-exports it); it lives here because policies
come before training in the package's import order.

Usage::

    from interactcs.policies.hf_sequences import build_sequences, turn_values_to_tokens
    batch = build_sequences(tokenizer, trajectories, max_len=4096)
    lp = policy.token_logprobs(batch)                                  # (B, L)
    adv = turn_values_to_tokens(batch.turn_index, per_turn_advantages)  # (B, L)
    loss = -(adv * lp * batch.agent_mask).sum() / batch.agent_mask.sum()

Layout. One trajectory = one sequence: the whole chat (system prompt, the customer's
messages as ``user``, the agent's raw outputs as ``assistant``) rendered by the tokenizer's
chat template. The customer's reply after the last agent turn is left out (no agent token
follows it). ``agent_mask`` is 1 on the tokens of each assistant turn's content plus its
end-of-turn token (e.g. ``<|im_end|>``), 0 on the system prompt, user messages and the
template's role headers. ``turn_index`` gives the 0-based agent turn a token belongs to (-1
elsewhere), so per-turn advantages broadcast to tokens.

Why retokenise. The rollout decodes generated tokens to text, the environment parses the
text, and training re-renders the finished chat. This is the standard multi-turn approach
(the conversation is the record; no per-turn token bookkeeping is needed) at the price that
the retokenised agent tokens may differ from the sampled ones (a non-canonical sampled
tokenisation, a turn cut at ``max_new_tokens`` that now ends with the end-of-turn token).
For on-policy RL the old log-probs are recomputed on these same sequences, so the
importance ratio stays consistent.

How. Agent spans are located in the rendered text by rendering prefixes of the chat: the
text up to the generation prompt of turn k is a prefix of the text including turn k.
Templates that rewrite earlier turns (e.g. Qwen3's, which drops past ``<think>`` blocks)
break this and are rejected with a :class:`ValueError`. The text is then cut at the span
edges and each piece tokenised on its own: an agent turn is tokenised standalone, as
generation produces it after its prompt, and no BPE merge can join a role header's newline
with the turn's first characters (so decoding the masked tokens gives back exactly the agent
text plus the end-of-turn token).

Truncation. ``max_len`` keeps the first ``max_len`` tokens (system prompt and early turns
survive; later tokens are dropped) and sets ``truncated``. A turn cut mid-way keeps its
leading tokens in the mask (no end-of-turn token). Sequences whose agent tokens are all cut
still appear, with an all-zero agent mask (callers may drop them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import torch

from interactcs.types import Message, Trajectory

#: Used when a trajectory carries no ``meta["system_prompt"]`` and none is given.
GENERIC_SYSTEM_PROMPT = (
    "You are an after-sales service agent of a food delivery platform. Every reply must be "
    "<think>private reasoning</think><response>one to three sentences to the customer"
    "</response><action>chat or voucher</action>. A voucher may be issued at most once."
)


#: end-of-turn strings tried after the eos token (ChatML, Llama 3, Phi-3 style templates).
END_OF_TURN_MARKERS = ("<|im_end|>", "<|eot_id|>", "<|end|>")


@dataclass(slots=True)
class TokenizedChat:
    """One chat, tokenised. All lists have the same length (tokens)."""

    input_ids: list[int]
    agent_mask: list[int]
    turn_index: list[int]
    num_turns: int


@dataclass(slots=True)
class SequenceBatch:
    """A padded batch of training sequences.

    Attributes:
        input_ids: (B, L) int64 token ids, pad id at padding.
        attention_mask: (B, L) int64, 1 on real tokens.
        agent_mask: (B, L) int64, 1 on agent-turn tokens (content + end-of-turn token).
        turn_index: (B, L) int64, agent turn of each token, -1 off agent tokens.
        num_turns: (B,) int64, agent turns in each trajectory (before truncation).
        truncated: (B,) bool, the sequence was cut at ``max_len``.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    agent_mask: torch.Tensor
    turn_index: torch.Tensor
    num_turns: torch.Tensor
    truncated: torch.Tensor

    def __len__(self) -> int:
        return int(self.input_ids.size(0))

    def to(self, device: torch.device | str) -> SequenceBatch:
        return SequenceBatch(*(getattr(self, f.name).to(device) for f in fields(self)))

    def select(self, index: torch.Tensor | Sequence[int] | slice) -> SequenceBatch:
        """Rows ``index`` (micro-batching); padding columns are kept."""
        return SequenceBatch(*(getattr(self, f.name)[index] for f in fields(self)))


def chat_messages(system_prompt: str, messages: Sequence[Message]) -> list[dict[str, str]]:
    """Chat-template messages for a dialogue seen by the agent.

    Args:
        system_prompt: the agent system prompt (order signals filled in).
        messages: ``user`` (customer) and ``agent`` (raw agent output) messages in order;
            ``system`` messages inside ``messages`` are dropped (the prompt comes first).

    Returns:
        ``[{"role": "system", ...}, {"role": "user", ...}, {"role": "assistant", ...}, ...]``.
    """
    out = [{"role": "system", "content": system_prompt}]
    for m in messages:
        if m.role == "system":
            continue
        out.append({"role": "assistant" if m.role == "agent" else "user", "content": m.content})
    return out


def trajectory_messages(traj: Trajectory) -> list[Message]:
    """The agent-view messages of a finished dialogue: (user, agent raw) per turn.

    The customer's reply to the last agent turn is omitted (nothing is trained on it).
    """
    out: list[Message] = []
    for turn in traj.turns:
        out.append(Message("user", turn.user_text))
        out.append(Message("agent", turn.raw))
    return out


def trajectory_chat(traj: Trajectory, system_prompt: str | None = None) -> list[dict[str, str]]:
    """Chat-template messages of a trajectory.

    The system prompt is ``system_prompt`` if given, else :func:`recorded_system_prompt`,
    else :data:`GENERIC_SYSTEM_PROMPT`.
    """
    prompt = system_prompt or recorded_system_prompt(traj) or GENERIC_SYSTEM_PROMPT
    return chat_messages(prompt, trajectory_messages(traj))


def recorded_system_prompt(traj: Trajectory) -> str | None:
    """The agent system prompt stored with a trajectory (``traj.meta["system_prompt"]``, set
    by ``ServiceEnv.trajectory``), or None for older records."""
    prompt = traj.meta.get("system_prompt")
    return str(prompt) if prompt else None


def _render(tokenizer: Any, messages: list[dict[str, str]], gen: bool) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen)


def agent_spans(
    tokenizer: Any, messages: list[dict[str, str]], *, end_of_turn: str | None = None
) -> tuple[str, list[tuple[int, int]]]:
    """Render the chat and locate each assistant turn in the text.

    Args:
        tokenizer: a tokenizer with a chat template.
        messages: chat-template messages.
        end_of_turn: the string closing an assistant turn (default: the eos token, else the
            first of :data:`END_OF_TURN_MARKERS` found after the content).

    Returns:
        The rendered text and one ``(start, end)`` character span per assistant message:
        its content as rendered plus the end-of-turn string when the template emits it.

    Raises:
        ValueError: the template does not render earlier turns as a prefix of later ones.
    """
    if end_of_turn is not None:
        candidates = [end_of_turn]
    else:  # the eos token, then common chat end-of-turn markers (base models: eos != eot)
        candidates = [t for t in (tokenizer.eos_token, *END_OF_TURN_MARKERS) if t]
    full = _render(tokenizer, messages, False)
    spans: list[tuple[int, int]] = []
    for k, msg in enumerate(messages):
        if msg["role"] != "assistant":
            continue
        before = _render(tokenizer, messages[:k], True)
        upto = _render(tokenizer, messages[: k + 1], False)
        if not (upto.startswith(before) and full.startswith(upto)):
            raise ValueError(
                "the chat template does not render earlier turns as a prefix of later ones "
                f"(assistant message {k}); multi-turn masks need a prefix-stable template"
            )
        seg = upto[len(before) :]
        content = msg["content"]
        search_from = len(content) if seg.startswith(content) else 0
        end = len(seg)  # no marker found: the whole rendered segment
        for eot in candidates:
            cut = seg.find(eot, search_from)
            if cut >= 0:
                end = cut + len(eot)
                break
        spans.append((len(before), len(before) + end))
    return full, spans


def tokenize_chat(
    tokenizer: Any, messages: list[dict[str, str]], *, end_of_turn: str | None = None
) -> TokenizedChat:
    """Tokenise a rendered chat and label each token with its agent turn.

    The rendered text is cut at the agent spans (:func:`agent_spans`) and each piece is
    tokenised on its own, so no token straddles a turn boundary.
    """
    text, spans = agent_spans(tokenizer, messages, end_of_turn=end_of_turn)
    pieces: list[tuple[str, int]] = []  # (text, turn index or -1)
    cursor = 0
    for k, (start, end) in enumerate(spans):
        pieces += [(text[cursor:start], -1), (text[start:end], k)]
        cursor = end
    pieces.append((text[cursor:], -1))
    pieces = [(p, k) for p, k in pieces if p]
    encoded = tokenizer([p for p, _ in pieces], add_special_tokens=False)["input_ids"]
    ids: list[int] = []
    turn: list[int] = []
    for (_, k), piece_ids in zip(pieces, encoded, strict=True):
        ids += piece_ids
        turn += [k] * len(piece_ids)
    mask = [int(t >= 0) for t in turn]
    return TokenizedChat(ids, mask, turn, len(spans))


def collate(
    chats: Sequence[TokenizedChat],
    *,
    pad_id: int,
    max_len: int | None = None,
    padding_side: Literal["left", "right"] = "right",
) -> SequenceBatch:
    """Pad (and right-truncate to ``max_len``) tokenised chats into a :class:`SequenceBatch`."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
    cut = [max_len is not None and len(c.input_ids) > max_len for c in chats]
    rows = [(c.input_ids[:max_len], c.agent_mask[:max_len], c.turn_index[:max_len]) for c in chats]
    width = max((len(r[0]) for r in rows), default=0)
    b = len(rows)
    ids = torch.full((b, width), pad_id, dtype=torch.long)
    attn = torch.zeros((b, width), dtype=torch.long)
    agent = torch.zeros((b, width), dtype=torch.long)
    turn = torch.full((b, width), -1, dtype=torch.long)
    for i, (r_ids, r_mask, r_turn) in enumerate(rows):
        n = len(r_ids)
        sl = slice(0, n) if padding_side == "right" else slice(width - n, width)
        ids[i, sl] = torch.tensor(r_ids, dtype=torch.long)
        attn[i, sl] = 1
        agent[i, sl] = torch.tensor(r_mask, dtype=torch.long)
        turn[i, sl] = torch.tensor(r_turn, dtype=torch.long)
    return SequenceBatch(
        input_ids=ids,
        attention_mask=attn,
        agent_mask=agent,
        turn_index=turn,
        num_turns=torch.tensor([c.num_turns for c in chats], dtype=torch.long),
        truncated=torch.tensor(cut, dtype=torch.bool),
    )


def build_sequences(
    tokenizer: Any,
    trajectories: Sequence[Trajectory],
    *,
    system_prompts: Sequence[str | None] | None = None,
    max_len: int | None = None,
    padding_side: Literal["left", "right"] = "right",
    end_of_turn: str | None = None,
) -> SequenceBatch:
    """Training sequences for trajectories (see the module docstring for the layout).

    Args:
        tokenizer: fast tokenizer with a prefix-stable chat template.
        trajectories: B finished dialogues.
        system_prompts: optional per-trajectory prompt overriding ``meta["system_prompt"]``.
        max_len: right-truncate each sequence to this many tokens.
        padding_side: ``"right"`` (training default) or ``"left"``.
        end_of_turn: string that closes an assistant turn (default: eos token).

    Returns:
        A :class:`SequenceBatch` of B rows.
    """
    prompts = list(system_prompts) if system_prompts is not None else [None] * len(trajectories)
    if len(prompts) != len(trajectories):
        raise ValueError(f"{len(prompts)} system prompts for {len(trajectories)} trajectories")
    chats = [
        tokenize_chat(tokenizer, trajectory_chat(t, p), end_of_turn=end_of_turn)
        for t, p in zip(trajectories, prompts, strict=True)
    ]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return collate(chats, pad_id=pad, max_len=max_len, padding_side=padding_side)


def turn_values_to_tokens(
    turn_index: torch.Tensor, values: torch.Tensor | Sequence[Sequence[float]]
) -> torch.Tensor:
    """Broadcast per-turn values (e.g. advantages) to the tokens of each turn.

    Args:
        turn_index: (B, L) from :class:`SequenceBatch`, -1 off agent tokens.
        values: (B, T) per-turn values (ragged lists are right-padded with 0).

    Returns:
        (B, L) float tensor: ``values[b, turn_index[b, l]]``, 0 where ``turn_index`` is -1.

    Example: turn_index ``[[-1, 0, 0, -1, 1]]``, values ``[[0.5, -1.0]]``
    -> ``[[0, 0.5, 0.5, 0, -1.0]]``.
    """
    if not isinstance(values, torch.Tensor):
        width = max((len(v) for v in values), default=0)
        values = torch.tensor([list(v) + [0.0] * (width - len(v)) for v in values])
    values = values.to(turn_index.device, dtype=torch.float32)
    if values.size(1) == 0:
        return torch.zeros_like(turn_index, dtype=torch.float32)
    idx = turn_index.clamp(min=0, max=values.size(1) - 1)
    out = values.gather(1, idx)
    return out.masked_fill(turn_index < 0, 0.0)


def has_token_records(traj: Trajectory) -> bool:
    """Whether every agent turn of ``traj`` carries the ids its rollout sampled
    (``policy_meta["prompt_ids"]``/``["token_ids"]``/``["logprobs"]``, written by
    :mod:`interactcs.policies.hf_sessions`)."""
    return bool(traj.turns) and all(
        "token_ids" in t.policy_meta and "prompt_ids" in t.policy_meta for t in traj.turns
    )


def sequences_from_records(
    trajectories: Sequence[Trajectory], *, pad_id: int, max_len: int | None = None
) -> tuple[SequenceBatch, torch.Tensor]:
    """Training sequences made of exactly the token ids the rollout consumed and sampled.

    Row layout: ``prompt_ids₀ token_ids₀ prompt_ids₁ token_ids₁ …``; ``agent_mask`` is 1 on
    the sampled ids; no text is re-tokenised.

    Returns:
        The :class:`SequenceBatch` (right padding) and ``behaviour`` (B, L) float: the
        log-prob each sampled token had when it was sampled (0 elsewhere).
    """
    chats: list[TokenizedChat] = []
    behaviour: list[list[float]] = []
    for traj in trajectories:
        ids: list[int] = []
        mask: list[int] = []
        turn: list[int] = []
        lps: list[float] = []
        for k, t in enumerate(traj.turns):
            prompt, sampled = t.policy_meta["prompt_ids"], t.policy_meta["token_ids"]
            recorded = t.policy_meta.get("logprobs") or [0.0] * len(sampled)
            ids += list(prompt) + list(sampled)
            mask += [0] * len(prompt) + [1] * len(sampled)
            turn += [-1] * len(prompt) + [k] * len(sampled)
            lps += [0.0] * len(prompt) + [float(x) for x in recorded]
        chats.append(TokenizedChat(ids, mask, turn, len(traj.turns)))
        behaviour.append(lps)
    batch = collate(chats, pad_id=pad_id, max_len=max_len)
    old = torch.zeros(batch.input_ids.shape, dtype=torch.float32)
    for i, lps in enumerate(behaviour):
        n = min(len(lps), old.size(1))
        old[i, :n] = torch.tensor(lps[:n])
    return batch, old
