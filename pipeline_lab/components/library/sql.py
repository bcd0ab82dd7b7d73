"""The sql component: a SQL query over input nodes by name (polars' SQL context).

The query's tables are the input nodes. Unless ``inputs`` lists them, they are read from the
query's syntax tree, as the SQL policy (``pipeline_lab.sql_policy``) parses it: the plain table names of
its ``FROM`` and ``JOIN`` clauses, minus the tables its ``WITH`` clauses define. The graph
keeps the names that are nodes, so naming a table that is not a node costs nothing until the
query runs, where it is a clear error. The policy refuses, before anything runs and again
when the query is built, a query that is not one SELECT or that reads anything but tables
(``read_csv(...)`` and every other table function, in any spelling or position).

The aggregate component's names beyond polars' SQL (``mean``, ``std``, ``quantile``,
``n_unique``) are spelled in polars' SQL here too, on the same tokens, outside literals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import Field

from pipeline_lab.components import component
from pipeline_lab.components._base import (
    Component,
    ComponentError,
    ComponentParams,
    NodeInput,
    checking_plans,
)
from pipeline_lab.components._expressions import _short, bind_parameters
from pipeline_lab.sql_policy import (
    CheckedSql,
    RefusedSql,
    check_sql_query,
    sql_tokens,
)

if TYPE_CHECKING:
    import polars as pl


class QueryTables(NamedTuple):
    tables: tuple[str, ...]  # tables the query reads, in order of appearance
    ctes: frozenset[str]  # names it defines with WITH


def query_tables(query: str) -> QueryTables:
    """The tables a query reads and the common table expressions it defines.

    Raises :class:`~pipeline_lab.sql_policy.RefusedSql` for a query the SQL
    policy refuses.
    """
    checked = check_sql_query(query)
    return QueryTables(checked.tables, checked.ctes)


# Aggregates users expect that polars' SQL spells differently; still SQL once rewritten.
_AGGREGATE_ALIASES = {"mean": "avg", "std": "stddev", "quantile": "quantile_cont"}


def aggregate_sql(text: str) -> str:
    """``text`` with ``mean(``, ``std(``, ``quantile(`` and ``n_unique(x)`` in polars' SQL names."""
    tokens = sql_tokens(text)
    if tokens is None:  # it does not read as SQL: the policy says so, on the text as given
        return text
    edits: list[tuple[int, int, str]] = []
    for i, token in enumerate(tokens[:-1]):
        word = token.text.lower() if token.token_type.name == "VAR" else ""
        calls = tokens[i + 1].token_type.name == "L_PAREN"
        qualified = i > 0 and tokens[i - 1].token_type.name == "DOT"
        if not calls or qualified:
            continue
        if word in _AGGREGATE_ALIASES:
            edits.append((token.start, token.end + 1, _AGGREGATE_ALIASES[word]))
        elif word == "n_unique":
            paren = tokens[i + 1]
            edits += [
                (token.start, token.end + 1, "count"),
                (paren.start, paren.end + 1, "(DISTINCT "),
            ]
    for start, end, spelled in reversed(edits):
        text = text[:start] + spelled + text[end:]
    return text


class SqlParams(ComponentParams):
    query: str = Field(description="one SELECT; its tables are input nodes, by name")
    inputs: list[str] | None = NodeInput(
        "the nodes the query reads (default: the tables it names)", default=None
    )


@component
class Sql(Component[SqlParams]):
    """A SQL SELECT over the input nodes, each a table named after its node."""

    name = "sql"
    category = "transform"
    description = "A SQL query over the input nodes, each a table named after its node"
    Params = SqlParams

    def check_parameters(self) -> None:
        self._checked(self.params.query)

    def _checked(self, query: str) -> CheckedSql:
        """``query`` as the SQL policy accepts it, or the error that says why not."""
        try:
            return check_sql_query(query)
        except RefusedSql as exc:
            reason = f"is not valid SQL: {exc.reason}" if exc.invalid else exc.reason
            raise ComponentError(
                f"sql: the query {reason}",
                node=self.node,
                hint=exc.hint or "write one SELECT over the input nodes, e.g. SELECT * FROM orders",
            ) from None

    def input_names(self) -> tuple[str, ...]:
        if self.params.inputs is not None:
            return tuple(dict.fromkeys(self.params.inputs))
        names: list[str] = []
        for table in self._checked(self.params.query).tables:
            # polars matches table names regardless of case; node names are exact.
            names += [table, table.lower()]
        return tuple(n for n in dict.fromkeys(names) if n != self.node)

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        import polars as pl

        query = bind_parameters(
            self._checked(self.params.query).text,
            param="query",
            component=self.name,
            node=self.node,
        )
        checked = self._checked(query)  # again: a bound value is a literal, never a table
        if self.params.inputs is not None:
            missing = [n for n in self.params.inputs if n not in inputs]
            if missing:
                raise ComponentError(
                    f"sql: input node(s) {', '.join(map(repr, missing))} gave no frame",
                    node=self.node,
                    hint=f"available tables: {', '.join(inputs) or 'none'}",
                )
        unknown = checked.unknown_tables(inputs)
        if unknown:  # polars would say so too; it is never asked to look further
            raise self._unknown_table(unknown[0], inputs)
        context = pl.SQLContext(frames=dict(inputs))
        try:
            plan = context.execute(checked.text, eager=False)
            if checking_plans():
                plan.collect_schema()  # resolves every table and column now, not at collect
        except Exception as exc:
            raise self._error(exc, inputs) from None
        return plan

    def _unknown_table(self, table: str, inputs: Mapping[str, Any]) -> ComponentError:
        return ComponentError(
            f"sql: the query reads table '{table}', which is not an input node "
            f"(available tables: {', '.join(inputs) or 'none'})",
            node=self.node,
            hint="tables are the pipeline's nodes named in FROM/JOIN: check the name, "
            "or list the nodes in 'inputs'",
        )

    def _error(self, exc: Exception, inputs: Mapping[str, Any]) -> ComponentError:
        text = str(exc)
        available = ", ".join(inputs) or "none"
        unknown = re.search(r"relation '([^']*)' was not found", text)
        if unknown:
            return self._unknown_table(unknown.group(1), inputs)
        if type(exc).__name__.startswith("SQL"):
            return ComponentError(
                f"sql: the query is not valid SQL for polars: {_short(exc)}",
                node=self.node,
                hint=f"write one SELECT over the tables {available}",
            )
        first_line = text.splitlines()[0] if text else type(exc).__name__
        return ComponentError(
            f"sql: the query cannot run on its inputs: {first_line}", node=self.node
        )

    def to_code(self) -> str:
        """The query in a SQL context of the input nodes, spelled as the query spells them.

        The query is the text polars runs: the user's, with its comments blanked.
        """
        checked = self._checked(self.params.query)
        names = self.params.inputs
        if names is None:
            spelled: dict[str, str] = {}
            for table in checked.tables:
                if table != self.node:
                    spelled.setdefault(table.lower(), table)
            names = list(spelled.values())
        frames = ", ".join(f"{name!r}: {name}" for name in dict.fromkeys(names))
        return f"pl.SQLContext(frames={{{frames}}}).execute({checked.text!r}, eager=False)"
