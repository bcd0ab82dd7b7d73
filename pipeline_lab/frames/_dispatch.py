"""Generic frame functions; library-specific versions live in ``_polars`` and ``_pandas``."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from functools import singledispatch
from typing import Any

from pipeline_lab.errors import PipelineLabError

# Top-level module of a value's type -> our module that registers implementations for it.
_LAZY = {"polars": "_polars", "pandas": "_pandas", "pyarrow": "_arrow"}
_loaded: set[str] = set()


def _ensure(value: object) -> None:
    # The whole MRO: a subclass from another package (a GeoDataFrame) is still a pandas frame.
    for cls in type(value).__mro__:
        root = cls.__module__.partition(".")[0]
        if root in _LAZY and root not in _loaded:
            importlib.import_module(f"pipeline_lab.frames.{_LAZY[root]}")
            # Only once registered: another thread must not dispatch before that.
            _loaded.add(root)


@singledispatch
def _shape(value: object) -> tuple[int, int] | None:
    return None


@singledispatch
def _columns(value: object) -> list[str] | None:
    return None


@singledispatch
def _to_polars(value: object) -> Any:
    raise PipelineLabError(
        f"cannot convert a {type(value).__name__} to a polars DataFrame",
        hint="return a polars or pandas DataFrame (or a pyarrow Table) from the node",
    )


@singledispatch
def _to_pandas(value: object) -> Any:
    raise PipelineLabError(
        f"cannot convert a {type(value).__name__} to a pandas DataFrame",
        hint="return a polars or pandas DataFrame (or a pyarrow Table) from the node",
    )


@singledispatch
def _to_lazy(value: object) -> Any:
    return _to_polars(value).lazy()


@singledispatch
def _isolated(value: object) -> Any:
    return value


# Values that are never frames: answered without dispatch (the engine asks about every output).
_PLAIN = frozenset({int, float, str, bytes, bool, type(None), list, dict, tuple, set})


def shape(value: object) -> tuple[int, int] | None:
    """``(rows, columns)`` of a frame, or ``None`` for a value that is not a frame."""
    if type(value) in _PLAIN:
        return None
    _ensure(value)
    return _shape(value)


def columns(value: object) -> list[str] | None:
    """Column names of a frame, or ``None`` for a value that is not a frame."""
    _ensure(value)
    return _columns(value)


def is_frame(value: object) -> bool:
    """Whether ``value`` is a frame (a LazyFrame is one, though its row count is unknown)."""
    return shape(value) is not None or columns(value) is not None


def to_polars(value: object) -> Any:
    """The value as an eager polars DataFrame (pandas goes through Arrow)."""
    _ensure(value)
    return _to_polars(value)


def to_lazy(value: object) -> Any:
    """The value as a polars LazyFrame, without collecting it if it already is one."""
    _ensure(value)
    return _to_lazy(value)


def to_pandas(value: object) -> Any:
    """The value as a pandas DataFrame (polars goes through Arrow)."""
    _ensure(value)
    return _to_pandas(value)


def isolated(value: object) -> Any:
    """``value`` as one consumer may have it without affecting the others that read it.

    A pandas frame is copied (shallowly under copy-on-write, pandas 3's default: cheap, and a
    change in place copies only what it touches); polars frames are cloned (their buffers are
    shared, their column lists are not); a LazyFrame gets its own plan object, so no two
    threads ever touch one plan. Other values are handed on as they are.
    """
    if type(value) in _PLAIN:
        return value
    _ensure(value)
    return _isolated(value)


def with_schema(plan: Any, schema: Mapping[str, Any]) -> Any:
    """The polars LazyFrame ``plan``, answering ``collect_schema()`` with ``schema`` at once.

    For a caller that knows the schema of a plan without resolving it (a component's build);
    the plan is unchanged, and ``isolated`` copies and pickling keep the schema.
    """
    _ensure(plan)
    from pipeline_lab.frames._known import with_schema as known

    return known(plan, schema)
