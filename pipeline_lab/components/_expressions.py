"""User expressions are SQL, parsed by polars (``pl.sql_expr``): never Python ``eval``."""

from __future__ import annotations

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
