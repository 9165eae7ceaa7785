"""Read anonymised customer-service dialogue logs (JSONL) and mask them.

Layout: one dialogue per line, a JSON object with

- ``dialogue_id`` (string or integer, unique in the file);
- ``turns``: a non-empty list of ``{"role": "customer" | "agent", "text": "..."}``, in the
  order spoken, with at least one customer turn and no empty text;
- ``meta`` (optional object): anything else you keep with a dialogue (channel, complaint
  type, date). It is carried along but never sent to a model.

No other keys are accepted (put extra fields under ``meta``), so a typo such as ``"turn"``
fails loudly instead of silently dropping data. Blank lines are skipped. Example line::

    {"dialogue_id": "d-001", "turns": [{"role": "customer", "text": "My soup arrived cold."},
     {"role": "agent", "text": "Sorry to hear that. Could you send a photo?"}],
     "meta": {"channel": "app"}}

Usage::

    dialogues = load_logs("logs.jsonl")            # raises LogFormatError listing bad lines
    masked, counts = mask_dialogues(dialogues)      # PII replaced by [PHONE], [EMAIL], ...
    masked[0].transcript()                          # "Customer: ...\\nAgent: ..."
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interactcs.personas.pii import DEFAULT_KINDS, mask_pii
from interactcs.scenarios.errors import RowError

__all__ = [
    "ROLES",
    "Dialogue",
    "LineError",
    "LogFormatError",
    "LogTurn",
    "load_logs",
    "mask_dialogues",
    "parse_dialogue",
]

ROLES: tuple[str, ...] = ("customer", "agent")
_KEYS = frozenset({"dialogue_id", "turns", "meta"})
_SPEAKER = {"customer": "Customer", "agent": "Agent"}
_MAX_SHOWN = 20


@dataclass(frozen=True, slots=True)
class LogTurn:
    """One message of a logged dialogue."""

    role: str
    text: str


@dataclass(frozen=True, slots=True)
class Dialogue:
    """One logged dialogue (see the module docstring for the JSONL layout)."""

    dialogue_id: str
    turns: tuple[LogTurn, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def transcript(self) -> str:
        """The turns as ``Customer: ...`` / ``Agent: ...`` lines."""
        return "\n".join(f"{_SPEAKER[t.role]}: {t.text}" for t in self.turns)


@dataclass(frozen=True, slots=True)
class LineError:
    """One rejected line: file, 1-based line number, dotted field path, what was wrong."""

    path: Path
    line: int
    field: str
    detail: str

    def __str__(self) -> str:
        where = f"{self.path} line {self.line}"
        return f"{where}: {self.field}: {self.detail}" if self.field else f"{where}: {self.detail}"


class LogFormatError(ValueError):
    """A log file has bad lines; ``errors`` lists every one (the message shows the first 20)."""

    def __init__(self, errors: list[LineError]) -> None:
        shown = "\n".join(f"  {e}" for e in errors[:_MAX_SHOWN])
        more = f"\n  ... and {len(errors) - _MAX_SHOWN} more" if len(errors) > _MAX_SHOWN else ""
        super().__init__(f"{len(errors)} bad line(s) in dialogue logs:\n{shown}{more}")
        self.errors = errors


def _turn(raw: Any, i: int) -> LogTurn:
    where = f"turns[{i}]"
    if not isinstance(raw, dict):
        raise RowError(where, f"expected an object with role and text, got {type(raw).__name__}")
    extra = sorted(set(raw) - {"role", "text"})
    if extra:
        raise RowError(f"{where}.{extra[0]}", "unknown key; a turn has only role and text")
    role, text = raw.get("role"), raw.get("text")
    if role not in ROLES:
        raise RowError(f"{where}.role", f"expected 'customer' or 'agent', got {role!r}")
    if not isinstance(text, str) or not text.strip():
        raise RowError(f"{where}.text", f"expected a non-empty string, got {text!r}")
    return LogTurn(role, text.strip())


def parse_dialogue(obj: Any) -> Dialogue:
    """Validate one decoded JSONL line.

    Raises:
        RowError: naming the first bad field (``dialogue_id``, ``turns[3].role``, ...).
    """
    if not isinstance(obj, dict):
        raise RowError("", f"expected a JSON object, got {type(obj).__name__}")
    extra = sorted(set(obj) - _KEYS)
    if extra:
        raise RowError(extra[0], "unknown key; put extra fields under 'meta'")
    did = obj.get("dialogue_id")
    if isinstance(did, bool) or not isinstance(did, str | int) or not str(did).strip():
        raise RowError("dialogue_id", f"expected a non-empty string or integer, got {did!r}")
    turns = obj.get("turns")
    if not isinstance(turns, list) or not turns:
        raise RowError("turns", f"expected a non-empty list of turns, got {turns!r}"[:200])
    parsed = tuple(_turn(t, i) for i, t in enumerate(turns))
    if not any(t.role == "customer" for t in parsed):
        raise RowError("turns", "no customer turn; there is nobody to describe")
    meta = obj.get("meta", {})
    if not isinstance(meta, dict):
        raise RowError("meta", f"expected an object, got {type(meta).__name__}")
    return Dialogue(str(did).strip(), parsed, meta)


def load_logs(path: str | Path, *, limit: int | None = None) -> list[Dialogue]:
    """Read a JSONL dialogue log, checking every line.

    Args:
        path: the ``.jsonl`` file.
        limit: keep only the first ``limit`` dialogues (all lines are still checked).

    Returns:
        The dialogues in file order.

    Raises:
        FileNotFoundError: no such file.
        LogFormatError: at least one bad line (invalid JSON, missing or wrong field, unknown
            key, duplicate ``dialogue_id``) or no dialogue at all; lists every bad line.
    """
    p = Path(path)
    out: list[Dialogue] = []
    errors: list[LineError] = []
    seen: dict[str, int] = {}
    with p.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                d = parse_dialogue(json.loads(line))
            except json.JSONDecodeError as exc:
                errors.append(
                    LineError(p, lineno, "", f"invalid JSON: {exc.msg} at column {exc.colno}")
                )
                continue
            except RowError as exc:
                errors.append(LineError(p, lineno, exc.field, exc.detail))
                continue
            if d.dialogue_id in seen:
                detail = f"duplicate {d.dialogue_id!r} (first on line {seen[d.dialogue_id]})"
                errors.append(LineError(p, lineno, "dialogue_id", detail))
                continue
            seen[d.dialogue_id] = lineno
            out.append(d)
    if not errors and not out:
        errors.append(LineError(p, 0, "", "no dialogues in the file"))
    if errors:
        raise LogFormatError(errors)
    return out[:limit] if limit is not None else out


def mask_dialogues(
    dialogues: Iterable[Dialogue], kinds: Iterable[str] = DEFAULT_KINDS
) -> tuple[list[Dialogue], Counter[str]]:
    """Mask PII in every turn (see :func:`~interactcs.personas.pii.mask_pii`).

    ``dialogue_id`` and ``meta`` are left as they are: neither is sent to a model.

    Returns:
        (masked dialogues in the same order, masked strings per kind over all turns).
    """
    kinds = frozenset(kinds)
    total: Counter[str] = Counter()
    out = []
    for d in dialogues:
        turns = []
        for t in d.turns:
            text, counts = mask_pii(t.text, kinds)
            total.update(counts)
            turns.append(LogTurn(t.role, text))
        out.append(Dialogue(d.dialogue_id, tuple(turns), d.meta))
    return out, total
