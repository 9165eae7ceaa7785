"""The ``interactcs`` command line. Each command lives in its own module under ``cli/`` and
exposes ``register(app)``; this module only assembles them.

Usage::

    interactcs --help
    interactcs simulate --scenarios hard --agent rule --user offline --n 256 --seed 0 --out runs/sim
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="interactcs",
    help="Train and evaluate cost-aware customer-service agents with multi-turn RL (CMPO).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

#: command modules, imported in this order; a missing module is skipped so partial
#: installs still start.
COMMAND_MODULES = [
    "simulate",
    "chat",
    "data",
    "train",
    "sft",
    "eval",
    "ablate",
    "report",
    "personas",
    "verl",
    "tau2",
]


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"interactcs.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"interactcs.cli.{name}":
                continue
            raise
        mod.register(app)


_register_all()


@app.callback()
def _root() -> None:
    """interactcs: cost-aware LLM customer-service agents (InteractCS-RL / CMPO)."""


def main() -> None:
    """Console entry point: ``app`` with short messages for mistakes that need no traceback
    (a model whose package is not installed)."""
    import sys

    from interactcs.models import ModelNotAvailable

    try:
        app()
    except ModelNotAvailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    app()
