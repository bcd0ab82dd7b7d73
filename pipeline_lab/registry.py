"""One registry shape for everything pluggable: components, connectors, executors, alert sinks.

A registry answers the same whatever was imported before: its built-ins (a module that
registers them when imported) and the plug-ins of its entry-point group are loaded once, on
first use, under a lock, so many threads may ask at once (the threads executor does).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar, overload

from pipeline_lab.errors import PipelineLabError
from pipeline_lab.suggest import did_you_mean

T = TypeVar("T")

_changes = 0
"""How many times any registry changed (what depends on registries may cache until then)."""


def generation() -> int:
    """A number that changes whenever an item is registered or removed in any registry."""
    return _changes


def _changed() -> None:
    global _changes
    # Not atomic, but two racing increments still move it past every value read before.
    _changes += 1


class Registry(Generic[T]):
    """Named items of one kind: built-ins first, then the ``entry_point_group`` plug-ins.

    Parameters
    ----------
    kind
        What the items are, for messages (``unknown connector 'x'``).
    entry_point_group
        The entry-point group other packages declare their items in.
    builtins
        Modules that register the built-in items when imported (``pipeline_lab.components.library``).

    Examples
    --------
    >>> EXECUTORS: Registry[ExecutorFactory] = Registry(
    ...     "executor", entry_point_group="pipeline_lab.executors",
    ...     builtins=("pipeline_lab.engine._executors",))
    >>> EXECUTORS.get("threads")
    """

    def __init__(
        self,
        kind: str,
        entry_point_group: str | None = None,
        *,
        builtins: tuple[str, ...] = (),
    ) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self.builtins = builtins
        self._items: dict[str, T] = {}
        self._lock = threading.Lock()
        self._ready = False
        self._loading: threading.Thread | None = None

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...

    @overload
    def register(self, name: str, item: T) -> T: ...

    def register(self, name: str, item: T | None = None) -> Callable[[T], T] | T:
        """Register ``item`` under ``name`` (replacing any); without ``item``, a decorator."""
        if item is None:

            def decorator(obj: T) -> T:
                self._items[name] = obj
                _changed()
                return obj

            return decorator
        # No lock: one dict assignment is atomic, and a module that registers at import must
        # never wait for a thread that is importing modules under the loading lock.
        self._items[name] = item
        _changed()
        return item

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)
        _changed()

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise PipelineLabError(
                f"unknown {self.kind} {name!r}; known: {known}",
                hint=did_you_mean(name, self._items),
            ) from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def _load(self) -> None:
        if self._ready:  # set only once everything is registered: no lock on the hot path
            return
        if self._loading is threading.current_thread():
            return  # a built-in module asks while it registers itself
        with self._lock:
            if self._ready:
                return
            self._loading = threading.current_thread()
            try:
                for module in self.builtins:
                    importlib.import_module(module)
                if self.entry_point_group:
                    self.load_entry_points(self.entry_point_group)
                self._ready = True
            finally:
                self._loading = None

    def reload(self) -> None:
        """Load the entry points again (a package was installed since the first use)."""
        with self._lock:
            self._ready = False
        self._load()

    def load_entry_points(self, group: str) -> None:
        """Add the plug-ins other packages declare under ``group``; built-ins keep their names."""
        from importlib.metadata import entry_points

        for ep in entry_points(group=group):
            if ep.name not in self._items:
                self._items[ep.name] = ep.load()
                _changed()
