"""One registry shape for everything pluggable: components, connectors, executors, alert sinks."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar, overload

from pipeline_lab.errors import PipelineLabError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named items of one kind: built-ins first, then the ``entry_point_group`` plug-ins."""

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._items: dict[str, T] = {}
        self._entry_points_loaded = entry_point_group is None

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...

    @overload
    def register(self, name: str, item: T) -> T: ...

    def register(self, name: str, item: T | None = None) -> Callable[[T], T] | T:
        """Register ``item`` under ``name``; without ``item``, return a decorator."""
        if item is None:

            def decorator(obj: T) -> T:
                self._items[name] = obj
                return obj

            return decorator
        self._items[name] = item
        return item

    def get(self, name: str) -> T:
        self._load_entry_points()
        try:
            return self._items[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._items, n=3)
            hint = f"did you mean {', '.join(map(repr, close))}?" if close else None
            known = ", ".join(sorted(self._items)) or "none"
            raise PipelineLabError(
                f"unknown {self.kind} {name!r}; known: {known}", hint=hint
            ) from None

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        self._load_entry_points()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        self.load_entry_points(self.entry_point_group or "")

    def load_entry_points(self, group: str) -> None:
        """Add the plug-ins other packages declare under ``group``; built-ins keep their names."""
        from importlib.metadata import entry_points

        for ep in entry_points(group=group):
            if ep.name not in self._items:
                self._items[ep.name] = ep.load()
