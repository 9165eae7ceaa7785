"""Tiny, randomly initialised chat models for tests, benchmarks and CPU smoke runs.

Usage::

    from interactcs.policies.tiny import build_tiny_model
    path = build_tiny_model("runs/tiny")          # ~1-2 s on CPU
    policy = HFPolicy(str(path))                  # or AutoModelForCausalLM.from_pretrained(path)

No model can be downloaded in CI, so tests build their own: a byte-level BPE tokenizer
trained with ``tokenizers`` on the project's own text (package data files such as the persona
bank, the agent prompt rendered for a few scenarios when the scenario modules exist, and the
package's Python sources, whose docstrings describe the task in English), a ChatML chat
template, and a Qwen2- or Llama-shaped causal LM with random weights. Everything is written
with ``save_pretrained`` so ``AutoTokenizer`` / ``AutoModelForCausalLM.from_pretrained(out_dir)``
load it like any Hugging Face checkpoint.

The corpus depends on the files present at build time, so two builds from different source
trees may have different vocabularies; a build is deterministic for a given tree and seed.
A build is skipped when ``out_dir`` already holds a model built with the same arguments
(``tiny_build.json``), which makes it cheap to call from a pytest session fixture.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

#: ChatML special tokens. ``<|im_end|>`` is the end-of-turn (and eos) token; pad is separate.
PAD_TOKEN = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
SPECIAL_TOKENS = [PAD_TOKEN, IM_START, IM_END]

#: ChatML template (the Qwen2 family's layout without its default system prompt).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

#: Always part of the corpus so the protocol tags and chat roles get compact tokens.
_SEED_TEXT = """\
system user assistant
<think>The customer says the food arrived cold. I should ask for a photo first.</think>
<response>I'm sorry to hear that. Could you send a photo of the food?</response>
<action>chat</action>
<think>Evidence confirms the fault. A voucher is justified.</think>
<response>Thanks for the photo. I've issued a voucher to your account.</response>
<action>voucher</action>
[Sent Picture: a cold burger in its box] [end:4] [end:2]
"""

_MAX_CORPUS_CHARS = 3_000_000
_BUILD_INFO = "tiny_build.json"


def _package_root() -> Path:
    return Path(__file__).resolve().parents[1]


def _rendered_prompts(n: int = 8) -> Iterator[str]:
    """Agent prompts for a few generated scenarios, when those modules exist (optional)."""
    try:
        from interactcs.env.prompt import agent_system_prompt
        from interactcs.scenarios.generator import generate_scene
    except Exception:  # noqa: BLE001 - other modules may not exist yet / be mid-edit
        return
    try:
        for scenario in generate_scene("hard", n, 0):
            yield agent_system_prompt(scenario)
    except Exception:  # noqa: BLE001
        return


def corpus_texts(extra_dirs: list[Path] | None = None) -> Iterator[str]:
    """Yield the project text the tokenizer is trained on, in a deterministic order.

    Order: protocol seed text, rendered agent prompts (if available), package data files
    (``*.jsonl``, ``*.json``, ``*.txt``, ``*.md``, ``*.yaml``), docs under ``extra_dirs``,
    then the package's ``*.py`` sources. Stops after ~3 M characters.
    """
    yield _SEED_TEXT
    yield from _rendered_prompts()
    root = _package_root()
    data_exts = {".jsonl", ".json", ".txt", ".md", ".yaml"}
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in data_exts)
    for d in extra_dirs or []:
        files += sorted(p for p in Path(d).rglob("*.md") if p.is_file())
    files += sorted(root.rglob("*.py"))
    total = 0
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        total += len(text)
        yield text
        if total > _MAX_CORPUS_CHARS:
            return


def build_tokenizer(vocab_size: int = 2048, *, extra_dirs: list[Path] | None = None) -> Any:
    """Train a byte-level BPE tokenizer on :func:`corpus_texts` and wrap it for ``transformers``.

    Args:
        vocab_size: total vocabulary size including the 256 byte symbols and 3 specials.
        extra_dirs: extra folders whose ``*.md`` files join the corpus.

    Returns:
        A ``PreTrainedTokenizerFast`` with ChatML specials, ``eos = <|im_end|>``,
        ``pad = <|endoftext|>``, left padding and :data:`CHAT_TEMPLATE`.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus_texts(extra_dirs), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=IM_END,
        pad_token=PAD_TOKEN,
        additional_special_tokens=[IM_START],
        padding_side="left",
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def _model_config(
    arch: str, *, vocab_size: int, hidden_size: int, layers: int, heads: int, tok: Any
) -> Any:
    from transformers import LlamaConfig, Qwen2Config

    common: dict[str, Any] = dict(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 4,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=max(1, heads // 2),
        max_position_embeddings=4096,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    if arch == "qwen2":
        return Qwen2Config(**common)
    if arch == "llama":
        return LlamaConfig(**common)
    raise ValueError(f"unknown arch {arch!r}; expected 'qwen2' or 'llama'")


def build_tiny_model(
    out_dir: str | Path,
    *,
    arch: Literal["qwen2", "llama"] = "qwen2",
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    vocab_size: int = 2048,
    seed: int = 0,
) -> Path:
    """Build (or reuse) a tiny random chat model in ``out_dir``.

    Args:
        out_dir: target folder; created if missing.
        arch: ``"qwen2"`` or ``"llama"`` (config class; both are decoder-only causal LMs).
        hidden_size: model width; must be divisible by ``heads``.
        layers: number of decoder layers.
        heads: attention heads (key/value heads = heads // 2, grouped-query attention).
        vocab_size: BPE vocabulary size (the model's embedding size matches the tokenizer).
        seed: seeds the weight initialisation.

    Returns:
        ``out_dir`` as a :class:`Path`; loadable with ``from_pretrained``.
    """
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig

    from interactcs.policies.hf import dtype_kwarg

    if hidden_size % heads:
        raise ValueError(f"hidden_size={hidden_size} must be divisible by heads={heads}")
    out = Path(out_dir)
    args = dict(arch=arch, hidden_size=hidden_size, layers=layers, heads=heads)
    args |= dict(vocab_size=vocab_size, seed=seed)
    info = out / _BUILD_INFO
    if info.is_file() and json.loads(info.read_text()) == args and (out / "config.json").is_file():
        return out
    out.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(vocab_size)
    config = _model_config(
        arch, vocab_size=len(tok), hidden_size=hidden_size, layers=layers, heads=heads, tok=tok
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, **dtype_kwarg(torch.float32))
    model.generation_config = GenerationConfig(
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, do_sample=True
    )
    model.save_pretrained(out)
    tok.save_pretrained(out)
    info.write_text(json.dumps(args))
    return out
