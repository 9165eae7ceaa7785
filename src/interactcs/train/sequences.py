"""Tokenised training sequences from trajectories (agent-token masks, turn indices).

The implementation lives in :mod:`interactcs.policies.hf_sequences` (the HF policy's
``encode`` needs it, and policies come before training in the import order); this module is
the training-side name for it. See that module's docstring for the layout, why chats are
retokenised, and the truncation rules.

Usage::

    from interactcs.train.sequences import build_sequences, turn_values_to_tokens
    batch = build_sequences(tokenizer, trajectories, max_len=4096)
    lp = policy.token_logprobs(batch)                                  # (B, L)
    adv = turn_values_to_tokens(batch.turn_index, per_turn_advantages)  # (B, L)
"""

from __future__ import annotations

from interactcs.policies.hf_sequences import (
    END_OF_TURN_MARKERS,
    GENERIC_SYSTEM_PROMPT,
    SequenceBatch,
    TokenizedChat,
    agent_spans,
    build_sequences,
    chat_messages,
    collate,
    recorded_system_prompt,
    tokenize_chat,
    trajectory_chat,
    trajectory_messages,
    turn_values_to_tokens,
)

__all__ = [
    "END_OF_TURN_MARKERS",
    "GENERIC_SYSTEM_PROMPT",
    "SequenceBatch",
    "TokenizedChat",
    "agent_spans",
    "build_sequences",
    "chat_messages",
    "collate",
    "recorded_system_prompt",
    "tokenize_chat",
    "trajectory_chat",
    "trajectory_messages",
    "turn_values_to_tokens",
]
