"""Hugging Face causal-LM agent: batched multi-turn generation, LoRA, log-probs for training.

Usage::

    from interactcs.policies.hf import HFPolicy, LoraSpec
    policy = HFPolicy("Qwen/Qwen2.5-0.5B-Instruct", lora=LoraSpec(r=16))   # or a local folder
    texts = await policy.aact(states)        # one batched decode for all live dialogues
    lp = policy.token_logprobs(batch)        # (B, L) log p(token_t | tokens_<t), with grad
    policy.save("runs/x/model")              # save_pretrained (LoRA merged by default)

From the CLI / registry the spec is ``hf:PATH``.

Chat layout. Each dialogue becomes ``[system: state.system_prompt] + history`` with the
customer's messages as ``user`` and the agent's *raw* outputs (think/response/action tags
included) as ``assistant``, rendered by the tokenizer's chat template with a generation
prompt. :mod:`interactcs.train.sequences` renders finished trajectories with the same
function (:func:`chat_messages`), so training sees the prompts the policy saw.

Generation. One decode loop per ``aact`` call for the whole batch: left padding, explicit
position ids (so padded and unpadded rows see the same positions), a KV cache, temperature
and top-p sampling. The prompt prefix shared by all rows (in a GRPO group: the system prompt,
often the opening too) is prefilled once and its KV cache copied to every row, so a group
pays for its long system prompt once per turn instead of once per dialogue. Each row samples with its **own** ``torch.Generator`` seeded from
(policy seed, scenario id, dialogue id, turn index), so a dialogue's samples do not depend on
which other dialogues share its batch: batched and one-at-a-time rollouts give the same
tokens up to floating-point differences of padded matmuls. ``temperature=0`` is greedy.
Call :meth:`HFPolicy.set_seed` between training steps for fresh samples.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import logging
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from interactcs.policies.base import POLICIES, DialogueState
from interactcs.types import Message

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoraSpec:
    """LoRA adapter settings (``peft.LoraConfig``).

    Attributes:
        r: adapter rank.
        alpha: scaling numerator (effective scale ``alpha / r``).
        dropout: dropout on the adapter input.
        target_modules: module names to adapt, or ``"all-linear"``.
    """

    r: int = 16
    alpha: int = 32
    dropout: float = 0.0
    target_modules: tuple[str, ...] | str = "all-linear"


@dataclass(slots=True)
class Generation:
    """One decoded agent output.

    Attributes:
        text: decoded new tokens, special tokens (incl. the end-of-turn token) removed.
        token_ids: the sampled token ids, end-of-turn token included when produced.
        logprobs: log-prob of each sampled token under the temperature-scaled distribution
            (before top-p filtering), same length as ``token_ids``.
        prompt_tokens: prompt length in tokens.
        stopped: ``True`` when an end-of-turn / eos token ended it, ``False`` at the token cap.
    """

    text: str
    token_ids: list[int]
    logprobs: list[float]
    prompt_tokens: int
    stopped: bool


@dataclass(slots=True)
class GenerationStats:
    """Running counters over all generate calls (reset with ``HFPolicy.stats = ...``)."""

    calls: int = 0
    rows: int = 0
    prompt_tokens: int = 0
    new_tokens: int = 0
    seconds: float = 0.0
    decode_steps: int = 0
    failures: list[str] = field(default_factory=list)


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


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` -> ``cuda`` when available, else ``cpu``; any other string is passed through."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(dtype: str | torch.dtype, device: torch.device) -> torch.dtype:
    """``"auto"`` -> bf16 on a GPU that supports it, else fp32; names like ``"bf16"`` work too."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    names = {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16}
    names |= {"float16": torch.float16, "fp32": torch.float32, "float32": torch.float32}
    if dtype not in names:
        raise ValueError(f"unknown dtype {dtype!r}; expected auto or one of {sorted(names)}")
    return names[dtype]


def _field(batch: Any, name: str) -> torch.Tensor:
    value = batch[name] if isinstance(batch, Mapping) else getattr(batch, name)
    return value


#: shortest common prompt prefix (tokens) worth a separate shared prefill
_MIN_SHARED_PREFIX = 16


def _common_prefix_len(rows: Sequence[Sequence[int]]) -> int:
    """Length of the longest common prefix of token lists."""
    first = rows[0]
    n = min(len(r) for r in rows)
    for r in rows[1:]:
        k = 0
        while k < n and r[k] == first[k]:
            k += 1
        n = k
    return n


def _top_p_filter(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Set logits outside the smallest set with cumulative probability >= top_p to -inf.

    Args:
        logits: (B, V) temperature-scaled logits.
    """
    sorted_logits, idx = torch.sort(logits, dim=-1, descending=True)
    cum = sorted_logits.softmax(-1).cumsum(-1)
    remove = cum - sorted_logits.softmax(-1) >= top_p  # keep the token that crosses top_p
    sorted_logits = sorted_logits.masked_fill(remove, float("-inf"))
    return torch.full_like(logits, float("-inf")).scatter(-1, idx, sorted_logits)


class HFPolicy:
    """A Hugging Face causal LM as a :class:`~interactcs.policies.base.Policy`.

    Args:
        model_name_or_path: hub id or local folder (a full model or a peft adapter folder).
        device: ``"auto"`` (cuda if available), ``"cpu"``, ``"cuda:0"``, ...
        dtype: ``"auto"`` (bf16 on GPU, fp32 on CPU), ``"bf16"``, ``"fp16"``, ``"fp32"``.
        lora: add a fresh LoRA adapter (only adapter weights are trainable).
        max_new_tokens: token cap per agent turn.
        temperature: sampling temperature; 0 = greedy.
        top_p: nucleus sampling threshold (1 = off).
        seed: base seed of the per-row sampling generators.
        share_prefix: prefill the prompt prefix that all rows of a batch share (a group's
            system prompt and opening) once and copy its KV cache to every row.
        trust_remote_code: passed to ``from_pretrained``.
    """

    def __init__(
        self,
        model_name_or_path: str | Path,
        *,
        device: str = "auto",
        dtype: str | torch.dtype = "auto",
        lora: LoraSpec | None = None,
        max_new_tokens: int = 256,
        temperature: float = 1.0,
        top_p: float = 1.0,
        seed: int = 0,
        share_prefix: bool = True,
        trust_remote_code: bool = False,
    ) -> None:
        from transformers import AutoTokenizer

        self.path = str(model_name_or_path)
        self.name = f"hf:{self.path}"
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.top_p = top_p
        self.seed = seed
        self.share_prefix = share_prefix
        self.stats = GenerationStats()
        adapter = (Path(self.path) / "adapter_config.json").is_file()
        base_path = self.path
        if adapter:
            from peft import PeftConfig

            base_path = PeftConfig.from_pretrained(self.path).base_model_name_or_path
        tok_path = self.path if (Path(self.path) / "tokenizer_config.json").is_file() else base_path
        self.tokenizer = AutoTokenizer.from_pretrained(
            tok_path, trust_remote_code=trust_remote_code
        )
        self._setup_tokenizer()
        self.model = self._load_model(base_path, adapter, lora, trust_remote_code)
        self.model.eval()
        self.eos_ids = self._eos_ids()

    # ------------------------------------------------------------------ loading / saving
    def _setup_tokenizer(self) -> None:
        tok = self.tokenizer
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        tok.padding_side = "left"
        if not getattr(tok, "chat_template", None):
            from interactcs.policies.tiny import CHAT_TEMPLATE

            log.warning("%s has no chat template; using ChatML", self.path)
            tok.chat_template = CHAT_TEMPLATE

    def _load_model(self, base_path: str, adapter: bool, lora: LoraSpec | None, trust: bool) -> Any:
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(
            base_path, dtype=self.dtype, trust_remote_code=trust
        ).to(self.device)
        params = inspect.signature(model.forward).parameters
        self._cache_kw = "cache" if "cache" in params else "past_key_values"
        # prefill needs the last position's logits only (saves a (B, P, V) lm_head matmul)
        self._keep_kw = {"logits_to_keep": 1} if "logits_to_keep" in params else {}
        if adapter:
            from peft import PeftModel

            return PeftModel.from_pretrained(model, self.path, is_trainable=True)
        if lora is not None:
            from peft import LoraConfig, get_peft_model

            target = lora.target_modules
            cfg = LoraConfig(
                r=lora.r,
                lora_alpha=lora.alpha,
                lora_dropout=lora.dropout,
                target_modules=target if isinstance(target, str) else list(target),
                task_type="CAUSAL_LM",
            )
            return get_peft_model(model, cfg)
        return model

    def _eos_ids(self) -> list[int]:
        ids: set[int] = set()
        gen_eos = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        for value in (gen_eos, self.tokenizer.eos_token_id):
            if isinstance(value, int):
                ids.add(value)
            elif isinstance(value, list | tuple):
                ids.update(int(v) for v in value)
        im_end = self.tokenizer.convert_tokens_to_ids("<|im_end|>")
        if isinstance(im_end, int) and im_end != self.tokenizer.unk_token_id and im_end >= 0:
            ids.add(im_end)
        return sorted(ids)

    @property
    def is_peft(self) -> bool:
        return hasattr(self.model, "peft_config")

    def save(self, out_dir: str | Path, *, merge_lora: bool = True) -> Path:
        """Write the model and tokenizer with ``save_pretrained``.

        Args:
            out_dir: target folder.
            merge_lora: with a LoRA adapter, save a merged full model (loadable by
                ``AutoModelForCausalLM.from_pretrained``) instead of the adapter alone.
                The live policy keeps its adapter either way.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        model = self.model
        if self.is_peft and merge_lora:
            model = copy.deepcopy(self.model).merge_and_unload()
        model.save_pretrained(out)
        self.tokenizer.save_pretrained(out)
        return out

    @classmethod
    def load(cls, path: str | Path, **kwargs: Any) -> HFPolicy:
        """Load a policy saved by :meth:`save` (full model or adapter folder)."""
        return cls(path, **kwargs)

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        """Parameters with ``requires_grad`` (only the adapter's with LoRA)."""
        return [p for p in self.model.parameters() if p.requires_grad]

    def set_seed(self, seed: int) -> None:
        """Change the base seed of the sampling generators (e.g. once per training step)."""
        self.seed = seed

    # ------------------------------------------------------------------ generation
    def render_prompt(self, messages: list[dict[str, str]]) -> str:
        """Chat-template text of ``messages`` followed by the assistant generation prompt."""
        return self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )

    def row_seed(self, state: DialogueState) -> int:
        """Seed of one dialogue's sampling generator for its current turn."""
        sid = zlib.crc32(state.scenario.scenario_id.encode())
        mix = (self.seed * 1_000_003 + sid) * 1_000_033 + state.dialogue_id * 1009
        return (mix + state.turn_index) % (2**63 - 1)

    async def aact(self, states: list[DialogueState]) -> list[str]:
        """One raw agent output per state, from one batched decode (run in a worker thread)."""
        if not states:
            return []
        prompts = [chat_messages(s.system_prompt, s.messages) for s in states]
        seeds = [self.row_seed(s) for s in states]
        gens = await asyncio.to_thread(self._generate_safe, prompts, seeds)
        out = []
        for state, gen in zip(states, gens, strict=True):
            if gen is None:
                state.extra["policy_failure"] = self.stats.failures[-1]
                out.append("")
            else:
                out.append(gen.text)
        return out

    def _generate_safe(
        self, prompts: list[list[dict[str, str]]], seeds: list[int]
    ) -> list[Generation | None]:
        """:meth:`generate` that halves the batch on out-of-memory and never raises."""
        try:
            return list(self.generate(prompts, seeds=seeds))
        except torch.OutOfMemoryError as exc:
            if len(prompts) == 1:
                self.stats.failures.append(f"out of memory: {exc}")
                return [None]
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            h = len(prompts) // 2
            return self._generate_safe(prompts[:h], seeds[:h]) + self._generate_safe(
                prompts[h:], seeds[h:]
            )
        except Exception as exc:  # noqa: BLE001 - contract: report, do not raise
            log.exception("generation failed")
            self.stats.failures.append(f"{type(exc).__name__}: {exc}")
            return [None] * len(prompts)

    def generate(
        self,
        prompts: list[list[dict[str, str]]],
        *,
        seeds: list[int] | None = None,
        max_new_tokens: int | None = None,
    ) -> list[Generation]:
        """Decode one assistant turn for each chat in one batch.

        Args:
            prompts: chat messages per row (see :func:`chat_messages`).
            seeds: per-row generator seeds (default ``seed + row``).
            max_new_tokens: override of the policy's token cap.

        Returns:
            One :class:`Generation` per prompt, in order.
        """
        t0 = time.perf_counter()
        rows = self.tokenizer([self.render_prompt(p) for p in prompts], add_special_tokens=False)[
            "input_ids"
        ]
        prefix, ids, mask = self._layout(rows)
        seeds = seeds if seeds is not None else [self.seed + i for i in range(len(prompts))]
        max_new = max_new_tokens or self.max_new_tokens
        new, lps, steps = self._decode(prefix, ids, mask, seeds, max_new)
        gens = [self._finish_row(new[i], lps[i], len(r)) for i, r in enumerate(rows)]
        st = self.stats
        st.calls += 1
        st.rows += len(prompts)
        st.prompt_tokens += sum(len(r) for r in rows)
        st.new_tokens += sum(len(g.token_ids) for g in gens)
        st.decode_steps += steps
        st.seconds += time.perf_counter() - t0
        return gens

    def _layout(
        self, rows: list[list[int]]
    ) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
        """Tensors for a batch of prompt token lists, splitting off a shared prefix.

        Without sharing: ``prefix=None``, ``ids`` (B, P) left-padded, ``mask`` (B, P). With a
        shared prefix of c tokens (e.g. a group's system prompt): ``prefix`` (1, c) is
        prefilled once, ``ids`` (B, S) holds the left-padded remainders and ``mask`` (B, c + S)
        covers prefix and remainder (zeros in the middle where a remainder is short).
        """
        c = _common_prefix_len(rows) if self.share_prefix and len(rows) > 1 else 0
        c = min(c, min(len(r) for r in rows) - 1)  # every row keeps >= 1 token to prefill
        prefix = None
        if c >= _MIN_SHARED_PREFIX:
            prefix = torch.tensor([rows[0][:c]], device=self.device)
            rows = [r[c:] for r in rows]
        else:
            c = 0
        width = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), c + width), dtype=torch.long)
        mask[:, :c] = 1
        for i, r in enumerate(rows):
            ids[i, width - len(r) :] = torch.tensor(r, dtype=torch.long)
            mask[i, c + width - len(r) :] = 1
        return prefix, ids.to(self.device), mask.to(self.device)

    def _finish_row(self, tokens: torch.Tensor, lps: torch.Tensor, n_prompt: int) -> Generation:
        ids = tokens.tolist()
        eos = set(self.eos_ids)
        end = next((i for i, t in enumerate(ids) if t in eos), None)
        keep = len(ids) if end is None else end + 1
        ids = ids[:keep]
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        return Generation(text, ids, lps[:keep].tolist(), n_prompt, end is not None)

    def _sample(self, logits: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample one token per row by inverse-CDF lookup of a pre-drawn uniform.

        Args:
            logits: (B, V) next-token logits.
            u: (B,) uniforms in [0, 1), one per row (drawn from that row's generator).

        Returns:
            tokens (B,), their log-probs (B,) under the temperature-scaled distribution.
        """
        logits = logits.float()
        if self.temperature <= 0:
            tokens = logits.argmax(-1)
            return tokens, logits.log_softmax(-1).gather(-1, tokens[:, None]).squeeze(-1)
        scaled = logits / self.temperature
        logp = scaled.log_softmax(-1)
        filtered = _top_p_filter(scaled, self.top_p) if self.top_p < 1.0 else scaled
        cdf = filtered.softmax(-1).cumsum(-1)
        tokens = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None], right=True).squeeze(-1)
        tokens = tokens.clamp(max=logits.size(-1) - 1)
        return tokens, logp.gather(-1, tokens[:, None]).squeeze(-1)

    def _cache_of(self, out: Any) -> Any:
        return getattr(out, self._cache_kw, None) or getattr(out, "past_key_values", None)

    def _prefill(
        self, prefix: torch.Tensor | None, ids: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, Any, torch.Tensor]:
        """Run the prompts; returns last-position logits (B, V), the KV cache, positions (B, S)."""
        pos = (mask.long().cumsum(-1) - 1).clamp(min=0)[:, mask.size(1) - ids.size(1) :]
        kw: dict[str, Any] = dict(self._keep_kw)
        if prefix is not None:  # shared prefix: prefill once, copy its cache to every row
            out = self.model(input_ids=prefix, use_cache=True, **self._keep_kw)
            cache = self._cache_of(out)
            cache.batch_repeat_interleave(ids.size(0))
            kw[self._cache_kw] = cache
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, **kw)
        return out.logits[:, -1, :], self._cache_of(out), pos

    @torch.no_grad()
    def _decode(
        self,
        prefix: torch.Tensor | None,
        ids: torch.Tensor,
        mask: torch.Tensor,
        seeds: list[int],
        max_new: int,
    ) -> tuple[torch.Tensor, torch.Tensor, int]:
        """KV-cached decode loop over the batch laid out by :meth:`_layout`.

        Returns:
            new tokens (B, T) (pad after a row's eos), their log-probs (B, T), steps run T.
        """
        # one generator per row, drawn up front: a row's samples ignore its batch-mates
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        uniforms = torch.stack([torch.rand(max(max_new, 1), generator=g) for g in gens])
        uniforms = uniforms.to(self.device)
        eos = torch.tensor(self.eos_ids, device=self.device)
        pad = self.tokenizer.pad_token_id
        logits, cache, pos = self._prefill(prefix, ids, mask)
        next_pos = pos[:, -1:] + 1
        done = torch.zeros(ids.size(0), dtype=torch.bool, device=self.device)
        tokens: list[torch.Tensor] = []
        logps: list[torch.Tensor] = []
        for step in range(max_new):
            tok, lp = self._sample(logits, uniforms[:, step])
            tok = torch.where(done, torch.full_like(tok, pad), tok)
            tokens.append(tok)
            logps.append(torch.where(done, torch.zeros_like(lp), lp))
            done |= torch.isin(tok, eos)
            if bool(done.all()) or len(tokens) == max_new:
                break
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
            out = self.model(
                input_ids=tok[:, None],
                attention_mask=mask,
                position_ids=next_pos,
                use_cache=True,
                **{self._cache_kw: cache},
            )
            cache = self._cache_of(out)
            logits = out.logits[:, -1, :]
            next_pos = next_pos + 1
        if not tokens:
            empty = torch.zeros(ids.size(0), 0)
            return empty.long(), empty, 0
        return torch.stack(tokens, 1).cpu(), torch.stack(logps, 1).float().cpu(), len(tokens)

    # ------------------------------------------------------------------ training support
    def forward_logits(self, batch: Any) -> torch.Tensor:
        """Logits (B, L, V) for a padded batch with ``input_ids`` and ``attention_mask``.

        Position ids come from the attention mask, so left and right padding agree.
        """
        ids = _field(batch, "input_ids").to(self.device)
        mask = _field(batch, "attention_mask").to(self.device)
        pos = (mask.long().cumsum(-1) - 1).clamp(min=0)
        return self.model(
            input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=False
        ).logits

    def token_logprobs_and_entropy(
        self, batch: Any, *, temperature: float = 1.0, entropy_grad: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-token log-probs and entropies of a padded batch.

        Args:
            batch: mapping or object with ``input_ids`` (B, L) and ``attention_mask`` (B, L)
                (e.g. :class:`interactcs.train.sequences.SequenceBatch`).
            temperature: logits are divided by it (match the rollout temperature).
            entropy_grad: keep the graph for the entropy (off: detached, cheaper).

        Returns:
            ``logprobs`` (B, L): ``[:, t] = log p(input_ids[:, t] | input_ids[:, :t])``, 0 at
            each row's first real token and at padding; carries grad. ``entropy`` (B, L): entropy of the
            distribution that predicted token t (same alignment, 0 at 0 / padding), fp32.
        """
        lp, ent = self._logprobs(batch, temperature, entropy=True, entropy_grad=entropy_grad)
        assert ent is not None
        return lp, ent

    def token_logprobs(self, batch: Any, *, temperature: float = 1.0) -> torch.Tensor:
        """``(B, L)`` per-token log-probs (see :meth:`token_logprobs_and_entropy`), with grad."""
        return self._logprobs(batch, temperature, entropy=False, entropy_grad=False)[0]

    def _logprobs(
        self, batch: Any, temperature: float, *, entropy: bool, entropy_grad: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        ids = _field(batch, "input_ids").to(self.device)
        mask = _field(batch, "attention_mask").to(self.device).bool()
        valid = mask[:, 1:] & mask[:, :-1]  # a real token with a real predecessor
        logits = self.forward_logits(batch)[:, :-1].float()  # predicts tokens 1..L-1
        if temperature != 1.0:
            logits = logits / temperature
        lse = torch.logsumexp(logits, dim=-1)  # (B, L-1)
        lp = (logits.gather(-1, ids[:, 1:, None]).squeeze(-1) - lse).masked_fill(~valid, 0.0)
        lp = torch.cat([torch.zeros_like(lp[:, :1]), lp], dim=1)
        if not entropy:
            return lp, None
        with torch.set_grad_enabled(entropy_grad and torch.is_grad_enabled()):
            ent = (lse - (logits.softmax(-1) * logits).sum(-1)).masked_fill(~valid, 0.0)
            ent = torch.cat([torch.zeros_like(ent[:, :1]), ent], dim=1)
        return lp, ent if entropy_grad else ent.detach()


@POLICIES.register("hf")
def _hf_factory(arg: str | None = None, **kwargs: Any) -> HFPolicy:
    """``hf:PATH`` -> :class:`HFPolicy`.

    Keyword arguments that :class:`HFPolicy` does not take (``base_url``, ``api_key_env``,
    ... which the CLI passes to every policy) are ignored.
    """
    if not arg:
        raise ValueError("the hf policy needs a model: use hf:PATH or hf:HUB_ID")
    known = set(inspect.signature(HFPolicy.__init__).parameters) - {"self"}
    return HFPolicy(arg, **{k: v for k, v in kwargs.items() if k in known})
