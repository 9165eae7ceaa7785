"""One error path for mistakes a user can fix: a short message on stderr and exit status 2.

A mistake (a missing file, an unknown policy, a bad config value) prints at most
:data:`MAX_LINES` lines saying what is wrong, where, and how to fix it; ``interactcs --debug``
or ``INTERACTCS_DEBUG=1`` shows the full traceback instead. Anything else (a bug) keeps its
traceback.

Usage in a command::

    from interactcs.cli.errors import UserError, check_policy, removed_if_empty

    check_policy(agent, "--agent")               # cheap: builds nothing
    with removed_if_empty(out):                  # a failed run leaves no empty folder
        ...
    raise UserError("--n must be >= 0 (got -3)")

:func:`~interactcs.cli.main.main` catches :class:`UserError` and the project's input errors
(:data:`INPUT_ERRORS`) and calls :func:`report`.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: environment variable that, set to 1, shows tracebacks (same as ``interactcs --debug``)
DEBUG_ENV = "INTERACTCS_DEBUG"
#: most lines an error message may take on the console
MAX_LINES = 4
#: exit status of a usage error (click's own for bad options)
EXIT_USAGE = 2

#: (module, class) of the project's exceptions that mean "the input is wrong"; each message
#: already names the file or field. Checked through ``sys.modules``: a class whose module was
#: never imported cannot have been raised, so nothing is imported to test for it.
INPUT_ERRORS = (
    ("interactcs.scenarios.errors", "ScenarioLoadError"),
    ("interactcs.packs.loader", "PackError"),
    ("interactcs.train.config", "ConfigError"),
    ("interactcs.train.checkpoint", "RunExistsError"),
    ("interactcs.eval.harness", "ResumeError"),
    ("interactcs.models", "ModelNotAvailable"),
)

_debug = False


class UserError(Exception):
    """A mistake in the command line or its input files; the message says what, where and
    how to fix it (one or two lines)."""


def set_debug(on: bool) -> None:
    """Turn tracebacks on (``interactcs --debug``) or off for this process."""
    global _debug
    _debug = on


def debug_enabled() -> bool:
    """``--debug`` was given or ``INTERACTCS_DEBUG`` is set to a true value."""
    return _debug or os.environ.get(DEBUG_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a :class:`UserError` or one of :data:`INPUT_ERRORS`."""
    if isinstance(exc, UserError):
        return True
    for module, name in INPUT_ERRORS:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and isinstance(exc, cls):
            return True
    return False


def message_lines(exc: BaseException) -> list[str]:
    """The console lines of ``exc``: ``error: <message>``, cut to :data:`MAX_LINES`."""
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    lines = [ln.rstrip() for ln in text.strip().splitlines() if ln.strip()] or [type(exc).__name__]
    if len(lines) > MAX_LINES:
        more = len(lines) - (MAX_LINES - 1)
        lines = [*lines[: MAX_LINES - 1], f"(+{more} more lines: rerun with --debug)"]
    lines[0] = f"error: {lines[0]}"
    return lines


def report(exc: BaseException) -> int:
    """Print ``exc`` as a short error on stderr; returns the exit status (2)."""
    print("\n".join(message_lines(exc)), file=sys.stderr)
    return EXIT_USAGE


@contextmanager
def removed_if_empty(out: Path) -> Iterator[None]:
    """Remove ``out`` when the body fails, this call created it, and no file in it holds
    data, so a run that fails before its first result leaves no empty folder behind."""
    existed = out.exists()
    try:
        yield
    except BaseException:
        if not existed and out.is_dir() and not _holds_data(out):
            shutil.rmtree(out, ignore_errors=True)
        raise


def _holds_data(folder: Path) -> bool:
    return any(p.is_file() and p.stat().st_size > 0 for p in folder.rglob("*"))


def _known(registry: Any, providers: dict[str, str]) -> list[str]:
    return sorted(set(registry.available()) | set(providers))


def check_policy(spec: str, option: str = "--policy") -> None:
    """Raise :class:`UserError` when ``spec`` names no policy (see
    :func:`interactcs.policies.factory.make_policy`); builds nothing, loads no model."""
    from interactcs.models import NAMED_MODELS
    from interactcs.policies import factory
    from interactcs.policies.base import POLICIES

    path = Path(spec)
    if path.is_dir() and (path / "config.yaml").exists():
        from interactcs.train.checkpoint import latest_checkpoint

        if latest_checkpoint(path) is None:
            raise UserError(
                f"{option} {spec}: this training run has no checkpoint yet; wait for its "
                "first checkpoint or finish it with `interactcs train --resume --out RUN_DIR`"
            )
        return
    if spec in NAMED_MODELS or spec.endswith(".gguf"):
        return
    name, _, arg = spec.partition(":")
    if name == "hf" and arg.startswith((".", "/", "~")) and not Path(arg).expanduser().exists():
        raise UserError(f"{option} {spec}: no such model folder {arg}")
    known = _known(POLICIES, factory._PROVIDERS)
    if name not in known:
        hint = " (a folder without config.yaml is no training run)" if path.is_dir() else ""
        forms = [{"api": "api:MODEL", "hf": "hf:PATH"}.get(k, k) for k in known]
        raise UserError(
            f"{option} {spec}: unknown policy{hint}\n"
            f"choose one of {', '.join([*forms, *NAMED_MODELS])} or a training run folder"
        )
    if name in ("api", "hf") and not arg:
        raise UserError(f"{option} {spec}: name the model, e.g. {name}:MODEL")


def check_simulator(spec: str, option: str = "--user") -> None:
    """Raise :class:`UserError` when ``spec`` names no user simulator (builds nothing)."""
    from interactcs.users import factory
    from interactcs.users.base import SIMULATORS

    name, _, arg = spec.partition(":")
    known = _known(SIMULATORS, factory._PROVIDERS)
    if name not in known:
        raise UserError(
            f"{option} {spec}: unknown user simulator; choose one of {', '.join(known)}"
        )
    if name == "llm" and not arg:
        raise UserError(f"{option} {spec}: name the model, e.g. llm:Qwen2.5-32B-Instruct")


def check_choice(value: str, choices: list[str], option: str, what: str) -> None:
    """Raise :class:`UserError` unless the family of ``value`` (before ``:``) is in ``choices``."""
    name, _, arg = value.partition(":")
    if name not in choices:
        raise UserError(f"{option} {value}: unknown {what}; choose one of {', '.join(choices)}")
    if name == "llm" and not arg:
        raise UserError(f"{option} {value}: name the model, e.g. llm:Qwen2.5-72B-Instruct")


def check_base_url(specs: list[tuple[str, str]], base_url: str | None) -> None:
    """Raise :class:`UserError` when an ``api:``/``llm:`` spec has no endpoint: ``specs``
    holds (option, value) pairs such as ``("--policy", "api:gpt-4.1")``; ``OPENAI_BASE_URL``
    counts as an endpoint."""
    if base_url or os.environ.get("OPENAI_BASE_URL"):
        return
    for option, spec in specs:
        if spec.partition(":")[0] in ("api", "llm"):
            raise UserError(
                f"{option} {spec} needs an endpoint: pass --base-url URL "
                "(e.g. http://127.0.0.1:8000/v1) or set OPENAI_BASE_URL"
            )
