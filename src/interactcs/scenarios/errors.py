"""Errors raised while reading scenario files.

A :class:`RowError` is raised by the per-row converters (they know the field, not the file);
the loaders catch it and re-raise a :class:`ScenarioLoadError` that names the file and the row
as well, e.g.::

    hard.parquet row 17: extra_info.interaction_kwargs.user_profile.category_info.category_key:
    expected '1'..'5', got '9'
"""

from __future__ import annotations

from pathlib import Path


class RowError(ValueError):
    """One bad field in one record.

    Attributes:
        field: dotted path of the field from the record's root (``""`` when the whole record
            is bad).
        detail: what was wrong, ideally with the value found.
    """

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}" if field else detail)
        self.field = field
        self.detail = detail


class ScenarioLoadError(ValueError):
    """A scenario source could not be read.

    Attributes:
        path: the file (``None`` when the source was not a file).
        row: 0-based row index for parquet, 1-based line number for JSONL (``None`` when the
            whole file is bad).
        field: dotted field path (``None`` when unknown).
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = None if path is None else Path(path)
        self.row = row
        self.field = field

    @classmethod
    def from_row(cls, path: str | Path, where: str, row: int, err: RowError) -> ScenarioLoadError:
        """Wrap a :class:`RowError`; ``where`` is ``"row"`` (parquet) or ``"line"`` (JSONL)."""
        return cls(f"{path} {where} {row}: {err}", path=path, row=row, field=err.field or None)
