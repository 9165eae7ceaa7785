"""The ``interactcs`` command line. Each command lives in its own module under ``cli/`` and
exposes ``register(app)``; this module only assembles them.

Usage::

    interactcs --help
    interactcs simulate --scenarios hard --agent rule --user offline --n 256 --seed 0 --out runs/sim
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup

from interactcs.cli.errors import DEBUG_ENV, debug_enabled, is_user_error, report, set_debug


def _plain_metavar(param: Any) -> None:
    """Help without typer's ``<bool>``/``<list[str]>`` type labels: a flag shows none, a
    repeatable option its name (``--policy POLICY``), unless the option sets a metavar.
    (Typer's vendored click: options are recognised by ``param_type_name``.)"""
    if getattr(param, "param_type_name", "") != "option" or param.metavar is not None:
        return
    if param.is_flag:
        param.metavar = ""
    elif param.multiple:
        param.metavar = max(param.opts, key=len).lstrip("-").upper()


def _plain_metavars(cmd: Any, ctx: Any) -> None:
    """:func:`_plain_metavar` on every option of ``cmd`` and of its subcommands."""
    for param in cmd.get_params(ctx):
        _plain_metavar(param)
    for sub in getattr(cmd, "commands", {}).values():
        _plain_metavars(sub, ctx)


class _Group(TyperGroup):
    """The root command group: the one error path of the CLI (a user mistake prints a
    short message and exits 2, see :mod:`interactcs.cli.errors`), and help without type
    labels on flags."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not is_user_error(exc) or debug_enabled():
                raise
            raise typer.Exit(report(exc)) from None

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is not None:
            _plain_metavars(cmd, ctx)
        return cmd

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)
        for param in params:
            _plain_metavar(param)
        return params


app = typer.Typer(
    name="interactcs",
    cls=_Group,
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
def _root(
    debug: bool = typer.Option(
        False, "--debug", help=f"show the full traceback of an error (or set {DEBUG_ENV}=1)"
    ),
) -> None:
    """interactcs: cost-aware LLM customer-service agents (InteractCS-RL / CMPO)."""
    set_debug(debug)


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: ``app`` on ``argv`` (default ``sys.argv[1:]``). A mistake the
    user can fix (:func:`interactcs.cli.errors.is_user_error`) prints a short message and
    exits with status 2 (in :meth:`_Group.invoke`, so ``CliRunner`` sees the same);
    ``--debug`` / ``INTERACTCS_DEBUG=1`` show its traceback instead."""
    set_debug(False)
    return app(args=argv, prog_name="interactcs")


if __name__ == "__main__":  # pragma: no cover
    main()
