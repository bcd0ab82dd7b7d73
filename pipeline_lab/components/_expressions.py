"""User expressions are SQL, parsed by polars (``pl.sql_expr``): never Python ``eval``.

Every expression passes the SQL policy (``pipeline_lab.sql_policy``) first, once its parameters are bound,
and polars parses the text the policy returns: an expression computes on its input's columns
and never reads a file, a URL or another table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pipeline_lab.components._base import ComponentError, checking_plans
from pipeline_lab.context import current_run
from pipeline_lab.suggest import did_you_mean

if TYPE_CHECKING:
    import polars as pl


_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_QUOTED = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")")


def parameter_references(text: str) -> list[str]:
    """The ``:name`` parameters ``text`` uses (outside quoted strings and identifiers)."""
    parts = _QUOTED.split(text)
    return [m for part in parts[::2] for m in _PARAMETER.findall(part)]


def bind_parameters(text: str, *, param: str, component: str, node: str | None = None) -> str:
    """``text`` with each ``:name`` replaced by the SQL literal of pipeline parameter ``name``.

    The value becomes a quoted SQL literal (a number, a string with quotes doubled, a date),
    parsed by polars like the rest of the expression: it is never code.
    """
    if ":" not in text:
        return text
    values = current_run().params  # the runner sets the run's parameter values
    parts = _QUOTED.split(text)
    for i in range(0, len(parts), 2):

        def literal(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                raise ComponentError(
                    f"{component}: parameter '{param}' uses :{name}, which is not a pipeline "
                    "parameter",
                    node=node,
                    hint=did_you_mean(name, values)
                    or "declare it in the notebook's parameters cell",
                )
            return sql_literal(values[name], name=name, component=component, node=node)

        parts[i] = _PARAMETER.sub(literal, parts[i])
    return "".join(parts)


def sql_literal(value: Any, *, name: str, component: str, node: str | None = None) -> str:
    """``value`` as a SQL literal."""
    import datetime as dt
    import decimal
    import math

    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, decimal.Decimal)) or (
        isinstance(value, float) and math.isfinite(value)
    ):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, dt.datetime):
        return f"CAST('{value.isoformat(sep=' ')}' AS TIMESTAMP)"
    if isinstance(value, dt.date):
        return f"CAST('{value.isoformat()}' AS DATE)"
    raise ComponentError(
        f"{component}: pipeline parameter :{name} is a {type(value).__name__}, which SQL "
        "cannot take as a literal",
        node=node,
        hint="use a number, string, boolean, date or datetime parameter",
    )


_EXPRESSION_HINT = "write SQL over the input's columns, e.g. \"amount > 10 AND status = 'paid'\""


def checked_expression(text: str, *, param: str, component: str, node: str | None = None) -> str:
    """``text`` as polars is to parse it, once the SQL policy accepts it as an expression.

    ``:name`` parameters may still be unbound: they stand for literals.
    """
    from pipeline_lab.sql_policy import RefusedSql, check_sql_expression

    if not isinstance(text, str) or not text.strip():
        raise ComponentError(
            f"{component}: parameter '{param}' must be a SQL expression, got {text!r}", node=node
        )
    try:
        return check_sql_expression(text).text
    except RefusedSql as exc:
        if exc.invalid:
            raise ComponentError(
                f"{component}: parameter '{param}' is not a valid SQL expression: {text!r} "
                f"({exc.reason})",
                node=node,
                hint=exc.hint or _EXPRESSION_HINT,
            ) from None
        raise ComponentError(
            f"{component}: parameter '{param}' {exc.reason}", node=node, hint=exc.hint
        ) from None


def sql_expr(text: str, *, param: str, component: str, node: str | None = None) -> pl.Expr:
    """Parse ``text`` as a SQL expression or raise an error naming the parameter.

    ``:name`` stands for pipeline parameter ``name`` (the run context's ``params``).
    """
    import polars as pl

    checked = checked_expression(text, param=param, component=component, node=node)
    if ":" in checked:  # bound, then checked again: a value is a literal, never SQL
        text = bind_parameters(checked, param=param, component=component, node=node)
        checked = checked_expression(text, param=param, component=component, node=node)
    try:
        return pl.sql_expr(checked)
    except Exception as exc:
        raise ComponentError(
            f"{component}: parameter '{param}' is not a valid SQL expression: {text!r} "
            f"({_short(exc)})",
            node=node,
            hint=_EXPRESSION_HINT,
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
    columns: list[str] | None = None,
    param: str,
    component: str,
    node: str | None = None,
    input_name: str | None = None,
) -> tuple[pl.LazyFrame, frozenset[str], bool]:
    """``frame`` with column ``name`` computed by SQL ``text``, the columns it reads, and
    whether it needed the frame's own SQL context.

    Most expressions parse on their own (``pl.sql_expr``). Some need the types of their
    columns (``DATE_TRUNC('month', ts)``): those run through ``frame.sql``, which knows the
    schema. Both are SQL parsed by polars, never Python. ``columns`` are the frame's column
    names, if the caller knows them (else they are resolved).
    """
    from pipeline_lab.sql_policy import check_sql_query

    if columns is None:
        columns = frame.collect_schema().names()
    text = bind_parameters(text, param=param, component=component, node=node)
    try:
        expr = sql_expr(text, param=param, component=component, node=node)
    except ComponentError as exc:
        if TYPED_SQL not in exc.message:
            raise
        checked = checked_expression(text, param=param, component=component, node=node)
        reads = frozenset(re.findall(r"[^\W\d]\w*", re.sub(r"'[^']*'", "", text))) & set(columns)
        try:
            out = frame.sql(check_sql_query(sql_select(columns, name, checked)).text)
            if checking_plans():
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
