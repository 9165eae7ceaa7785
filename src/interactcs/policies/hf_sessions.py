"""Multi-turn rollouts that keep each dialogue's tokens and KV cache between turns.

Usage (what :meth:`interactcs.policies.hf.HFPolicy.aact` does)::

    book = SessionBook(tokenizer, render)
    rows = [book.prepare(state, system_prompt) for state in states]   # pending ids per row
    out = decode_sessions(model, spec, rows, seeds, max_new=96)        # one batched decode
    book.commit(rows, out)                                              # extend each session

Why. A dialogue's turn t prompt is its turn t-1 prompt + the agent's sampled tokens + the
customer's reply. Re-encoding the whole history every turn costs O(turns²) prompt tokens
(≈ 200 k per step of 32 dialogues with a 680-token system prompt); here each live dialogue
keeps the key/value cache of every token it has processed, and a turn only prefills what is
new: the tokens of the previous turn the model has not consumed yet (the last sampled token),
the chat template's end-of-turn text, the user's message and the next generation prompt.

Exact tokens. A session's ``ids`` are the tokens the model actually consumed and sampled;
text is only used to find the *new* part (rendering the chat with the tokenizer's template
before and after the new message and taking the difference). Each turn records
``prompt_ids`` (the tokens between the previous sampled turn and this one, system prompt
included on turn 0), ``token_ids`` (the sampled tokens, the end-of-turn token included when
sampled) and their behaviour ``logprobs``, so training scores exactly the sampled ids
(:func:`interactcs.policies.hf_sequences.sequences_from_records`). A template that rewrites
earlier turns (the rendered history is not a prefix of the next rendering) makes that row
re-encode its whole chat once (counted in ``SessionBook.rebuilds``).

Turn 0 shares work: rows whose system prompt is the same (a GRPO group) prefill it once and
share its cache.

Cache layout of a batch: per layer keys/values (B, H, C + P + T, D) = left-padded cached
tokens (C), left-padded new prompt tokens (P), then the decoded tokens (T); the attention
mask is 0 on padding, and position ids count real tokens only, so a row computes what it
would compute alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from interactcs.policies.hf_decode import DecodeSpec, cache_of, decode_loop, layer_tensors

Render = Callable[[list[dict[str, str]], bool], str]
KV = list[tuple[torch.Tensor, torch.Tensor]]  # per layer (H, n, D)


@dataclass(slots=True)
class Session:
    """One live dialogue on the policy side.

    Attributes:
        ids: every token of the dialogue so far (prompts and sampled turns).
        cached: how many leading ``ids`` have keys/values in ``kv``.
        kv: per layer (keys, values), each (H, cached, D), or None.
        turn: index of the last agent turn generated.
        chat: messages rendered so far (system, user, assistant, ...).
        text: the text returned for the last sampled turn (a chat whose next assistant
            message differs, e.g. edited by a wrapper, is re-encoded instead of extended).
    """

    ids: list[int]
    cached: int = 0
    kv: KV | None = None
    turn: int = -1
    chat: list[dict[str, str]] = field(default_factory=list)
    text: str | None = None


@dataclass(slots=True)
class Row:
    """One row of a batched decode: its session and the ids to prefill before sampling."""

    key: int
    session: Session
    pending: list[int]
    prompt_ids: list[int]
    chat: list[dict[str, str]]


@dataclass(slots=True)
class Decoded:
    """Output of :func:`decode_sessions` for one row."""

    token_ids: list[int]
    logprobs: list[float]
    stopped: bool
    kv: KV | None
    cached: int


def _make_cache(layers: list[tuple[torch.Tensor, torch.Tensor]]) -> Any:
    from transformers import DynamicCache

    cache = DynamicCache()
    for i, (k, v) in enumerate(layers):
        cache.update(k, v, i)
    return cache


class SessionBook:
    """The sessions of the dialogues in flight, keyed by ``DialogueState.dialogue_id``.

    Args:
        tokenizer: the policy's tokenizer.
        render: ``render(messages, add_generation_prompt) -> text`` (the chat template).
    """

    def __init__(self, tokenizer: Any, render: Render) -> None:
        self.tokenizer = tokenizer
        self.render = render
        self.sessions: dict[int, Session] = {}
        self.rebuilds = 0

    def _tok(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"]) if text else []

    def prepare(self, key: int, turn: int, chat: list[dict[str, str]]) -> Row:
        """The row for dialogue ``key`` at agent turn ``turn`` with the full ``chat`` so far
        (system first, ending with the customer's latest message)."""
        sess = self.sessions.get(key)
        if sess is not None and sess.turn == turn - 1 and turn > 0:
            row = self._extend(key, sess, chat)
            if row is not None:
                return row
            self.rebuilds += 1
        full = self.render(chat, True)
        system = self.render(chat[:1], False) if chat and chat[0]["role"] == "system" else ""
        if system and full.startswith(system):
            head, tail = self._tok(system), self._tok(full[len(system) :])
        else:
            head, tail = [], self._tok(full)
        sess = Session(ids=head, cached=0)
        return Row(key, sess, head + tail, head + tail, chat)

    def _extend(self, key: int, sess: Session, chat: list[dict[str, str]]) -> Row | None:
        prev = sess.chat
        if len(chat) != len(prev) + 2 or chat[: len(prev)] != prev:
            return None
        agent = chat[len(prev)]["content"]
        if sess.text is not None and agent != sess.text:
            return None
        before = self.render(prev, True)
        closed = self.render(prev + [chat[len(prev)]], False)
        full = self.render(chat, True)
        if not closed.startswith(before + agent) or not full.startswith(closed):
            return None
        closing = self._tok(closed[len(before) + len(agent) :])
        last = sess.ids[-1] if sess.ids else None
        if closing and last == closing[0]:
            closing = closing[1:]  # the end-of-turn token was sampled
        new = closing + self._tok(full[len(closed) :])
        if not new:
            return None
        return Row(key, sess, sess.ids[sess.cached :] + new, new, chat)

    def commit(
        self,
        rows: Sequence[Row],
        outs: Sequence[Decoded | None],
        texts: Sequence[str | None] | None = None,
    ) -> None:
        """Store each row's extended session (with the text returned for it); drop sessions
        not in this batch (finished dialogues)."""
        keep: dict[int, Session] = {}
        texts = texts if texts is not None else [None] * len(rows)
        for row, out, text in zip(rows, outs, texts, strict=True):
            if out is None:
                continue
            s = row.session
            ids = s.ids[: s.cached] + row.pending + out.token_ids
            keep[row.key] = Session(ids, out.cached, out.kv, s.turn + 1, row.chat, text)
        self.sessions = keep

    def reset(self) -> None:
        self.sessions = {}


def _shared_prefixes(model: Any, spec: DecodeSpec, rows: Sequence[Row], device: Any) -> None:
    """Turn-0 rows: prefill each distinct system-prompt head once, give rows its cache."""
    heads: dict[tuple[int, ...], list[Row]] = {}
    for r in rows:
        s = r.session
        if s.kv is None and s.ids and len(r.pending) > len(s.ids):
            heads.setdefault(tuple(s.ids), []).append(r)
    if not heads:
        return
    keys = list(heads)
    width = max(len(k) for k in keys)
    ids = torch.full((len(keys), width), spec.pad_id, dtype=torch.long)
    mask = torch.zeros((len(keys), width), dtype=torch.long)
    for i, k in enumerate(keys):
        ids[i, width - len(k) :] = torch.tensor(k)
        mask[i, width - len(k) :] = 1
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    out = model(
        input_ids=ids.to(device),
        attention_mask=mask.to(device),
        position_ids=pos.to(device),
        use_cache=True,
        **spec.extra_prefill,
    )
    layers = layer_tensors(cache_of(out, spec))
    for i, k in enumerate(keys):
        kv = [(kk[i, :, width - len(k) :], vv[i, :, width - len(k) :]) for kk, vv in layers]
        for r in heads[k]:
            r.session.kv, r.session.cached = kv, len(k)
            r.pending = r.pending[len(k) :]


@torch.no_grad()
def decode_sessions(
    model: Any,
    spec: DecodeSpec,
    rows: Sequence[Row],
    seeds: Sequence[int],
    *,
    max_new: int,
    device: Any,
) -> list[Decoded]:
    """One batched decode over rows that each bring a cache and pending ids.

    Returns:
        One :class:`Decoded` per row: sampled ids (eos included when sampled), their
        log-probs under the temperature-scaled distribution, whether eos stopped it, and the
        row's cache after the turn (``cached`` tokens of its ids).
    """
    _shared_prefixes(model, spec, rows, device)
    b = len(rows)
    cs = [r.session.cached if r.session.kv is not None else 0 for r in rows]
    c, p = max(cs), max(len(r.pending) for r in rows)
    ids = torch.full((b, p), spec.pad_id, dtype=torch.long)
    mask = torch.zeros((b, c + p), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, p - len(r.pending) :] = torch.tensor(r.pending)
        mask[i, c - cs[i] : c] = 1
        mask[i, c + p - len(r.pending) :] = 1
    kw: dict[str, Any] = dict(spec.extra_prefill)
    if c > 0:
        ref = next(r.session.kv for r in rows if r.session.kv is not None)
        assert ref is not None
        layers = []
        for li, (k0, _) in enumerate(ref):
            h, d = k0.shape[0], k0.shape[-1]
            k = k0.new_zeros((b, h, c, d))
            v = k0.new_zeros((b, h, c, d))
            for i, r in enumerate(rows):
                if cs[i]:
                    kv = r.session.kv
                    assert kv is not None
                    k[i, :, c - cs[i] :] = kv[li][0]
                    v[i, :, c - cs[i] :] = kv[li][1]
            layers.append((k, v))
        kw[spec.cache_kw] = _make_cache(layers)
    mask, ids = mask.to(device), ids.to(device)
    pos = (mask.cumsum(-1) - 1).clamp(min=0)[:, c:]
    out = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, **kw)
    gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    uniforms = torch.stack([torch.rand(max(max_new, 1), generator=g) for g in gens]).to(device)
    tokens, logps, row_caches = decode_loop(
        model,
        spec,
        out.logits[:, -1, :],
        cache_of(out, spec),
        mask,
        pos[:, -1:] + 1,
        uniforms,
        max_new=max_new,
    )
    eos = set(spec.eos_ids)
    result = []
    for i, r in enumerate(rows):
        row = tokens[i].tolist()
        end = next((j for j, t in enumerate(row) if t in eos), None)
        keep = len(row) if end is None else end + 1
        rc = row_caches[i]
        n_fed = min(keep, rc.fed)
        cols = torch.cat(
            [
                torch.arange(c - cs[i], c),
                torch.arange(c + p - len(r.pending), c + p + n_fed),
            ]
        ).to(device)
        kv = [(k.index_select(1, cols), v.index_select(1, cols)) for k, v in rc.layers]
        done_cached = cs[i] + len(r.pending) + n_fed
        result.append(
            Decoded(row[:keep], logps[i, :keep].tolist(), end is not None, kv, done_cached)
        )
    return result
