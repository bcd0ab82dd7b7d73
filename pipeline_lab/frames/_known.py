"""A polars LazyFrame that knows its schema (imported only once polars is in use)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl


class LazyFrame(pl.LazyFrame):
    """A polars LazyFrame whose schema is known: ``collect_schema()`` answers at once.

    Named like its base, which it is to every reader: type names show in run summaries.

    polars resolves a plan's schema by walking the whole plan, and remembers it only on the
    LazyFrame object that asked; so asking each new plan of a growing chain costs time in
    proportion to its depth. A component's build computes its output schema cheaply (see
    ``Component.build``) and hands it on with the plan. Frames that polars derives from this
    one (``filter``, ``join``, ...) are built with ``cls._from_pyldf`` and know no schema:
    they resolve it as polars does. The schema survives ``clone()`` and pickling.
    """

    _known: pl.Schema | None = None

    @classmethod
    def of(cls, plan: pl.LazyFrame, schema: Mapping[str, Any]) -> LazyFrame:
        frame = cls._from_pyldf(plan._ldf)
        assert isinstance(frame, LazyFrame)
        frame._known = schema if isinstance(schema, pl.Schema) else pl.Schema(schema)
        return frame

    def collect_schema(self) -> pl.Schema:
        if self._known is not None:
            return self._known
        return super().collect_schema()

    def clone(self) -> pl.LazyFrame:
        copy = super().clone()
        return copy if self._known is None else LazyFrame.of(copy, self._known)

    def __getstate__(self) -> Any:
        return super().__getstate__(), self._known

    def __setstate__(self, state: Any) -> None:
        plan, self._known = state
        super().__setstate__(plan)


def with_schema(plan: pl.LazyFrame, schema: Mapping[str, Any]) -> pl.LazyFrame:
    return LazyFrame.of(plan, schema)
