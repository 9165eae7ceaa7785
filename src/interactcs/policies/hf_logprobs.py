"""Token log-probs of a causal LM on selected positions only, in bounded memory.

Usage::

    lp, ent = selected_logprobs(model, input_ids, attention_mask, select, temperature=1.0)
    # lp, ent: (B, L); lp[:, t] = log p(input_ids[:, t] | input_ids[:, :t]) where select[:, t]

Why. ``model(...).logits`` materialises (B, L, V) fp32 logits: ≈ 1.7 MB per token at a
152 k vocabulary (Qwen2.5), ≈ 0.2 MB at SmolLM2's 49 k, for every token of the batch, and a
second copy for the gradient of the log-softmax. A multi-turn dialogue is mostly prompt: the
system prompt and the customer's messages carry no loss. Here the decoder body runs on the
whole sequence, but the output projection (``lm_head``) runs only on the hidden states that
predict a selected (agent) token, in chunks of ``chunk`` rows, and the log-softmax is taken
over those rows alone. Peak memory then scales with the number of agent tokens, and the
trainer bounds that with micro-batches (:func:`interactcs.train.update.micro_batches`).

Shared prefix. Rows that start with the same tokens (every dialogue opens with the same
chat-template header and static system-prompt text; a GRPO group shares its whole system
prompt) run that prefix once at batch size 1; its keys/values are repeated to every row
(autograd flows back through the copy, so LoRA layers still get the gradient of every row)
and the rows continue from it. Only prefixes before the first selected position are shared
(their hidden states are never projected), and only when at least
:data:`MIN_SHARED_PREFIX` tokens are common. Log-probs and gradients equal the unshared
forward within float tolerance; compute drops by (B-1)·c tokens for a prefix of c tokens.

Models whose logits are not ``lm_head(hidden)`` (final logit soft-capping, e.g. Gemma 2, is
applied here; a ``logit_scale`` as in Cohere is not) fall back to the full forward with
``compact=False``.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

#: shortest common prefix (tokens) worth running once for a micro-batch
MIN_SHARED_PREFIX = 16


def _base(model: Any) -> Any:
    """The transformers model under a peft wrapper (LoRA layers stay injected)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def supports_compact(model: Any) -> bool:
    """Whether ``lm_head(decoder(x))`` reproduces the model's logits."""
    base = _base(model)
    cfg = getattr(base, "config", None)
    ok = hasattr(base, "get_decoder") and base.get_output_embeddings() is not None
    return ok and getattr(cfg, "logit_scale", None) is None


def shared_prefix_len(input_ids: torch.Tensor, mask: torch.Tensor, sel: torch.Tensor) -> int:
    """Tokens at the start of every row that can run once for the whole batch.

    Args:
        input_ids: (B, L); mask: (B, L) bool, real tokens; sel: (B, L-1) bool, positions
            whose hidden state is projected (predictor positions).

    Returns:
        c, the longest common prefix of real tokens that ends before the first predictor
        position; 0 when B < 2 or c < :data:`MIN_SHARED_PREFIX`.
    """
    if input_ids.size(0) < 2 or input_ids.size(1) < 2:
        return 0
    same = (input_ids == input_ids[:1]).all(0) & mask.all(0)  # (L,)
    c = int(same.long().cumprod(0).sum())
    hits = sel.any(0).nonzero()
    if hits.numel():
        c = min(c, int(hits[0, 0]))
    c = min(c, input_ids.size(1) - 1)
    return c if c >= MIN_SHARED_PREFIX else 0


def _decoder_hidden(
    decoder: Any, input_ids: torch.Tensor, mask: torch.Tensor, pos: torch.Tensor, c: int
) -> torch.Tensor:
    """(B, L - c, H) last hidden states of positions c.. (the first c tokens run once)."""
    if c == 0:
        return decoder(
            input_ids=input_ids, attention_mask=mask.long(), position_ids=pos, use_cache=False
        ).last_hidden_state
    cache_kw = "cache" if "cache" in inspect.signature(decoder.forward).parameters else None
    out = decoder(input_ids=input_ids[:1, :c], position_ids=pos[:1, :c], use_cache=True)
    cache = getattr(out, "cache", None) or out.past_key_values
    cache.batch_repeat_interleave(input_ids.size(0))
    return decoder(
        input_ids=input_ids[:, c:],
        attention_mask=mask.long(),
        position_ids=pos[:, c:],
        use_cache=True,
        **{cache_kw or "past_key_values": cache},
    ).last_hidden_state


def selected_logprobs(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    select: torch.Tensor,
    *,
    temperature: float = 1.0,
    entropy: bool = True,
    entropy_grad: bool = False,
    chunk: int = 2048,
    compact: bool = True,
    share_prefix: bool = True,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Log-probs (and entropies) of the tokens at ``select`` positions.

    Args:
        model: a causal LM (optionally peft-wrapped).
        input_ids: (B, L) token ids; attention_mask: (B, L) 1 = real token (any padding side).
        select: (B, L) bool, positions whose token log-prob is wanted (position 0 and
            padding are ignored).
        temperature: logits are divided by it (match the sampling temperature).
        entropy: also return the entropy of each selected position's distribution.
        entropy_grad: keep the entropy's graph (off: detached).
        chunk: rows of the output projection computed at once.
        compact: project selected positions only (see the module docstring).
        share_prefix: run the rows' common prefix once (see the module docstring;
            compact mode only).

    Returns:
        ``lp`` (B, L) with grad when enabled, 0 off the selection; ``ent`` (B, L) or None.
    """
    mask = attention_mask.bool()
    pos = (mask.long().cumsum(-1) - 1).clamp(min=0)
    sel = select.bool()[:, 1:] & mask[:, 1:] & mask[:, :-1]  # (B, L-1): predicts token t+1
    targets = input_ids[:, 1:][sel]  # (N,)
    if compact and supports_compact(model):
        base = _base(model)
        c = shared_prefix_len(input_ids, mask, sel) if share_prefix else 0
        hidden = _decoder_hidden(base.get_decoder(), input_ids, mask, pos, c)  # (B, L-c, H)
        rows = hidden[:, :-1][sel[:, c:]]  # (N, H)
        head = base.get_output_embeddings()
        cap = getattr(getattr(base, "config", None), "final_logit_softcapping", None)

        def logits_of(h: torch.Tensor) -> torch.Tensor:
            z = head(h).float()
            return cap * torch.tanh(z / cap) if cap else z
    else:
        full = model(
            input_ids=input_ids, attention_mask=mask.long(), position_ids=pos, use_cache=False
        ).logits
        rows = full[:, :-1][sel]  # (N, V)

        def logits_of(h: torch.Tensor) -> torch.Tensor:
            return h.float()

    lps: list[torch.Tensor] = []
    ents: list[torch.Tensor] = []
    for start in range(0, rows.size(0), chunk):
        z = logits_of(rows[start : start + chunk])
        if temperature != 1.0:
            z = z / temperature
        lse = torch.logsumexp(z, dim=-1)
        t = targets[start : start + chunk]
        lps.append(z.gather(-1, t[:, None]).squeeze(-1) - lse)
        if entropy:
            with torch.set_grad_enabled(entropy_grad and torch.is_grad_enabled()):
                ents.append(lse - (z.softmax(-1) * z).sum(-1))
    b, length = input_ids.shape
    zero = torch.zeros((b, 1), dtype=torch.float32, device=input_ids.device)

    def spread(values: list[torch.Tensor]) -> torch.Tensor:
        flat = torch.cat(values) if values else torch.zeros(0, device=input_ids.device)
        body = torch.zeros((b, length - 1), dtype=torch.float32, device=input_ids.device)
        return torch.cat([zero, body.masked_scatter(sel, flat.float())], dim=1)

    lp = spread(lps)
    if not entropy:
        return lp, None
    ent = spread(ents)
    return lp, ent if entropy_grad else ent.detach()
