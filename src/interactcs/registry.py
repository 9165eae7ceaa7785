"""One registry pattern for every pluggable family (simulators, judges, policies, estimators,
controllers).

Usage::

    ESTIMATORS = Registry[Callable[..., Any]]("advantage estimator")

    @ESTIMATORS.register("cmpo")
    def cmpo(...): ...

    fn = ESTIMATORS.get("cmpo")        # KeyError listing valid names on a typo
    ESTIMATORS.available()             # sorted names
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> object map that rejects duplicates and lists valid names in its errors."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            self.add(name, obj)
            return obj

        return deco

    def add(self, name: str, obj: T) -> None:
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = obj

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(
                f"unknown {self.kind} {name!r}; available: {', '.join(self.available())}"
            ) from None

    def available(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items
