"""Append-only JSONL logs, flushed line by line so nothing is lost if a run dies.

A run killed mid-write (``kill -9``) can leave a partial last line; :func:`recover_jsonl`
reads what was finished and cuts the partial line off, so a resumed run appends cleanly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from interactcs.types import Trajectory


def _clean(obj: Any) -> Any:
    """Make a value JSON-safe: NaN/inf become None (strict JSON readers reject them)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def dumps(obj: Any) -> str:
    return json.dumps(_clean(obj), ensure_ascii=False)


class JsonlWriter:
    """Opens ``path`` for appending; ``write`` adds one JSON object per line and flushes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a", encoding="utf-8")

    def write(self, obj: Any) -> None:
        if isinstance(obj, Trajectory):
            obj = obj.to_dict()
        self._fh.write(dumps(obj) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read a JSONL file; a truncated last line (crashed writer) is skipped."""
    rows: list[dict[str, Any]] = []
    with Path(path).open(encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break
            raise ValueError(f"{path}: line {i + 1} is not valid JSON") from None
    return rows


def recover_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Rows of an append-only JSONL file, repairing a partial last line left by a killed writer.

    A last line without its newline is kept (and its newline added) when it is a whole JSON
    object, else cut off, so the file ends on a complete line and appending is safe. A missing
    file gives no rows.

    Raises:
        ValueError: a line other than the last is not valid JSON (the file is not ours).
    """
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    body, _, tail = data.rpartition(b"\n")
    rows: list[dict[str, Any]] = []
    for i, line in enumerate(body.split(b"\n")):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise ValueError(f"{path}: line {i + 1} is not valid JSON") from None
    keep = len(data) - len(tail)  # through the last newline
    if tail.strip():
        try:
            rows.append(json.loads(tail))
        except json.JSONDecodeError:  # cut by a kill mid-write: drop it
            with path.open("r+b") as fh:
                fh.truncate(keep)
            return rows
        with path.open("ab") as fh:
            fh.write(b"\n")
    elif tail:
        with path.open("r+b") as fh:
            fh.truncate(keep)
    return rows


def read_trajectories(path: str | Path) -> list[Trajectory]:
    return [Trajectory.from_dict(r) for r in read_jsonl(path)]


def write_json(path: str | Path, obj: Any) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(_clean(obj), indent=2, ensure_ascii=False) + "\n")
