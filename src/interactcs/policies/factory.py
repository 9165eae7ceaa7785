"""Build a policy from a CLI spec such as ``rule``, ``api:gpt-4.1`` or ``hf:./model``.

Spec grammar: ``NAME[:ARG]``. NAME is a key of :data:`POLICIES`; ARG (everything after
the first colon) is passed to the factory as its first argument. Modules that register
policies are imported lazily here, so ``hf`` does not load transformers unless asked for.
A named local model (``smollm2``) or a ``.gguf`` path means ``hf:`` on it
(:mod:`interactcs.models`). A directory that holds a training run (``config.yaml`` + ``checkpoints/``) is also accepted
and resolved by :mod:`interactcs.train.run_policy` when present.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from interactcs.models import NAMED_MODELS
from interactcs.policies.base import POLICIES, Policy

#: policy name -> module that registers it
_PROVIDERS = {
    "rule": "interactcs.policies.rule",
    "always-voucher": "interactcs.policies.rule",
    "never-voucher": "interactcs.policies.rule",
    "random": "interactcs.policies.rule",
    "api": "interactcs.policies.api",
    "hf": "interactcs.policies.hf",
    "act": "interactcs.policies.act",
}


def make_policy(spec: str, **kwargs: Any) -> Policy:
    """Return the policy named by ``spec`` (see module docstring).

    Raises:
        KeyError: unknown policy name; the message lists the valid ones.
    """
    path = Path(spec)
    if path.is_dir() and (path / "config.yaml").exists():
        run_policy = importlib.import_module("interactcs.train.run_policy")
        return run_policy.load_run_policy(path, **kwargs)
    if spec in NAMED_MODELS or spec.endswith(".gguf"):  # smollm2, x.gguf -> hf:
        spec = f"hf:{spec}"
    name, _, arg = spec.partition(":")
    module = _PROVIDERS.get(name)
    if module is not None and name not in POLICIES:
        importlib.import_module(module)
    if name not in POLICIES:
        known = sorted(set(POLICIES.available()) | set(_PROVIDERS))
        raise KeyError(
            f"unknown policy {spec!r}; choose one of {', '.join(known)} or a run directory"
        )
    factory = POLICIES.get(name)
    return factory(arg or None, **kwargs)
