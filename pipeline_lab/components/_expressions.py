"""User expressions are SQL, parsed by polars (``pl.sql_expr``): never Python ``eval``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pipeline_lab.components._base import ComponentError
from pipeline_lab.graph._validate import did_you_mean

if TYPE_CHECKING:
    import polars as pl


def sql_expr(text: str, *, param: str, component: str, node: str | None = None) -> pl.Expr:
    """Parse ``text`` as a SQL expression or raise an error naming the parameter."""
    import polars as pl

    if not isinstance(text, str) or not text.strip():
        raise ComponentError(
            f"{component}: parameter '{param}' must be a SQL expression, got {text!r}", node=node
        )
    try:
        return pl.sql_expr(text)
    except Exception as exc:
        raise ComponentError(
            f"{component}: parameter '{param}' is not a valid SQL expression: {text!r} "
            f"({_short(exc)})",
            node=node,
            hint="write SQL over the input's columns, e.g. \"amount > 10 AND status = 'paid'\"",
        ) from None


TYPED_SQL = "cannot determine the type"
"""polars' message when an expression (DATE_TRUNC, ...) needs its columns' types to parse."""


def quote(identifier: str) -> str:
    """A SQL identifier, double-quoted (for names with spaces, unicode or keywords)."""
    return '"' + identifier.replace('"', '""') + '"'


def sql_select(columns: Iterable[str], name: str, text: str) -> str:
    """``SELECT`` list of ``columns`` with ``name`` set to SQL ``text`` (kept in place or appended)."""
    columns = list(columns)
    items = [f"{text} AS {quote(name)}" if c == name else quote(c) for c in columns]
    if name not in columns:
        items.append(f"{text} AS {quote(name)}")
    return f"SELECT {', '.join(items)} FROM self"


def with_sql_column(
    frame: pl.LazyFrame,
    name: str,
    text: str,
    *,
    param: str,
    component: str,
    node: str | None = None,
    input_name: str | None = None,
) -> tuple[pl.LazyFrame, frozenset[str], bool]:
    """``frame`` with column ``name`` computed by SQL ``text``, the columns it reads, and
    whether it needed the frame's own SQL context.

    Most expressions parse on their own (``pl.sql_expr``). Some need the types of their
    columns (``DATE_TRUNC('month', ts)``): those run through ``frame.sql``, which knows the
    schema. Both are SQL parsed by polars, never Python.
    """
    columns = frame.collect_schema().names()
    try:
        expr = sql_expr(text, param=param, component=component, node=node)
    except ComponentError as exc:
        if TYPED_SQL not in exc.message:
            raise
        reads = frozenset(re.findall(r"[^\W\d]\w*", re.sub(r"'[^']*'", "", text))) & set(columns)
        try:
            out = frame.sql(sql_select(columns, name, text))
            out.collect_schema()
        except Exception as inner:
            raise ComponentError(
                f"{component}: parameter '{param}' ({text!r}) does not fit the input: "
                f"{str(inner).splitlines()[0]}",
                node=node,
                hint=f"columns: {', '.join(columns)}",
            ) from None
        return out, reads, True
    require_columns(
        columns,
        expr.meta.root_names(),
        param=param,
        component=component,
        node=node,
        input_name=input_name,
    )
    return frame.with_columns(expr.alias(name)), frozenset(expr.meta.root_names()), False


def require_columns(
    available: Iterable[str],
    wanted: Iterable[str],
    *,
    param: str,
    component: str,
    node: str | None = None,
    input_name: str | None = None,
) -> None:
    """Raise an error naming the first column of ``wanted`` that ``available`` lacks."""
    available = list(available)
    missing = [c for c in wanted if c not in available]
    if missing:
        source = f" '{input_name}'" if input_name else ""
        hint = did_you_mean(missing[0], available)
        raise ComponentError(
            f"{component}: parameter '{param}' names column(s) {', '.join(map(repr, missing))} "
            f"that the input{source} does not have",
            node=node,
            hint=(hint + " " if hint else "") + f"columns: {', '.join(available)}",
        )


def _short(exc: Exception, limit: int = 160) -> str:
    """polars parser errors can print a whole syntax tree; keep their first words."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    cut = text.find(": ", text.find("unsupported")) if "unsupported" in text else -1
    text = text[:cut] if cut > 0 else text
    return text if len(text) <= limit else text[: limit - 1] + "…"
