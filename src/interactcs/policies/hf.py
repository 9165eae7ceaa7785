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

Generation (:mod:`interactcs.policies.hf_decode`). One decode loop per ``aact`` call for the
whole batch: left padding, position ids from the attention mask (padded and unpadded rows see
the same positions), a KV cache, temperature and top-p sampling. The prompt prefix shared by
all rows (in a GRPO group: the system prompt, often the opening too) is prefilled once and
its KV cache copied to every row, so a group pays for its long system prompt once per turn
instead of once per dialogue. Each row samples with its **own** ``torch.Generator`` seeded from
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from interactcs.policies.base import POLICIES, DialogueState, PolicyBatch
from interactcs.policies.hf_decode import DecodeSpec, decode_batch, layout_batch
from interactcs.policies.hf_sequences import build_sequences, chat_messages

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


def dtype_kwarg(dtype: torch.dtype) -> dict[str, torch.dtype]:
    """``{"dtype": ...}`` for transformers >= 4.56, ``{"torch_dtype": ...}`` before."""
    import transformers

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}


def _field(batch: Any, name: str) -> torch.Tensor:
    value = batch[name] if isinstance(batch, Mapping) else getattr(batch, name)
    return value


class HFPolicy:
    """A Hugging Face causal LM as a :class:`~interactcs.policies.base.Policy`.

    Args:
        model_name_or_path: hub id or local folder (a full model or a peft adapter folder).
        device: ``"auto"`` (cuda if available), ``"cpu"``, ``"cuda:0"``, ...
        dtype: ``"auto"`` (bf16 on GPU, fp32 on CPU), ``"bf16"``, ``"fp16"``, ``"fp32"``.
        lora: add a fresh LoRA adapter (only adapter weights are trainable); ``True`` means
            ``LoraSpec()``.
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
        lora: LoraSpec | bool | None = None,
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
        #: token cap of training sequences built by :meth:`encode` (None = no truncation)
        self.max_seq_len: int | None = None
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
        spec = LoraSpec() if lora is True else (lora or None)
        self.model = self._load_model(base_path, adapter, spec, trust_remote_code)
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

        model: Any = AutoModelForCausalLM.from_pretrained(
            base_path, **dtype_kwarg(self.dtype), trust_remote_code=trust
        )
        model = model.to(self.device)
        self._model_kw = DecodeSpec.model_kwargs(model)  # read before any peft wrapping
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

    def save(self, out_dir: str | Path, *, merge_lora: bool = False) -> Path:
        """Write the model (or LoRA adapter) and tokenizer with ``save_pretrained``.

        Args:
            out_dir: target folder.
            merge_lora: with a LoRA adapter, save a merged full model (loadable by
                ``AutoModelForCausalLM.from_pretrained``; what SFT exports) instead of the
                adapter alone (default; what checkpoints need for :meth:`load`). The live
                policy keeps its adapter either way.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        model = self.model
        if self.is_peft and merge_lora:
            model = copy.deepcopy(self.model).merge_and_unload()
        model.save_pretrained(out)
        self.tokenizer.save_pretrained(out)
        return out

    def load(self, path: str | Path) -> None:
        """Load weights saved by :meth:`save` into this policy, in place.

        A LoRA policy loads an adapter folder; a full-weight policy loads a full model.
        To build a new policy from a folder, use ``HFPolicy(path)``.
        """
        path = Path(path)
        adapter = (path / "adapter_config.json").is_file()
        if adapter != self.is_peft:
            kind = "an adapter folder" if adapter else "a full model"
            raise ValueError(
                f"{path} holds {kind}; this policy is {'LoRA' if self.is_peft else 'full-weight'}"
            )
        if adapter:
            from peft import set_peft_model_state_dict
            from safetensors.torch import load_file

            set_peft_model_state_dict(self.model, load_file(path / "adapter_model.safetensors"))
            return
        from transformers import AutoModelForCausalLM

        fresh = AutoModelForCausalLM.from_pretrained(path, **dtype_kwarg(self.dtype))
        self.model.load_state_dict(fresh.state_dict())

    @property
    def module(self) -> torch.nn.Module:
        """The model (``TrainablePolicy.module``)."""
        return self.model

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        """Parameters with ``requires_grad`` (only the adapter's with LoRA)."""
        return [p for p in self.model.parameters() if p.requires_grad]

    def set_seed(self, seed: int) -> None:
        """Change the base seed of the sampling generators (e.g. once per training step)."""
        self.seed = seed

    set_sampling_seed = set_seed  # TrainablePolicy name

    # ------------------------------------------------------------------ generation
    def render_prompt(self, messages: list[dict[str, str]]) -> str:
        """Chat-template text of ``messages`` followed by the assistant generation prompt."""
        text = self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        return str(text)

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
                continue
            out.append(gen.text)
            # copied into Turn.policy_meta by the runner (stopped=False: cut at max_new_tokens)
            state.extra["turn_meta"] = {"new_tokens": len(gen.token_ids), "stopped": gen.stopped}
        return out

    def _generate_safe(
        self, prompts: list[list[dict[str, str]]], seeds: list[int]
    ) -> list[Generation | None]:
        """:meth:`generate` that halves the batch on out-of-memory and never raises."""
        try:
            return list(self.generate(prompts, seeds=seeds))
        except torch.cuda.OutOfMemoryError as exc:
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
        pad = self.tokenizer.pad_token_id
        prefix, ids, mask = layout_batch(
            rows, pad_id=pad, device=self.device, share_prefix=self.share_prefix
        )
        seeds = seeds if seeds is not None else [self.seed + i for i in range(len(prompts))]
        max_new = max_new_tokens or self.max_new_tokens
        spec = DecodeSpec(self.eos_ids, pad, self.temperature, self.top_p, *self._model_kw)
        new, lps, steps = decode_batch(self.model, spec, prefix, ids, mask, seeds, max_new=max_new)
        gens = [self._finish_row(new[i], lps[i], len(r)) for i, r in enumerate(rows)]
        st = self.stats
        st.calls += 1
        st.rows += len(prompts)
        st.prompt_tokens += sum(len(r) for r in rows)
        st.new_tokens += sum(len(g.token_ids) for g in gens)
        st.decode_steps += steps
        st.seconds += time.perf_counter() - t0
        return gens

    def _finish_row(self, tokens: torch.Tensor, lps: torch.Tensor, n_prompt: int) -> Generation:
        ids = tokens.tolist()
        eos = set(self.eos_ids)
        end = next((i for i, t in enumerate(ids) if t in eos), None)
        keep = len(ids) if end is None else end + 1
        ids = ids[:keep]
        text = str(self.tokenizer.decode(ids, skip_special_tokens=True))
        return Generation(text, ids, lps[:keep].tolist(), n_prompt, end is not None)

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

    def encode(self, trajectories: list[Any], first_rows: Any) -> PolicyBatch:
        """``TrainablePolicy.encode``: one row per dialogue; units are tokens.

        Args:
            trajectories: B finished dialogues (chat rebuilt by
                :func:`~interactcs.policies.hf_sequences.build_sequences`, truncated to
                ``self.max_seq_len`` when set).
            first_rows: (B,) flat turn row of each dialogue's first agent turn.

        Returns:
            ``PolicyBatch`` with tensors ``input_ids``/``attention_mask`` (B, L), ``mask``
            (B, L) float = agent tokens, ``token_turn`` (B, L) = ``first_rows[b]`` + agent
            turn index, -1 elsewhere. All on CPU.
        """
        seq = build_sequences(self.tokenizer, trajectories, max_len=self.max_seq_len)
        rows = torch.as_tensor([int(r) for r in first_rows], dtype=torch.long)[:, None]
        token_turn = torch.where(seq.turn_index >= 0, seq.turn_index + rows, -1)
        tensors = {"input_ids": seq.input_ids, "attention_mask": seq.attention_mask}
        return PolicyBatch(tensors, seq.agent_mask.float(), token_turn)

    def logprobs(self, batch: PolicyBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """``TrainablePolicy.logprobs``: (B, L) token log-probs and entropies, differentiable,
        on the batch's device, at the rollout temperature (1 when greedy)."""
        temp = self.temperature if self.temperature > 0 else 1.0
        lp, ent = self.token_logprobs_and_entropy(
            batch.tensors, temperature=temp, entropy_grad=True
        )
        return lp.to(batch.mask.device), ent.to(batch.mask.device)

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
