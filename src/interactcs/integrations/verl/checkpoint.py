"""Save and restore the λ controllers with verl's checkpoints.

Usage (verl config)::

    trainer.checkpoint_callback_class: interactcs.integrations.verl.checkpoint.LambdaCheckpoint

After verl writes ``<default_local_dir>/global_step_N/``, :meth:`LambdaCheckpoint.on_save`
adds ``interactcs_lambda.json`` there: the controllers' ``state_dict`` (λ, PID integral,
EMA terms, ...) and the step. On resume the ``interactcs_cmpo`` trainer calls
:meth:`LambdaCheckpoint.restore` on the folder verl resumed from, so λ continues where it
stopped instead of restarting at 0. verl's callback API has only ``on_save``; restoring is
the trainer's job.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from verl.trainer.ppo.checkpoint_callback import CheckpointCallback

logger = logging.getLogger(__name__)

LAMBDA_FILE = "interactcs_lambda.json"


class LambdaCheckpoint(CheckpointCallback):
    """Writes and reads ``interactcs_lambda.json`` beside verl's actor checkpoint.

    The trainer passed to the hooks must have a ``controllers`` attribute (a
    :class:`~interactcs.algo.controllers.MultiController`), as the ``interactcs_cmpo``
    trainer does.
    """

    def on_save(
        self,
        trainer: Any,
        global_step: int,
        checkpoint_dir: str,
        async_save: bool = False,
        **kwargs: Any,
    ) -> None:
        """Write the controllers' state into ``checkpoint_dir`` (verl's ``global_step_N``)."""
        controllers = getattr(trainer, "controllers", None)
        if controllers is None:
            logger.warning(
                "LambdaCheckpoint: trainer %r has no λ controllers to save", type(trainer).__name__
            )
            return
        path = Path(checkpoint_dir) / LAMBDA_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {"global_step": int(global_step), "controllers": controllers.state_dict()}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(path)  # atomic: a crash never leaves half a file

    def restore(self, trainer: Any, checkpoint_dir: str | Path) -> bool:
        """Load the controllers' state saved in ``checkpoint_dir``.

        Returns:
            True when a state was loaded; False (with a warning) when the folder has none,
            e.g. a checkpoint written without this callback: λ then starts from its initial
            value.
        """
        path = Path(checkpoint_dir) / LAMBDA_FILE
        if not path.is_file():
            logger.warning("no %s in %s: λ controllers start fresh", LAMBDA_FILE, checkpoint_dir)
            return False
        state = json.loads(path.read_text())
        trainer.controllers.load_state_dict(state["controllers"])
        return True
