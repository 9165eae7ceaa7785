"""Batched, KV-cached decoding for :class:`~interactcs.policies.hf.HFPolicy` (pure torch).

Usage::

    spec = DecodeSpec.for_model(model, eos_ids=[2], pad_id=0, temperature=1.0)
    prefix, ids, mask = layout_batch(token_lists, pad_id=0, device="cpu")
    tokens, logprobs, steps = decode_batch(model, spec, prefix, ids, mask, seeds, max_new=64)

Layout. Prompts are left-padded; position ids come from the attention mask, so a padded row
sees the same positions as alone. When every row starts with the same tokens (a GRPO group
shares the system prompt, often the opening too), that prefix is run once at batch size 1
and its KV cache copied to every row; the remainders follow, left-padded, with zeros in the
attention mask between prefix and remainder.

Sampling. Each row draws its uniforms from its own ``torch.Generator`` up front and samples
by inverse-CDF lookup, so a row's tokens do not depend on its batch-mates.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

#: shortest common prompt prefix (tokens) worth a separate shared prefill
MIN_SHARED_PREFIX = 16


@dataclass(slots=True)
class DecodeSpec:
    """How to decode with one model.

    Attributes:
        eos_ids: tokens that end a turn.
        pad_id: filler for finished rows and padding.
        temperature: sampling temperature; <= 0 is greedy.
        top_p: nucleus threshold (1 = off).
        cache_kw: the model's KV-cache keyword (``cache`` in transformers 5, else
            ``past_key_values``).
        extra_prefill: extra keywords for prefill calls (``logits_to_keep=1`` when supported).
    """

    eos_ids: list[int]
    pad_id: int
    temperature: float = 1.0
    top_p: float = 1.0
    cache_kw: str = "past_key_values"
    extra_prefill: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def model_kwargs(model: Any) -> tuple[str, dict[str, Any]]:
        """``(cache_kw, extra_prefill)`` for a model, read from its ``forward`` signature."""
        params = inspect.signature(model.forward).parameters
        cache_kw = "cache" if "cache" in params else "past_key_values"
        # prefill needs the last position's logits only (saves a (B, P, V) lm_head matmul)
        return cache_kw, ({"logits_to_keep": 1} if "logits_to_keep" in params else {})


def common_prefix_len(rows: Sequence[Sequence[int]]) -> int:
    """Length of the longest common prefix of token lists (``[[1,2,3],[1,2,4]]`` -> 2)."""
    first = rows[0]
    n = min(len(r) for r in rows)
    for r in rows[1:]:
        k = 0
        while k < n and r[k] == first[k]:
            k += 1
        n = k
    return n


def layout_batch(
    rows: list[list[int]],
    *,
    pad_id: int,
    device: torch.device | str,
    share_prefix: bool = True,
) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
    """Tensors for a batch of prompt token lists, splitting off a shared prefix.

    Returns:
        ``prefix`` (1, c) or None, ``ids`` (B, S) left-padded remainders, ``mask``
        (B, c + S) over prefix and remainder. Without a prefix (c = 0) this is plain left
        padding. A prefix is used when at least :data:`MIN_SHARED_PREFIX` tokens are shared;
        every row keeps at least one token after it.
    """
    c = common_prefix_len(rows) if share_prefix and len(rows) > 1 else 0
    c = min(c, min(len(r) for r in rows) - 1)
    prefix = None
    if c >= MIN_SHARED_PREFIX:
        prefix = torch.tensor([rows[0][:c]], device=device)
        rows = [r[c:] for r in rows]
    else:
        c = 0
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), c + width), dtype=torch.long)
    mask[:, :c] = 1
    for i, r in enumerate(rows):
        ids[i, width - len(r) :] = torch.tensor(r, dtype=torch.long)
        mask[i, c + width - len(r) :] = 1
    return prefix, ids.to(device), mask.to(device)


def top_p_filter(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Set logits outside the smallest set with cumulative probability >= top_p to -inf.

    Args:
        logits: (B, V) temperature-scaled logits.
    """
    sorted_logits, idx = torch.sort(logits, dim=-1, descending=True)
    probs = sorted_logits.softmax(-1)
    remove = probs.cumsum(-1) - probs >= top_p  # keep the token that crosses top_p
    sorted_logits = sorted_logits.masked_fill(remove, float("-inf"))
    return torch.full_like(logits, float("-inf")).scatter(-1, idx, sorted_logits)


def sample_next(
    logits: torch.Tensor, u: torch.Tensor, temperature: float, top_p: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample one token per row by inverse-CDF lookup of a pre-drawn uniform.

    Args:
        logits: (B, V) next-token logits.
        u: (B,) uniforms in [0, 1), one per row (drawn from that row's generator).
        temperature: <= 0 means greedy (``u`` unused).
        top_p: nucleus threshold.

    Returns:
        tokens (B,), their log-probs (B,) under the temperature-scaled distribution (before
        top-p filtering).
    """
    logits = logits.float()
    if temperature <= 0:
        tokens = logits.argmax(-1)
        return tokens, logits.log_softmax(-1).gather(-1, tokens[:, None]).squeeze(-1)
    scaled = logits / temperature
    logp = scaled.log_softmax(-1)
    filtered = top_p_filter(scaled, top_p) if top_p < 1.0 else scaled
    cdf = filtered.softmax(-1).cumsum(-1)
    tokens = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None], right=True).squeeze(-1)
    tokens = tokens.clamp(max=logits.size(-1) - 1)
    return tokens, logp.gather(-1, tokens[:, None]).squeeze(-1)


def cache_of(out: Any, spec: DecodeSpec) -> Any:
    """The KV cache of a model output (``cache`` in transformers 5, else ``past_key_values``)."""
    return getattr(out, spec.cache_kw, None) or getattr(out, "past_key_values", None)


def _prefill(
    model: Any, spec: DecodeSpec, prefix: torch.Tensor | None, ids: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, Any, torch.Tensor]:
    """Run the prompts; returns last-position logits (B, V), the KV cache, positions (B, S)."""
    pos = (mask.long().cumsum(-1) - 1).clamp(min=0)[:, mask.size(1) - ids.size(1) :]
    kw: dict[str, Any] = dict(spec.extra_prefill)
    if prefix is not None:  # shared prefix: run once, copy its cache to every row
        out = model(input_ids=prefix, use_cache=True, **spec.extra_prefill)
        cache = cache_of(out, spec)
        cache.batch_repeat_interleave(ids.size(0))
        kw[spec.cache_kw] = cache
    out = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, **kw)
    return out.logits[:, -1, :], cache_of(out, spec), pos


@dataclass(slots=True)
class RowCache:
    """A row's KV cache when it left the batch (its eos) or when decoding ended.

    Attributes:
        layers: per layer (keys, values), each (H, S_row, D): views of the batch cache at
            that moment (padding columns included).
        mask: (S_row,) the row's attention mask over those columns.
        fed: how many of the row's sampled tokens the cache holds (the last ``S_row - S``
            columns, S = prompt columns); the last sampled token is never fed.
    """

    layers: list[tuple[torch.Tensor, torch.Tensor]]
    mask: torch.Tensor
    fed: int


def layer_tensors(cache: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(keys, values) per layer of a transformers cache, 4.4x and 5.x layouts."""
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    return list(zip(cache.key_cache, cache.value_cache, strict=True))


def _snapshot(cache: Any, mask: torch.Tensor, rows: list[int], fed: int) -> list[RowCache]:
    layers = layer_tensors(cache)
    return [RowCache([(k[r], v[r]) for k, v in layers], mask[r], fed) for r in rows]


def decode_loop(
    model: Any,
    spec: DecodeSpec,
    logits: torch.Tensor,
    cache: Any,
    mask: torch.Tensor,
    next_pos: torch.Tensor,
    uniforms: torch.Tensor,
    *,
    max_new: int,
    retire: float = 0.125,
) -> tuple[torch.Tensor, torch.Tensor, list[RowCache]]:
    """Sample up to ``max_new`` tokens per row after a prefill.

    Finished rows leave the batch: once at least ``retire`` × the live rows (and at least
    one) have sampled an end-of-turn token, they are dropped from the cache
    (``batch_select_indices``, one copy of the cache), so the remaining steps run on the
    live rows only (a step costs ≈ fixed weight reads + a share per row). Sampling is
    unchanged: each row reads its own column of ``uniforms``.

    Args:
        logits: (B, V) next-token logits from the prefill.
        cache: the prefill's KV cache; mask: (B, S) its attention mask.
        next_pos: (B, 1) position id of the first new token.
        uniforms: (B, >= max_new) pre-drawn uniforms, one column per step.
        retire: share of live rows that must be finished before they are dropped
            (0 = drop at every finish, >= 1 = never).

    Returns:
        tokens (B, T) on CPU (pad after a row's eos), their log-probs (B, T), and each
        row's :class:`RowCache`. A row's cache holds every token it was fed: its tokens
        before the last one it sampled (the last sampled token is never fed).
    """
    b = mask.size(0)
    device = mask.device
    eos = torch.tensor(spec.eos_ids, device=device)
    live = list(range(b))  # original index of each batch row
    done = torch.zeros(b, dtype=torch.bool, device=device)  # per batch row
    out_cache: list[RowCache | None] = [None] * b
    tokens = torch.full((b, max(max_new, 1)), spec.pad_id, dtype=torch.long)
    logps = torch.zeros((b, max(max_new, 1)), dtype=torch.float32)
    steps = 0
    for step in range(max_new):
        tok, lp = sample_next(logits, uniforms[:, step], spec.temperature, spec.top_p)
        tok = torch.where(done, torch.full_like(tok, spec.pad_id), tok)
        lp = torch.where(done, torch.zeros_like(lp), lp)
        index = torch.tensor(live)
        tokens[index, step] = tok.cpu()
        logps[index, step] = lp.float().cpu()
        steps = step + 1
        done |= torch.isin(tok, eos)
        if bool(done.all()) or steps == max_new:
            break
        n_done = int(done.sum())
        if n_done and n_done >= retire * len(live):
            gone = done.nonzero().flatten().tolist()
            for r, snap in zip(gone, _snapshot(cache, mask, gone, step), strict=True):
                out_cache[live[r]] = snap
            keep = (~done).nonzero().flatten()
            cache.batch_select_indices(keep)
            live = [live[r] for r in keep.tolist()]
            mask, next_pos, tok = mask[keep], next_pos[keep], tok[keep]
            uniforms, done = uniforms[keep], done[keep]
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        out = model(
            input_ids=tok[:, None],
            attention_mask=mask,
            position_ids=next_pos,
            use_cache=True,
            **{spec.cache_kw: cache},
        )
        cache = cache_of(out, spec)
        logits = out.logits[:, -1, :]
        next_pos = next_pos + 1
    for r, snap in zip(
        live, _snapshot(cache, mask, list(range(len(live))), max(steps - 1, 0)), strict=True
    ):
        out_cache[r] = snap
    rows = [c for c in out_cache if c is not None]
    assert len(rows) == b
    return tokens[:, :steps], logps[:, :steps], rows


@torch.no_grad()
def decode_batch(
    model: Any,
    spec: DecodeSpec,
    prefix: torch.Tensor | None,
    ids: torch.Tensor,
    mask: torch.Tensor,
    seeds: Sequence[int],
    *,
    max_new: int,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """KV-cached decode of a batch laid out by :func:`layout_batch` (no state kept).

    Args:
        model: a causal LM (``transformers`` forward signature).
        spec: :class:`DecodeSpec`.
        prefix, ids, mask: from :func:`layout_batch`.
        seeds: one sampling seed per row.
        max_new: token cap.

    Returns:
        new tokens (B, T) on CPU (pad after a row's eos), their log-probs (B, T), steps T.
    """
    gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    uniforms = torch.stack([torch.rand(max(max_new, 1), generator=g) for g in gens])
    logits, cache, pos = _prefill(model, spec, prefix, ids, mask)
    tokens, logps, _ = decode_loop(
        model, spec, logits, cache, mask, pos[:, -1:] + 1, uniforms.to(ids.device), max_new=max_new
    )
    return tokens, logps, tokens.size(1)
