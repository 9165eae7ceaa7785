"""Find and load what a run / eval / ablation folder holds, for :mod:`interactcs.report.html`.

Looked for (each optional):

- ``summary.json`` (``simulate``), ``results.json`` (``eval``), ``final_eval.json`` and
  ``metrics.jsonl`` (``train``), ``ablation.json`` (``ablate``) in the folder itself;
- ``*.png`` in the folder and one level down;
- ``*trajectories*.jsonl`` in the folder and one level down (one *source* per file, named by
  its sub-folder, or by its stem at the top level; a train run's ``eval_trajectories.jsonl``
  is the source ``held-out eval``).

Malformed JSONL lines are skipped and counted, never fatal: a report of a crashed run is
still useful.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interactcs.types import FormatStatus, Trajectory

#: summary files read from the folder, in display order, with a caption.
SUMMARY_FILES: dict[str, str] = {
    "summary.json": "Simulation summary",
    "results.json": "Evaluation results",
    "final_eval.json": "Final evaluation of the trained policy",
    "ablation.json": "Ablation summary",
}


@dataclass(slots=True)
class JsonlFile:
    """Rows of one JSONL file plus the lines that failed to parse."""

    path: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: int = 0
    first_error: str = ""
    truncated: bool = False  # stopped at the row limit


def read_jsonl(path: Path, *, limit: int | None = None) -> JsonlFile:
    """Parse a JSONL file; blank lines are ignored, bad lines counted. Stops after ``limit``."""
    out = JsonlFile(path)
    with path.open(encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if limit is not None and len(out.rows) >= limit:
                out.truncated = True
                break
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                out.bad_lines += 1
                out.first_error = out.first_error or f"line {n}: {exc.msg}"
                continue
            if isinstance(row, dict):
                out.rows.append(row)
            else:
                out.bad_lines += 1
                out.first_error = out.first_error or f"line {n}: not a JSON object"
    return out


def read_json(path: Path) -> tuple[Any, str]:
    """(parsed JSON, "") or (None, error message)."""
    try:
        return json.loads(path.read_text(encoding="utf-8", errors="replace")), ""
    except json.JSONDecodeError as exc:
        return None, f"{path.name}: invalid JSON at line {exc.lineno}: {exc.msg}"


def find_pngs(root: Path) -> list[Path]:
    """PNGs in ``root`` then one level down, sorted by relative path."""
    return sorted([*root.glob("*.png"), *root.glob("*/*.png")], key=lambda p: p.relative_to(root))


#: source labels of known top-level trajectory files (others are named by their stem).
SOURCE_NAMES: dict[str, str] = {"eval_trajectories": "held-out eval"}


def find_trajectory_files(root: Path) -> list[tuple[str, Path]]:
    """(source label, path) for ``*trajectories*.jsonl`` in ``root`` and one level down."""
    out = []
    for p in sorted(root.glob("*trajectories*.jsonl")):
        out.append((SOURCE_NAMES.get(p.stem, p.stem), p))
    for p in sorted(root.glob("*/*trajectories*.jsonl")):
        label = p.parent.name if p.stem == "trajectories" else f"{p.parent.name}/{p.stem}"
        out.append((label, p))
    return out


def json_safe(x: Any) -> Any:
    """Copy with non-finite floats as ``None`` and unknown objects as strings (strict JSON)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_safe(v) for v in x]
    if x is None or isinstance(x, str | int | bool):
        return x
    return str(x)


def _opt_float(v: Any) -> float | None:
    if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    return None


def slim_turn(t: dict[str, Any]) -> dict[str, Any]:
    """One turn as embedded in the page (short keys; ``raw`` only for malformed turns)."""
    status = str(t.get("status", "ok"))
    d: dict[str, Any] = {
        "u": t.get("user_text") or "",
        "th": t.get("think"),
        "r": t.get("response"),
        "a": t.get("action"),
        "st": status,
        "det": t.get("detail") or "",
        "c": {k: v for k, v in (t.get("costs") or {}).items() if v},
        "rep": t.get("reply"),
        "acts": list(t.get("acts") or []),
        "ps": _opt_float(t.get("process_score")),
        "pd": t.get("process_detail"),
    }
    if status != FormatStatus.OK:
        d["raw"] = t.get("raw") or ""
    return json_safe(d)


def slim_dialogue(d: dict[str, Any], source: str) -> dict[str, Any]:
    """One ``Trajectory.to_dict()`` as embedded in the page (see ``viewer.js`` for the keys)."""
    sat = d.get("satisfaction")
    return json_safe(
        {
            "src": source,
            "sid": str(d.get("scenario_id", "")),
            "cat": d.get("category"),
            "need": d.get("need"),
            "cmp": d.get("complaint") or "",
            "open": d.get("opening") or "",
            "sat": sat if isinstance(sat, int) and not isinstance(sat, bool) else None,
            "end": str(d.get("end_reason") or ""),
            "term": bool(d.get("terminated")),
            "trunc": bool(d.get("truncated")),
            "v": bool(d.get("voucher_issued")),
            "fails": d.get("failures") or [],
            "agent": d.get("agent") or "",
            "user": d.get("user_sim") or "",
            "scene": d.get("scene"),
            "seed": d.get("seed"),
            "group": d.get("group"),
            "rc": bool(d.get("rc_tag")),
            "scores": d.get("dialogue_scores") or {},
            "turns": [slim_turn(t) for t in d.get("turns") or [] if isinstance(t, dict)],
        }
    )


def source_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Table-1 style numbers computed from raw trajectory dicts of one source.

    The numbers are :func:`interactcs.rollout.metrics.headline`'s (means over scored
    dialogues; lost dialogues counted per kind); a record that does not parse as a
    trajectory is counted in ``unreadable`` and left out.

    Returns:
        ``dialogues``, ``scored``, ``sat_mean``, ``v_rate``, ``finish_rate``, ``turns_mean``,
        ``process_mean`` (over judged turns), ``lost``, ``lost_<kind>``, ``unreadable``,
        ``end_reasons`` (counts). Rates are fractions; means are None without data.
    """
    from interactcs.rollout.metrics import headline

    trajs: list[Trajectory] = []
    for r in rows:
        try:
            trajs.append(Trajectory.from_dict(r))
        except (TypeError, ValueError, KeyError):
            pass
    h = headline(trajs)

    def num(key: str) -> float | None:
        v = h[key]
        return None if v != v else float(v)  # NaN (no scored dialogue) -> None

    ps = [
        float(t.process_score)
        for tr in trajs
        if tr.lost is None
        for t in tr.turns
        if _opt_float(t.process_score) is not None
    ]
    return {
        "dialogues": len(rows),
        "scored": h["scored"],
        "sat_mean": num("satisfaction_mean"),
        "v_rate": num("voucher_rate"),
        "finish_rate": num("finish_rate"),
        "turns_mean": num("turns_mean"),
        "process_mean": sum(ps) / len(ps) if ps else None,
        **{k: h[k] for k in ("lost", "lost_simulator", "lost_agent", "lost_judge")},
        "unreadable": len(rows) - len(trajs),
        "end_reasons": dict(Counter(str(r.get("end_reason") or "?") for r in rows).most_common()),
    }
