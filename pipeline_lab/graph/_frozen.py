"""A read-only mapping that is equal and hashable by value: a node's component parameters."""

from __future__ import annotations

import copy
from collections.abc import Hashable, Iterator, Mapping
from typing import Any

_IMMUTABLE = (str, int, float, complex, bool, bytes, type(None))


class FrozenMapping(Mapping[str, Any]):
    """A mapping that owns a deep copy of its values and never changes.

    Reading a nested list or dict gives a fresh copy, so changing what was read never changes
    the mapping (``node.params["by"].append("x")`` leaves the node as it was). Equal to any
    mapping with the same items, and hashable over a canonical form of its values, so a
    :class:`~pipeline_lab.graph.Node` can be a set member or a dict key.
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = copy.deepcopy(dict(data or {}))
        self._hash: int | None = None

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        return value if isinstance(value, _IMMUTABLE) else copy.deepcopy(value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMapping):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(_canonical(self._data))
        return self._hash

    def __repr__(self) -> str:
        return repr(self._data)

    # Immutable: copies may share it, and pickling sends the plain values.
    def __copy__(self) -> FrozenMapping:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenMapping:
        return self

    def __reduce__(self) -> tuple[type[FrozenMapping], tuple[dict[str, Any]]]:
        return FrozenMapping, (self._data,)


def _canonical(value: Any) -> Hashable:
    """A hashable stand-in for ``value``; values that are ``==`` get equal stand-ins."""
    if isinstance(value, Mapping):
        return ("mapping", frozenset((key, _canonical(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return ("sequence", tuple(_canonical(item) for item in value))
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(_canonical(item) for item in value))
    try:
        hash(value)
    except TypeError:
        # Any constant keeps "equal values hash equal"; such values only collide.
        return ("unhashable",)
    return value
