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

Rollouts (:mod:`interactcs.policies.hf_sessions`). One batched decode per ``aact`` call for
all live dialogues. Each dialogue keeps its tokens and KV cache between turns, so a turn
prefills only the customer's new message (not the whole history); a group's shared system
prompt is prefilled once on turn 0. Every turn records the exact token ids consumed and
sampled with their behaviour log-probs in ``Turn.policy_meta`` (``prompt_ids``,
``token_ids``, ``logprobs``); :meth:`HFPolicy.encode` trains on exactly those ids. Each row
samples with its **own** ``torch.Generator`` seeded from (policy seed, scenario id, dialogue
id, turn index), so a dialogue's samples do not depend on its batch-mates up to
floating-point differences of padded matmuls. ``temperature=0`` is greedy. Call
:meth:`HFPolicy.set_seed` between training steps for fresh samples.

Training log-probs (:mod:`interactcs.policies.hf_logprobs`) project only the agent positions
through ``lm_head`` (no (B, L, V) logits); the trainer feeds them in micro-batches under a
token budget. ``hf:PATH`` also takes a ``.gguf`` file or a named local model (``smollm2``,
:mod:`interactcs.models`), converted once to a cached safetensors folder.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import logging
import time
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from interactcs.policies.base import POLICIES, DialogueState, PolicyBatch
from interactcs.policies.hf_common import (
    Generation,
    GenerationStats,
    LoraSpec,
    add_lora,
    dtype_kwarg,
    load_weights,
    resolve_device,
    resolve_dtype,
)
from interactcs.policies.hf_decode import DecodeSpec, decode_batch, layout_batch
from interactcs.policies.hf_logprobs import selected_logprobs
from interactcs.policies.hf_sequences import (
    build_sequences,
    chat_messages,
    has_token_records,
    sequences_from_records,
)
from interactcs.policies.hf_sessions import SessionBook, decode_sessions

log = logging.getLogger(__name__)


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
        share_prefix: in :meth:`generate`, prefill the prompt prefix that all rows share
            once and copy its KV cache to every row.
        trust_remote_code: passed to ``from_pretrained``.
        prompt_style: agent system prompt the rollout builds for it (``full`` or
            ``compact``, :mod:`interactcs.env.prompt`).
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
        prompt_style: str = "full",
    ) -> None:
        from interactcs.models import require_extra, resolve_model

        require_extra("hf", "an hf: policy")
        from transformers import AutoTokenizer

        self.spec_name = str(model_name_or_path)
        self.path = resolve_model(model_name_or_path)
        self.prompt_style = prompt_style
        self.lora_spec: LoraSpec | None = LoraSpec() if lora is True else (lora or None)
        self.name = f"hf:{self.spec_name}"
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
        self.model = self._load_model(base_path, adapter, self.lora_spec, trust_remote_code)
        self.model.eval()
        self.eos_ids = self._eos_ids()
        self.book = SessionBook(self.tokenizer, self._render)

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
        return add_lora(model, lora) if lora is not None else model

    def merge_adapter(self) -> None:
        """Fold the LoRA adapter into the base weights and start a fresh (zero) adapter.

        After a LoRA warm start this makes the warm-started model the base, so the RL
        stage's KL reference is the base with the adapter switched off
        (:meth:`reference_logprobs`) instead of a second copy of the model.
        """
        if not self.is_peft or self.lora_spec is None:
            return
        base = self.model.merge_and_unload()
        self.model = add_lora(base, self.lora_spec)
        self.model.eval()

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
        load_weights(self.model, Path(path), is_peft=self.is_peft, dtype=self.dtype)

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

    def _render(self, messages: list[dict[str, str]], gen: bool) -> str:
        out = self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=gen
        )
        return str(out)

    def _spec(self) -> DecodeSpec:
        pad = self.tokenizer.pad_token_id
        return DecodeSpec(self.eos_ids, pad, self.temperature, self.top_p, *self._model_kw)

    async def aact(self, states: list[DialogueState]) -> list[str]:
        """One raw agent output per state, from one batched, session-cached decode (run in a
        worker thread). Records ``prompt_ids``/``token_ids``/``logprobs`` in
        ``state.extra["turn_meta"]`` (copied into ``Turn.policy_meta`` by the runner)."""
        if not states:
            return []
        return await asyncio.to_thread(self._act, states)

    def _act(self, states: list[DialogueState]) -> list[str]:
        t0 = time.perf_counter()
        rows = [
            self.book.prepare(
                s.dialogue_id, s.turn_index, chat_messages(s.system_prompt, s.messages)
            )
            for s in states
        ]
        seeds = [self.row_seed(s) for s in states]
        try:
            outs: list[Any] = decode_sessions(
                self.model,
                self._spec(),
                rows,
                seeds,
                max_new=self.max_new_tokens,
                device=self.device,
            )
        except Exception as exc:  # noqa: BLE001 - contract: report, do not raise
            log.exception("generation failed")
            self.stats.failures.append(f"{type(exc).__name__}: {exc}")
            outs = [None] * len(rows)
        texts = []
        for state, row, out in zip(states, rows, outs, strict=True):
            if out is None:
                state.extra["policy_failure"] = self.stats.failures[-1]
                texts.append("")
                continue
            texts.append(str(self.tokenizer.decode(out.token_ids, skip_special_tokens=True)))
            state.extra["turn_meta"] = {
                "new_tokens": len(out.token_ids),
                "stopped": out.stopped,
                "prompt_ids": row.prompt_ids,
                "token_ids": out.token_ids,
                "logprobs": [round(x, 6) for x in out.logprobs],
            }
        self.book.commit(rows, outs, texts)
        st = self.stats
        st.calls += 1
        st.rows += len(rows)
        st.prompt_tokens += sum(len(r.pending) for r in rows)
        st.new_tokens += sum(len(o.token_ids) for o in outs if o is not None)
        st.seconds += time.perf_counter() - t0
        return texts

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
    def token_logprobs_and_entropy(
        self, batch: Any, *, temperature: float = 1.0, entropy_grad: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probs and entropies of every token of a padded batch.

        Args:
            batch: mapping or object with ``input_ids`` (B, L) and ``attention_mask`` (B, L).

        Returns:
            ``logprobs`` (B, L): ``[:, t] = log p(input_ids[:, t] | input_ids[:, :t])``, 0 at
            each row's first real token and at padding, with grad; ``entropy`` (B, L).
        """
        ids = _field(batch, "input_ids").to(self.device)
        mask = _field(batch, "attention_mask").to(self.device)
        lp, ent = selected_logprobs(
            self.model, ids, mask, mask.bool(), temperature=temperature, entropy_grad=entropy_grad
        )
        assert ent is not None
        return lp, ent

    def token_logprobs(self, batch: Any, *, temperature: float = 1.0) -> torch.Tensor:
        """``(B, L)`` per-token log-probs (see :meth:`token_logprobs_and_entropy`), with grad."""
        ids = _field(batch, "input_ids").to(self.device)
        mask = _field(batch, "attention_mask").to(self.device)
        lp, _ = selected_logprobs(
            self.model, ids, mask, mask.bool(), temperature=temperature, entropy=False
        )
        return lp

    def encode(self, trajectories: list[Any], first_rows: Any) -> PolicyBatch:
        """``TrainablePolicy.encode``: one row per dialogue; units are tokens.

        Trajectories rolled out by this class carry their token records: the rows are then
        exactly the consumed and sampled ids, and ``tensors["behaviour_logprobs"]`` holds
        the log-prob each sampled token had at sampling (the PPO "old" policy, no
        recomputation). Other trajectories (a teacher's, loaded files) are rendered with the
        chat template and re-tokenised
        (:func:`~interactcs.policies.hf_sequences.build_sequences`).

        Args:
            trajectories: B finished dialogues (truncated to ``self.max_seq_len`` when set).
            first_rows: (B,) flat turn row of each dialogue's first agent turn.

        Returns:
            ``PolicyBatch`` with tensors ``input_ids``/``attention_mask`` (B, L) (right
            padding) [+ ``behaviour_logprobs`` (B, L)], ``mask`` (B, L) float = agent
            tokens, ``token_turn`` (B, L) = ``first_rows[b]`` + agent turn, -1 elsewhere.
        """
        tensors: dict[str, Any] = {}
        if trajectories and all(has_token_records(t) for t in trajectories):
            pad = int(self.tokenizer.pad_token_id)
            seq, old = sequences_from_records(trajectories, pad_id=pad, max_len=self.max_seq_len)
            tensors["behaviour_logprobs"] = old
        else:
            seq = build_sequences(self.tokenizer, trajectories, max_len=self.max_seq_len)
        rows = torch.as_tensor([int(r) for r in first_rows], dtype=torch.long)[:, None]
        token_turn = torch.where(seq.turn_index >= 0, seq.turn_index + rows, -1)
        tensors |= {"input_ids": seq.input_ids, "attention_mask": seq.attention_mask}
        return PolicyBatch(tensors, seq.agent_mask.float(), token_turn)

    def _select_logprobs(
        self, batch: PolicyBatch, *, entropy_grad: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        ids = _field(batch.tensors, "input_ids")
        attn = _field(batch.tensors, "attention_mask")
        width = int(attn.sum(-1).max().item()) if attn.numel() else 0  # right padding: trim
        width = max(width, 1)
        temp = self.temperature if self.temperature > 0 else 1.0
        lp, ent = selected_logprobs(
            self.model,
            ids[:, :width].to(self.device),
            attn[:, :width].to(self.device),
            (batch.mask[:, :width] > 0).to(self.device),
            temperature=temp,
            entropy_grad=entropy_grad,
        )
        assert ent is not None
        pad = batch.mask.size(1) - width
        if pad > 0:
            lp = torch.nn.functional.pad(lp, (0, pad))
            ent = torch.nn.functional.pad(ent, (0, pad))
        return lp.to(batch.mask.device), ent.to(batch.mask.device)

    def logprobs(self, batch: PolicyBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """``TrainablePolicy.logprobs``: (B, L) log-probs and entropies of the agent tokens
        (0 elsewhere), differentiable, at the rollout temperature (1 when greedy)."""
        return self._select_logprobs(batch, entropy_grad=torch.is_grad_enabled())

    @property
    def has_adapter_reference(self) -> bool:
        """Whether :meth:`reference_logprobs` can switch the LoRA adapter off instead of
        keeping a frozen copy of the model."""
        return self.is_peft

    @torch.no_grad()
    def reference_logprobs(self, batch: PolicyBatch) -> torch.Tensor:
        """(B, L) log-probs of the base model (adapter off): the KL reference of a LoRA run
        whose warm start was merged into the base (:meth:`merge_adapter`)."""
        with self.model.disable_adapter():
            return self._select_logprobs(batch, entropy_grad=False)[0]

    def make_critic(self) -> Any:
        """Value head for ``algo=gae`` (token-level PPO), see :class:`HFCritic`."""
        from interactcs.policies.hf_value import HFCritic

        return HFCritic(self)


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
