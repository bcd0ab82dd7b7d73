"""``params``: the read-only view of pipeline parameters that node code sees."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pipeline_lab.graph._validate import did_you_mean


class Params(Mapping[str, Any]):
    """Parameters by attribute (``params.orders_csv``) or key (``params["orders_csv"]``)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            if name.startswith("__"):
                raise AttributeError(name) from None
            hint = (
                did_you_mean(name, self._values)
                or f"parameters: {', '.join(self._values) or 'none'}"
            )
            raise AttributeError(f"the pipeline has no parameter '{name}' ({hint})") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("pipeline parameters are read-only inside a run")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Params({self._values!r})"
