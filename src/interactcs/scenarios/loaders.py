"""Load scenarios from a built-in scene, a release-layout parquet or a JSONL file.

Usage::

    load_scenarios("hard")                                # 256 generated rows, seed 0
    load_scenarios("easy", n=1024, seed=3)
    load_scenarios("../shared/fds/hard_train.parquet")    # the authors' release layout
    load_scenarios("runs/scenarios.jsonl", n=10)          # one Scenario.model_dump() per line
    load_scenarios("packs/returns", n=512, seed=1)        # a scenario pack (interactcs.packs)
    save_jsonl(scenarios, "runs/scenarios.jsonl")

Bad input raises :class:`ScenarioLoadError` naming file, row and field, e.g.
``hard.parquet row 17: extra_info.interaction_kwargs.user_profile.category_info.category_key:
expected '1'..'5', got '9'``. Parquet rows are 0-based (the row index, as in scenario ids);
JSONL lines are 1-based (as an editor shows them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from .errors import RowError, ScenarioLoadError
from .generator import CATEGORY_BLOCK, generate_scene
from .release import release_row_to_scenario
from .schema import Scenario

__all__ = ["ScenarioLoadError", "infer_scene", "load_scenarios", "save_jsonl"]

BUILTIN_SCENES = tuple(CATEGORY_BLOCK)
DEFAULT_BUILTIN_ROWS = 256


def infer_scene(path: str | Path) -> str | None:
    """``"hard"``/``"easy"`` when the file name contains that word (e.g. ``hard_train``)."""
    words = set(re.split(r"[^a-z]+", Path(path).stem.lower()))
    found = [s for s in BUILTIN_SCENES if s in words]
    return found[0] if len(found) == 1 else None


def load_scenarios(
    source: str | Path, *, n: int | None = None, seed: int = 0, scene: str | None = None
) -> list[Scenario]:
    """Load scenarios.

    Args:
        source: ``"hard"`` / ``"easy"`` (generated from the built-in bank), a scenario pack
            (``packs/<name>`` or a folder with ``pack.yaml``), or a path to a ``.parquet``
            (release layout) or ``.jsonl`` file.
        n: built-in scenes: rows to generate (default 256); files: keep the first ``n`` rows.
        seed: generator seed for built-in scenes (files ignore it).
        scene: label stored in ``Scenario.scene``; for files the default is the row's own
            label, else one inferred from the file name (:func:`infer_scene`).

    Raises:
        ScenarioLoadError: unknown source, unreadable file, or a bad row.
    """
    if n is not None and n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if isinstance(source, str) and source in BUILTIN_SCENES:
        rows = DEFAULT_BUILTIN_ROWS if n is None else n
        out = generate_scene(source, n=rows, seed=seed)
        return out if scene is None else [s.model_copy(update={"scene": scene}) for s in out]
    pack = _pack_scenarios(source, n, seed, scene)
    if pack is not None:
        return pack
    path = Path(source)
    kinds = f"expected {' / '.join(BUILTIN_SCENES)}, a pack folder, a .parquet or a .jsonl path"
    if path.suffix not in (".parquet", ".jsonl"):
        raise ScenarioLoadError(f"{source}: unknown scenario source; {kinds}", path=path)
    if not path.is_file():
        raise ScenarioLoadError(f"{path}: no such file ({kinds})", path=path)
    if path.suffix == ".parquet":
        return _load_parquet(path, n, scene)
    return _load_jsonl(path, n, scene)


def _pack_scenarios(
    source: str | Path, n: int | None, seed: int, scene: str | None
) -> list[Scenario] | None:
    """Scenarios generated from a scenario pack, or ``None`` when ``source`` is not a pack.

    ``scene`` picks one of the pack's scenes when it names one; otherwise the pack's default
    scene is generated and ``scene`` is only the label.
    """
    from interactcs.packs import PackError, is_pack_source, load_pack
    from interactcs.packs.generate import generate_pack_scenarios

    if not is_pack_source(source):
        return None
    try:
        pack = load_pack(source)
    except PackError as exc:
        raise ScenarioLoadError(str(exc), path=exc.path, field=exc.field) from None
    rows = DEFAULT_BUILTIN_ROWS if n is None else n
    pick = scene if scene in pack.spec.scenes else None
    out = generate_pack_scenarios(pack, n=rows, seed=seed, scene=pick)
    if scene is not None and pick is None:
        out = [s.model_copy(update={"scene": scene}) for s in out]
    return out


def _load_parquet(path: Path, n: int | None, scene: str | None) -> list[Scenario]:
    from interactcs.models import require_extra

    require_extra("parquet", f"reading {path.name}")
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise ScenarioLoadError(f"{path}: cannot read parquet: {exc}", path=path) from None
    if n is not None:
        table = table.slice(0, n)
    inferred = infer_scene(path)
    out = []
    for i, row in enumerate(table.to_pylist()):
        try:
            sc = release_row_to_scenario(row, i, scene=scene)
        except RowError as err:
            raise ScenarioLoadError.from_row(path, "row", i, err) from None
        if sc.scene is None:
            sc.scene = inferred
        out.append(sc)
    return out


def _validation_row_error(exc: ValidationError) -> RowError:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"])
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return RowError(field, f"{err['msg']}, got {err.get('input')!r}{more}")


def _load_jsonl(path: Path, n: int | None, scene: str | None) -> list[Scenario]:
    out: list[Scenario] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if n is not None and len(out) >= n:
                break
            if not line.strip():
                continue
            try:
                sc = Scenario.model_validate(json.loads(line))
            except json.JSONDecodeError as exc:
                err = RowError("", f"invalid JSON: {exc.msg} at column {exc.colno}")
                raise ScenarioLoadError.from_row(path, "line", lineno, err) from None
            except ValidationError as exc:
                err = _validation_row_error(exc)
                raise ScenarioLoadError.from_row(path, "line", lineno, err) from None
            if scene is not None:
                sc.scene = scene
            out.append(sc)
    return out


def save_jsonl(scenarios: Iterable[Scenario], path: str | Path) -> Path:
    """Write one ``Scenario.model_dump()`` JSON object per line; parent folders are created."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for sc in scenarios:
            fh.write(sc.model_dump_json() + "\n")
    return out
