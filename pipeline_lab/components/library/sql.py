"""The sql component: a SQL query over input nodes by name (polars' SQL context).

The query's tables are the input nodes. Unless ``inputs`` lists them, they are read from the
query itself: a small tokenizer (string literals, quoted identifiers and comments stay whole)
collects the names that follow ``FROM``, ``JOIN`` and the commas of a ``FROM`` list, minus the
names the query defines with ``WITH``. The graph keeps the names that are nodes, so naming a
table that is not a node costs nothing until the query runs, where it is a clear error.

The same tokenizer spells the aggregate names the aggregate component accepts beyond polars'
SQL (``mean``, ``std``, ``quantile``, ``n_unique``) in polars' SQL, outside literals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import Field, field_validator

from pipeline_lab.components import component
from pipeline_lab.components._base import (
    Component,
    ComponentError,
    ComponentParams,
    NodeInput,
    checking_plans,
)
from pipeline_lab.components._expressions import _short, bind_parameters

if TYPE_CHECKING:
    import polars as pl


class Token(NamedTuple):
    kind: str  # space, comment, string, quoted, word, number, punct
    text: str

    @property
    def keyword(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    @property
    def identifier(self) -> str:
        """The name a word or a quoted identifier stands for."""
        if self.kind == "quoted":
            quote = self.text[0]
            body = (
                self.text[1:-1] if len(self.text) > 1 and self.text[-1] in '"`' else self.text[1:]
            )
            return body.replace(quote * 2, quote)
        return self.text


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    |(?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
    |(?P<string>'(?:[^']|'')*'?)
    |(?P<quoted>"(?:[^"]|"")*"?|`[^`]*`?)
    |(?P<word>[^\W\d]\w*)
    |(?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)
    |(?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)

# Words after which a FROM list ends (at the same parenthesis depth).
_CLAUSE_END = frozenset(
    [
        "WHERE",
        "GROUP",
        "HAVING",
        "ORDER",
        "LIMIT",
        "OFFSET",
        "FETCH",
        "UNION",
        "EXCEPT",
        "INTERSECT",
        "WINDOW",
        "QUALIFY",
        "ON",
        "USING",
        "SELECT",
    ]
)
# Table functions polars' SQL accepts in FROM that read no files.
_SAFE_TABLE_FUNCTIONS = frozenset({"unnest"})


def tokenize(text: str) -> list[Token]:
    """Every token of ``text``, whitespace and comments included (they join back to ``text``)."""
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        tokens.append(Token(kind, match.group()))
    return tokens


def significant(tokens: list[Token]) -> list[Token]:
    return [t for t in tokens if t.kind not in ("space", "comment")]


class QueryTables(NamedTuple):
    tables: tuple[str, ...]  # tables the query reads, in order of appearance
    ctes: frozenset[str]  # names it defines with WITH
    functions: tuple[str, ...]  # table functions it calls (read_csv(...), ...)


def query_tables(query: str) -> QueryTables:
    """The tables, common table expressions and table functions a query names."""
    tokens = significant(tokenize(query))
    tables: list[str] = []
    ctes: set[str] = set()
    functions: list[str] = []
    from_depths: list[int] = []  # parenthesis depths of the FROM lists we are in
    depth = 0
    expect_table = False
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        calls = following is not None and following.text == "("
        if token.text == "(":
            depth += 1
            expect_table = False
            continue
        if token.text == ")":
            depth -= 1
            while from_depths and from_depths[-1] > depth:
                from_depths.pop()
            continue
        keyword = token.keyword
        if expect_table and token.kind in ("word", "quoted") and keyword != "LATERAL":
            expect_table = False
            if calls:
                functions.append(token.identifier)
            else:
                tables.append(token.identifier)
            continue
        if keyword.startswith("READ_") and calls:
            functions.append(token.identifier)
        if keyword == "AS" and calls and i > 0:
            ctes.add(_cte_name(tokens, i))
        if keyword in ("FROM", "JOIN"):
            expect_table = True
            if keyword == "FROM":
                from_depths.append(depth)
        elif token.text == "," and from_depths and from_depths[-1] == depth:
            expect_table = True
        elif keyword in _CLAUSE_END and from_depths and from_depths[-1] == depth:
            from_depths.pop()
    functions = [f for f in functions if f.lower() not in _SAFE_TABLE_FUNCTIONS]
    ctes.discard("")
    named = [t for t in dict.fromkeys(tables) if t not in ctes]
    return QueryTables(tuple(named), frozenset(ctes), tuple(functions))


def _cte_name(tokens: list[Token], as_index: int) -> str:
    """The name before ``AS (`` in ``WITH name AS (...)`` or ``WITH name (a, b) AS (...)``."""
    j = as_index - 1
    if tokens[j].text == ")":
        level = 0
        while j >= 0:
            level += tokens[j].text == ")"
            level -= tokens[j].text == "("
            if level == 0:
                break
            j -= 1
        j -= 1
    if j >= 0 and tokens[j].kind in ("word", "quoted"):
        return tokens[j].identifier
    return ""


# Aggregates users expect that polars' SQL spells differently; still SQL once rewritten.
_AGGREGATE_ALIASES = {"mean": "avg", "std": "stddev", "quantile": "quantile_cont"}


def aggregate_sql(text: str) -> str:
    """``text`` with ``mean(``, ``std(``, ``quantile(`` and ``n_unique(x)`` in polars' SQL names."""
    tokens = tokenize(text)
    out = [t.text for t in tokens]
    real = [i for i, t in enumerate(tokens) if t.kind not in ("space", "comment")]
    for pos, i in enumerate(real):
        word = tokens[i].text.lower() if tokens[i].kind == "word" else ""
        calls = pos + 1 < len(real) and tokens[real[pos + 1]].text == "("
        qualified = pos > 0 and tokens[real[pos - 1]].text == "."
        if not calls or qualified:
            continue
        if word in _AGGREGATE_ALIASES:
            out[i] = _AGGREGATE_ALIASES[word]
        elif word == "n_unique":
            out[i], out[real[pos + 1]] = "count", "(DISTINCT "
    return "".join(out)


class SqlParams(ComponentParams):
    query: str = Field(description="one SELECT; its tables are input nodes, by name")
    inputs: list[str] | None = NodeInput(
        "the nodes the query reads (default: the tables it names)", default=None
    )

    @field_validator("query")
    @classmethod
    def _one_select(cls, query: str) -> str:
        tokens = significant(tokenize(query))
        if not tokens:
            raise ValueError("the query is empty; write a SELECT over the input nodes")
        if tokens[0].keyword not in ("SELECT", "WITH") and tokens[0].text != "(":
            raise ValueError(
                f"the query must be a SELECT (or WITH ... SELECT), not {tokens[0].text!r}"
            )
        ends = [i for i, t in enumerate(tokens) if t.text == ";"]
        if ends and ends[0] != len(tokens) - 1:
            raise ValueError("the query holds more than one statement; write one SELECT")
        functions = query_tables(query).functions
        if functions:
            raise ValueError(
                f"the query calls table function(s) {', '.join(functions)}: the sql component "
                "reads only its input nodes (read files with a source component)"
            )
        return query


@component
class Sql(Component[SqlParams]):
    """A SQL SELECT over the input nodes, each a table named after its node."""

    name = "sql"
    category = "transform"
    description = "A SQL query over the input nodes, each a table named after its node"
    Params = SqlParams

    def input_names(self) -> tuple[str, ...]:
        if self.params.inputs is not None:
            return tuple(dict.fromkeys(self.params.inputs))
        names: list[str] = []
        for table in query_tables(self.params.query).tables:
            # polars matches table names regardless of case; node names are exact.
            names += [table, table.lower()]
        return tuple(n for n in dict.fromkeys(names) if n != self.node)

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        import polars as pl

        query = bind_parameters(
            self.params.query.strip().rstrip(";"),
            param="query",
            component=self.name,
            node=self.node,
        )
        if self.params.inputs is not None:
            missing = [n for n in self.params.inputs if n not in inputs]
            if missing:
                raise ComponentError(
                    f"sql: input node(s) {', '.join(map(repr, missing))} gave no frame",
                    node=self.node,
                    hint=f"available tables: {', '.join(inputs) or 'none'}",
                )
        context = pl.SQLContext(frames=dict(inputs))
        try:
            plan = context.execute(query, eager=False)
            if checking_plans():
                plan.collect_schema()  # resolves every table and column now, not at collect
        except Exception as exc:
            raise self._error(exc, inputs) from None
        return plan

    def _error(self, exc: Exception, inputs: Mapping[str, Any]) -> ComponentError:
        text = str(exc)
        available = ", ".join(inputs) or "none"
        unknown = re.search(r"relation '([^']*)' was not found", text)
        if unknown:
            return ComponentError(
                f"sql: the query reads table '{unknown.group(1)}', which is not an input node "
                f"(available tables: {available})",
                node=self.node,
                hint="tables are the pipeline's nodes named in FROM/JOIN: check the name, "
                "or list the nodes in 'inputs'",
            )
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
        """The query in a SQL context of the input nodes, spelled as the query spells them."""
        query = self.params.query.strip().rstrip(";")
        names = self.params.inputs
        if names is None:
            spelled: dict[str, str] = {}
            for table in query_tables(self.params.query).tables:
                if table != self.node:
                    spelled.setdefault(table.lower(), table)
            names = list(spelled.values())
        frames = ", ".join(f"{name!r}: {name}" for name in dict.fromkeys(names))
        return f"pl.SQLContext(frames={{{frames}}}).execute({query!r}, eager=False)"
