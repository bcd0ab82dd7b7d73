"""Which user SQL may reach polars: decided on sqlglot's syntax tree, everything else refused.

polars' SQL reads files and URLs wherever it takes a table (``FROM read_csv('/etc/passwd')``,
``read_parquet('http://...')``), and it reads them while it *plans*: ``pl.sql_expr`` of an
expression holding such a subquery already fetches the file to learn its schema. So every SQL
text a user gives a pipeline (a ``sql`` component's query, a ``filter`` condition, ``derive``
columns, ``aggregate`` expressions, a ``--check``) passes :func:`check_sql_query` or
:func:`check_sql_expression` first, and polars runs the text they return, never the text given.

How it decides, and why so:

* **From the parsed tree, not from tokens.** sqlglot parses the text in a dialect of our own
  in which every call ``f(...)`` stays a call of ``f`` as written: sqlglot otherwise turns
  names it knows into classes of its own (``READ_CSV`` into ``ReadCSV``, ``STDDEV_SAMP`` into
  ``Stddev``), and a check of those would check sqlglot's guess, not the name polars looks up.
* **Deny by default, with allow-lists.** Every node of the tree must be of a type listed here
  and every function one of :data:`FUNCTIONS`, polars' SQL functions that compute on values
  (none reads a file, a URL or a table). We chose allow-lists over a deny-list of readers
  because a deny-list fails open: when polars adds a reader (``read_ndjson`` came after
  ``read_csv``), when sqlglot parses some syntax into a node type nobody listed, or for a
  spelling nobody thought of. An allow-list can only refuse too much, and then its message
  says what to write instead. A value in the tree that is neither a node nor a plain scalar
  is refused too.
* **One text, one reading.** Two tokenizers read some texts differently: polars nests
  ``/* */`` comments and reads ``$$...$$`` strings and ``E'...'`` escapes, sqlglot's default
  dialect does not. A guard that checks one reading while the engine runs the other is
  bypassed by exactly such a text. So polars gets the text rebuilt from the tokens sqlglot
  read: comments blanked, each string and quoted name re-quoted the one way both read alike
  (``'it''s'``, ``"x""y"``), and a quote or ``$`` outside a string refused.

A query may hold ``WITH``, ``UNION``/``INTERSECT``/``EXCEPT`` and subqueries, each part under
the same rules; every ``FROM``/``JOIN`` source must be a plain, unqualified table name (an
input node, or a ``WITH`` table of the query) or ``UNNEST`` of values. An expression holds no
query and no table at all. ``:name`` stands for a pipeline parameter until it is bound to a
literal, and the bound text is checked again.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlglot import exp
from sqlglot import parser as sqlglot_parser
from sqlglot import tokens as sqlglot_tokens
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, TokenError

from pipeline_lab.suggest import did_you_mean


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# polars' SQL functions (2.1) that compute on values. Each name is checked against the
# installed polars by the tests. Left out on purpose: the table functions below, and
# generate_series (a table function too, and the one way to make rows from nothing).
FUNCTIONS = _names(
    """
    abs acos acosd approx_quantile array_agg array_contains array_get array_length array_lower
    array_mean array_reverse array_sum array_to_string array_unique array_upper asin asind atan
    atan2 atan2d atand avg bit_and bit_count bit_length bit_not bit_or bit_xor bitand bitcount
    bitnot bitor bitxor cbrt ceil ceiling char_length character_length coalesce columns concat
    concat_ws corr cos cosd cot cotd count covar covar_pop covar_samp cume_dist current_date
    current_time current_timestamp date date_part date_trunc datetime day dayofmonth dayofweek
    dayofyear degrees dense_rank div ends_with erf exp first first_value floor greatest
    group_concat hour if ifnull initcap lag last last_value lead least left length listagg
    ln localtime localtimestamp log log10 log1p log2 lower lpad ltrim max median min minute mod
    month normalize now nth_value ntile nullif octet_length percent_rank pi pow power
    quantile_cont quantile_disc quarter radians rank regexp_like regexp_replace replace reverse
    right round row_number rpad rtrim second sign sin sind split_part sqrt starts_with stddev
    stddev_samp stdev stdev_samp strftime string_agg string_to_array strpos strptime substr sum
    tan tand time timestamp total trunc truncate unnest upper var var_samp variance week xor
    year
    """
)

READERS = _names(
    "read_csv read_parquet read_json read_ndjson read_ipc read_delta read_excel read_avro "
    "read_database scan_csv scan_parquet scan_ndjson scan_ipc"
)
"""Table functions polars has or may grow: named in messages as reading files or URLs."""
_LEFT_OUT = frozenset({"generate_series"})

_NODE = getattr(exp, "Expr", exp.Expression)  # the base of every node (sqlglot >= 30: Expr)
_SCALARS = (str, bool, int, float, enum.Enum, type(None))


def _types(names: str) -> frozenset[type]:
    # A name an older sqlglot lacks only narrows what is allowed.
    return frozenset(t for n in names.split() if (t := getattr(exp, n, None)) is not None)


_EXPRESSION_NODES = _types(
    """
    Column Identifier Literal Boolean Null Star Placeholder Paren Neg Not BitwiseNot
    And Or Xor EQ NEQ GT GTE LT LTE NullSafeEQ NullSafeNEQ Is In Between Like ILike SimilarTo
    RegexpLike RegexpILike Escape Add Sub Mul Div IntDiv Mod Pow DPipe BitwiseAnd BitwiseOr
    BitwiseXor BitwiseLeftShift BitwiseRightShift Case If Cast TryCast DataType DataTypeParam
    Interval Var Extract Trim Substring StrPosition Distinct Array Bracket Tuple Window
    WindowSpec Order Ordered Filter Where CurrentDate CurrentTime CurrentTimestamp Anonymous
    """
)
_QUERY_NODES = _EXPRESSION_NODES | _types(
    """
    Select Union Intersect Except Subquery With CTE From Join Table TableAlias Alias Group
    Having Limit Offset Fetch Qualify Unnest Exists
    """
)
# Special syntax polars parses too; every other call is a plain call of its written name.
_SPECIAL_CALLS = {"CAST", "TRY_CAST", "EXTRACT", "TRIM", "SUBSTRING", "POSITION"}


class _PolarsSql(Dialect):
    """sqlglot's default dialect, reading quotes as polars does, keeping calls as written."""

    class Tokenizer(sqlglot_tokens.Tokenizer):
        IDENTIFIERS = ['"', "`"]
        IDENTIFIER_ESCAPES = ['"']

    class Parser(sqlglot_parser.Parser):
        FUNCTIONS: ClassVar[dict[str, Any]] = {}
        FUNCTION_PARSERS = {
            k: v for k, v in sqlglot_parser.Parser.FUNCTION_PARSERS.items() if k in _SPECIAL_CALLS
        }
        NO_PAREN_FUNCTION_PARSERS = {
            k: v for k, v in sqlglot_parser.Parser.NO_PAREN_FUNCTION_PARSERS.items() if k == "CASE"
        }


_DIALECT = _PolarsSql()
_TokenType = sqlglot_tokens.TokenType

READ_FILES_HINT = (
    "SQL in a pipeline reads only its input nodes: read the file with a source component "
    "(read_csv, read_parquet, ...) or a code cell, and use that node"
)


class RefusedSql(Exception):
    """SQL the policy does not hand to polars.

    ``invalid`` tells a text that is not valid SQL for polars (a syntax error, an unknown
    function; ``reason`` then says what is wrong) from one that is refused for what it would
    read (``reason`` then says what it does, ``hint`` the way to do without).
    """

    def __init__(self, reason: str, hint: str = "", *, invalid: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint
        self.invalid = invalid


@dataclass(frozen=True)
class CheckedSql:
    """A text the policy accepts: ``text`` is what polars runs."""

    text: str
    tables: tuple[str, ...] = ()  # tables a query reads, first seen first, its CTEs left out
    ctes: frozenset[str] = frozenset()  # the tables its WITH clauses define

    def unknown_tables(self, available: Collection[str]) -> list[str]:
        """The tables that are not among ``available`` (names match regardless of case, as
        polars matches them)."""
        known = {name.lower() for name in available}
        return [t for t in self.tables if t.lower() not in known]


LONGEST = 100_000
"""The longest SQL text checked, in characters (longer ones are refused before parsing: a
megabyte of ``OR`` takes sqlglot half a minute)."""


def _bounded(check: Callable[[str], CheckedSql]) -> Callable[[str], CheckedSql]:
    """``check``, refusing a text too long to parse quickly or nested too deeply to parse."""

    @functools.wraps(check)
    def bounded(text: str) -> CheckedSql:
        if len(text) > LONGEST:
            raise RefusedSql(
                f"is {len(text):,} characters long; the longest checked is {LONGEST:,}",
                "put a long list of values in a table (a node) and join it, or filter with "
                "IN (SELECT ...) over it",
            )
        try:
            return check(text)
        except RecursionError:  # sqlglot parses recursively: ~40 levels of nesting
            raise RefusedSql(
                "is nested too deeply to read",
                "flatten it: name the inner parts in a WITH clause or in earlier nodes",
            ) from None

    return bounded


@_bounded
@functools.lru_cache(maxsize=2048)
def check_sql_expression(text: str) -> CheckedSql:
    """``text`` as one SQL expression over columns, or :class:`RefusedSql`."""
    tokens = _tokenize(text)
    if not tokens:
        raise RefusedSql("it is empty", invalid=True)
    if any(t.token_type == _TokenType.SEMICOLON for t in tokens):
        raise RefusedSql("';' ends it: an expression is not a statement", invalid=True)
    (tree,) = _parse(text, tokens, into=exp.Condition)
    _check_tree(tree, query=False)
    return CheckedSql(_rebuild(text, tokens))


@_bounded
@functools.lru_cache(maxsize=512)
def check_sql_query(text: str) -> CheckedSql:
    """``text`` as one SELECT over plain tables, or :class:`RefusedSql`."""
    tokens = _tokenize(text)
    while tokens and tokens[-1].token_type == _TokenType.SEMICOLON:
        tokens.pop()
    if not tokens:
        raise RefusedSql("is empty", "write a SELECT over the input nodes")
    if tokens[0].token_type not in (_TokenType.SELECT, _TokenType.WITH, _TokenType.L_PAREN):
        raise RefusedSql(
            f"must be a SELECT (or WITH ... SELECT), not {tokens[0].text!r}",
            "write one SELECT over the input nodes: the sql component only reads",
        )
    if any(t.token_type == _TokenType.SEMICOLON for t in tokens):
        raise RefusedSql(
            "holds more than one statement", "write one SELECT; end it with at most one ';'"
        )
    (tree,) = _parse(text, tokens)
    if not isinstance(tree, (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)):
        raise RefusedSql(
            f"must be a SELECT (or WITH ... SELECT), not {_shown(tree)}",
            "write one SELECT over the input nodes: the sql component only reads",
        )
    tables, ctes = _check_tree(tree, query=True, text=text)
    return CheckedSql(_rebuild(text, tokens), tables, ctes)


# -- reading -----------------------------------------------------------------------------------
def sql_tokens(text: str) -> list[Any] | None:
    """The tokens of ``text`` as the policy reads them (comments left out), or ``None``."""
    try:
        return list(_DIALECT.tokenize(text))
    except TokenError:
        return None


def _tokenize(text: str) -> list[Any]:
    tokens = sql_tokens(text)
    if tokens is None:
        raise RefusedSql("a string, quoted name or comment is not closed", invalid=True)
    return tokens


def _parse(text: str, tokens: list[Any], into: Any = None) -> list[Any]:
    parser = _DIALECT.parser(error_level=ErrorLevel.RAISE)
    try:
        trees = parser.parse_into(into, tokens, text) if into else parser.parse(tokens, text)
    except ParseError as exc:
        raise RefusedSql(_parse_problem(exc, text), invalid=True) from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise RefusedSql("it is not one statement", invalid=True)
    return trees


def _parse_problem(exc: ParseError, text: str) -> str:
    """sqlglot's first complaint in a user's words: what, near which word, where."""
    error = exc.errors[0] if exc.errors else {}
    description = str(error.get("description") or exc).splitlines()[0]
    near = str(error.get("highlight") or "").strip()
    if "Unexpected token" in description or "Invalid expression" in description:
        what = f"unexpected {near!r}" if near else "unexpected end"
    elif description.startswith("Expecting "):
        what = f"expected {description.removeprefix('Expecting ')!r}"
        what += f" after {near!r}" if near else ""
    elif description.startswith("Required keyword"):
        what = f"{near!r} is incomplete" if near else "it is incomplete"
    else:
        what = re.sub(r"<class '[\w.]*?(\w+)'>", r"\1", description)
    line, col = error.get("line"), error.get("col")
    if line and col:
        what += f" at line {line}, column {col}" if "\n" in text.strip() else f" at column {col}"
    return what


# -- deciding ----------------------------------------------------------------------------------
def _children(node: Any) -> Iterator[Any]:
    """A node's children in the order they are written (WITH first)."""
    args = node.args
    keys = sorted(args, key=lambda k: k not in ("with", "with_"))  # sqlglot 30 says with_
    for key in keys:
        value = args[key]
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, _NODE):
                yield child
            elif not isinstance(child, _SCALARS):
                raise RefusedSql(
                    f"holds {type(child).__name__} in {type(node).__name__}, which the SQL "
                    "policy does not know",
                    "write it more simply",
                )


def _check_tree(
    tree: Any, *, query: bool, text: str = ""
) -> tuple[tuple[str, ...], frozenset[str]]:
    """Refuse what the tree may not do; the tables it reads and the CTEs it defines."""
    allowed = _QUERY_NODES if query else _EXPRESSION_NODES
    tables: list[str] = []
    ctes: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind not in allowed:
            raise _refusal(node, query=query)
        if kind is exp.Anonymous:
            _check_function(node)
        elif kind is exp.Table:
            tables.append(_table_name(node, text))
        elif kind is exp.CTE:
            ctes.add(node.alias)
        elif kind is exp.Placeholder and not str(node.args.get("this") or "").isidentifier():
            raise RefusedSql(
                f"holds {_shown(node)}, a placeholder: write :name for pipeline parameter name",
                invalid=True,
            )
        stack.extend(reversed(list(_children(node))))
    defined = {c.lower() for c in ctes}  # polars matches names regardless of case
    named = tuple(t for t in dict.fromkeys(tables) if t.lower() not in defined)
    return named, frozenset(ctes)


def _check_function(node: Any) -> None:
    name = node.name
    if name.lower() in FUNCTIONS:
        return
    if name.lower() in READERS:
        raise RefusedSql(f"calls {name}, which reads files or URLs", READ_FILES_HINT)
    if name.lower() in _LEFT_OUT:
        raise RefusedSql(
            f"calls {name}, which a pipeline's SQL may not call", "compute on the input's columns"
        )
    raise RefusedSql(
        f"unsupported function {name!r}"
        + (f" ({hint})" if (hint := did_you_mean(name.lower(), FUNCTIONS)) else ""),
        invalid=True,
    )


def _table_name(table: Any, text: str) -> str:
    """The name a FROM/JOIN source reads: a plain table name, nothing else."""
    this = table.this
    start = this.meta.get("start") if isinstance(this, exp.Identifier) else None
    if isinstance(start, int) and text[start : start + 1] == "'":
        raise RefusedSql(
            f"reads from the string {this.name!r}, which is not a table name",
            'name an input node as the table: FROM orders (or "My Orders", in double quotes)',
        )
    if isinstance(this, exp.Anonymous):
        name = this.name
        raise RefusedSql(
            f"calls table function(s) {name}"
            + (", which read files or URLs" if name.lower() in READERS else ""),
            READ_FILES_HINT,
        )
    if not isinstance(this, exp.Identifier):
        raise RefusedSql(
            f"reads from {_shown(table)}, which is not a table name",
            "name an input node as the table: FROM orders",
        )
    extra = [k for k, v in table.args.items() if v and k not in ("this", "alias")]
    if table.args.get("db") or table.args.get("catalog"):
        raise RefusedSql(
            f"reads {_shown(table)}, a qualified table name",
            "name an input node as it is: FROM orders, not FROM db.orders",
        )
    if extra:
        raise RefusedSql(
            f"reads {_shown(table)} with {', '.join(extra)}, which the sql component "
            "does not allow",
            "name an input node as the table, with an alias at most",
        )
    return str(this.name)


def _refusal(node: Any, *, query: bool) -> RefusedSql:
    if isinstance(node, (exp.Select, exp.Subquery, exp.Exists, exp.Union, exp.Table)):
        return RefusedSql(
            f"holds a subquery ({_shown(node)}), which reads a table",
            "an expression computes on its input's columns: to use another node's rows, "
            "join it first (join or sql component)",
        )
    if isinstance(node, exp.Alias) and not query:
        return RefusedSql(
            f"names its result with AS ({_shown(node)})",
            "drop the AS: the column's name is the parameter's key",
            invalid=True,
        )
    what = _CONSTRUCTS.get(type(node).__name__, type(node).__name__)
    return RefusedSql(
        f"uses {what} ({_shown(node)}), which a pipeline's SQL may not use",
        "use columns, literals, operators, CASE, CAST and polars' SQL functions"
        + (" over the input nodes" if query else ""),
    )


# How a user would name the constructs sqlglot has classes for (the class name otherwise).
_CONSTRUCTS = {
    "All": "ALL (subquery)",
    "Any": "ANY (subquery)",
    "Dot": "a call or field after a dot",
    "Into": "SELECT INTO",
    "Lateral": "LATERAL",
    "Values": "VALUES",
    "Pivot": "PIVOT",
    "Command": "a statement",
}


def _shown(node: Any, limit: int = 60) -> str:
    try:
        text = node.sql(normalize_functions=False)
    except Exception:  # a node sqlglot cannot print is still named
        text = type(node).__name__
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


# -- writing what polars runs ------------------------------------------------------------------
_WORD_END = re.compile(r"[\w&]$")


def _rebuild(text: str, tokens: list[Any]) -> str:
    """``text`` as sqlglot read it: comments blanked, strings and quoted names re-quoted."""
    out: list[str] = []
    end = 0
    for token in tokens:
        gap = text[end : token.start]
        if gap.strip(" \t\r\n"):  # a comment, or a space polars may not read as one
            gap = " " + "\n" * gap.count("\n")
        kind = token.token_type
        if kind == _TokenType.STRING:
            piece = "'" + token.text.replace("'", "''") + "'"
        elif kind == _TokenType.IDENTIFIER:
            piece = '"' + token.text.replace('"', '""') + '"'
        else:
            piece = text[token.start : token.end + 1]
            bad = next((c for c in piece if c in "'\"`$\\"), None)
            if bad is not None:
                raise RefusedSql(
                    f"holds {bad!r} outside a string or quoted name ({piece!r})", invalid=True
                )
        # E'..', X'..', N'..', U&"..": a word glued to a quote changes what polars reads.
        if not gap and out and piece[0] in "'\"" and _WORD_END.search(out[-1]):
            gap = " "
        out += [gap, piece]
        end = token.end + 1
    return "".join(out).strip()
