"""Short, readable names for policies and run folders in report tables and figures.

Usage::

    short_labels(["train__hard__cmpo__0__20261203-101500", "train__hard__grpo__0__20261203-102210"])
    # {"train__hard__cmpo__0__20261203-101500": "cmpo",
    #  "train__hard__grpo__0__20261203-102210": "grpo"}

Run folders are named ``kind__part__…__YYYYmmdd-HHMMSS`` (:func:`interactcs.cli.common.
default_run_dir`). A label is shortened by splitting on ``__``, dropping time stamps and a
leading run kind (``train``, ``eval``…), then dropping the parts every name shares; what
remains is joined with `` · ``. A step that would make two labels equal (or one empty) is
skipped, so labels stay distinct; a label longer than ``max_len`` is cut with ``…``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["RUN_KINDS", "short_labels"]

#: leading words of run-folder names dropped from labels.
RUN_KINDS = frozenset({"train", "eval", "simulate", "sim", "ablate", "sft", "run"})

_STAMP = re.compile(
    r"^(?:\d{8}[-_T]?\d{4,6}|\d{4}-\d{2}-\d{2}(?:[T_ -]\d{2}[:-]?\d{2}(?:[:-]?\d{2})?)?"
    r"|\d{10,14})(?:-\d+)?$"
)


def _parts(name: str) -> list[str]:
    parts = [p for p in name.split("__") if p and not _STAMP.match(p)]
    if len(parts) > 1 and parts[0].lower() in RUN_KINDS:
        parts = parts[1:]
    return parts


def _distinct(labels: Sequence[str]) -> bool:
    return all(labels) and len(set(labels)) == len(labels)


def _cut(label: str, max_len: int) -> str:
    return label if len(label) <= max_len else label[: max_len - 1].rstrip(" ·_-") + "…"


def short_labels(names: Sequence[str], *, max_len: int = 24) -> dict[str, str]:
    """Map each name to a short label (see the module docstring); order and duplicates kept.

    Args:
        names: policy labels or run-folder names.
        max_len: longest label in characters (longer ones end in ``…``).

    Returns:
        ``{name: label}``; labels are distinct whenever the names are.
    """
    uniq = list(dict.fromkeys(names))
    best = list(uniq)
    parts = [_parts(n) for n in uniq]
    stripped = [" · ".join(p) for p in parts]
    if _distinct(stripped):
        best = stripped
    if len(uniq) > 1:
        common = set(parts[0]).intersection(*parts[1:])
        kept = [" · ".join(x for x in p if x not in common) for p in parts]
        if _distinct(kept):
            best = kept
    cut = [_cut(b, max_len) for b in best]
    if _distinct(cut):
        best = cut
    return dict(zip(uniq, best, strict=True))
