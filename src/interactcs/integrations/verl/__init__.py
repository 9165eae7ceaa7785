"""Scale-out training on verl 0.9.1 (optional extra ``interactcs[verl]``).

Importing this package registers, in the importing process, everything verl looks up by
name:

- the agent loop ``interactcs_fds`` (:mod:`.agent_loop`): one FDS dialogue per sample, the
  project's simulator as the customer, the project's environment applying each action;
- the advantage estimator ``cmpo`` (:mod:`.estimator`): a wrapper over
  :func:`interactcs.algo.advantages.cmpo`;
- the trainer mode ``interactcs_cmpo`` (:mod:`.trainer`): verl's sync PPO trainer plus the
  project's λ controllers, with :class:`.checkpoint.LambdaCheckpoint` saving λ.

Usage::

    interactcs verl prepare-data hard data/fds_hard_train.parquet --n 7680
    python -m interactcs.integrations.verl.runner --config-path "$PWD/examples/verl" \\
        --config-name fds_cmpo data.train_files=data/fds_hard_train.parquet

:mod:`.runner` makes the registrations happen inside verl's Ray processes; see
``docs/verl.md`` for the cluster layout. Without verl installed this package imports
cleanly and registers nothing (:data:`VERL_AVAILABLE` is False); :mod:`.data` and
:mod:`.settings` work without verl.
"""

from __future__ import annotations

import importlib.util

#: the pinned verl release this integration is written against.
VERL_REQUIREMENT = "verl[verl-core]==0.9.1"
INSTALL_HINT = (
    "verl is not installed: pip install 'interactcs[verl]' "
    f"(pins {VERL_REQUIREMENT}; install torch first, e.g. torch==2.13.0 on CPU; "
    "GPU nodes also need vLLM or SGLang)"
)

VERL_AVAILABLE = importlib.util.find_spec("verl") is not None


def require_verl() -> None:
    """Raise ImportError with the install command when verl is missing."""
    if not VERL_AVAILABLE:
        raise ImportError(INSTALL_HINT)


if VERL_AVAILABLE:
    from interactcs.integrations.verl import agent_loop, estimator, trainer  # noqa: F401  (register)
