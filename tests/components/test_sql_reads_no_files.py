"""No user SQL makes polars read a file or a URL, whatever its spelling, wherever it goes.

Every place user SQL reaches polars (a sql query, filter, derive and aggregate expressions, a
--check) is tried with every spelling of polars' table functions we could think of, against a
real file and a real HTTP server: nothing of the file may show, and no request may arrive,
whether the pipeline is validated or built.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipeline_lab.components import ComponentError, get_component
from pipeline_lab.context import RunContext, running
from pipeline_lab.errors import PipelineLabError, QualityGateError
from pipeline_lab.graph import Node, Pipeline
from pipeline_lab.quality import evaluate_check

ORDERS = pl.DataFrame({"id": [1, 2, 3], "status": ["paid", "open", "paid"]})
SECRET = "SECRET-FROM-FILE"

# {p} is the quoted path or URL of a CSV file whose content must never show.
QUERY_ATTACKS = [
    pytest.param("SELECT * FROM read_csv({p})", id="plain"),
    pytest.param("SELECT * FROM READ_CSV({p})", id="upper-case"),
    pytest.param('SELECT * FROM "read_csv"({p})', id="quoted-name"),
    pytest.param('SELECT * FROM ("read_csv"({p}))', id="quoted-in-parentheses"),
    pytest.param("SELECT * FROM `Read_Csv`({p})", id="backticks"),
    pytest.param("SELECT * FROM ((read_csv({p})))", id="double-parentheses"),
    pytest.param("SELECT * FROM main.read_csv({p})", id="schema-qualified"),
    pytest.param("SELECT * FROM read_parquet({p})", id="read_parquet"),
    pytest.param("SELECT * FROM read_json({p})", id="read_json"),
    pytest.param("SELECT * FROM read_ndjson({p})", id="read_ndjson"),
    pytest.param("SELECT * FROM read_ipc({p})", id="read_ipc"),
    pytest.param("WITH c AS (SELECT * FROM read_csv({p})) SELECT * FROM c", id="in-a-cte"),
    pytest.param("SELECT * FROM (SELECT * FROM read_csv({p})) AS s", id="derived-table"),
    pytest.param(
        "SELECT * FROM orders WHERE id IN (SELECT a FROM read_csv({p}))", id="in-subquery"
    ),
    pytest.param("SELECT (SELECT max(b) FROM read_csv({p})) AS x FROM orders", id="scalar"),
    pytest.param(
        "SELECT * FROM orders WHERE EXISTS (SELECT 1 FROM read_csv({p}))", id="exists-subquery"
    ),
    pytest.param("SELECT * FROM orders JOIN read_csv({p}) AS f ON true", id="join"),
    pytest.param('SELECT * FROM orders LEFT JOIN ("read_csv"({p})) f ON true', id="left-join"),
    pytest.param("SELECT * FROM orders CROSS JOIN read_csv({p})", id="cross-join"),
    pytest.param("SELECT * FROM orders, read_csv({p})", id="comma-join"),
    pytest.param('SELECT * FROM orders, ("read_csv"({p}))', id="comma-join-quoted"),
    pytest.param("SELECT * FROM orders, LATERAL read_csv({p})", id="lateral"),
    pytest.param("SELECT id FROM orders UNION ALL SELECT a FROM read_csv({p})", id="union"),
    pytest.param("FROM read_csv({p}) SELECT *", id="from-first"),
    pytest.param("SELECT * FROM orders ORDER BY (SELECT max(a) FROM read_csv({p}))", id="order"),
    pytest.param("SELECT * FROM orders; SELECT * FROM read_csv({p})", id="second-statement"),
    pytest.param("CREATE TABLE t AS SELECT * FROM read_csv({p})", id="create-table"),
    pytest.param("SELECT id, read_csv({p}) FROM orders", id="as-a-value"),
]

# Texts two tokenizers read differently: polars reads a table function where a token scan
# (and sqlglot's default dialect) sees a string. Refused or not, polars must not read.
TOKENIZER_TRICKS = [
    pytest.param("SELECT E'\\'' AS s, * FROM orders, read_csv({p}) AS f --'", id="e-string"),
    pytest.param("SELECT $$ ' $$ AS s, * FROM orders, read_csv({p}) AS f --'", id="dollar-string"),
    pytest.param("SELECT * FROM orders /* /* */ , read_csv({p}) -- */", id="nested-comment"),
    pytest.param("SELECT * FROM orders -- \u2028, read_csv({p})", id="odd-line-break"),
]

EXPRESSION_ATTACKS = [
    pytest.param("id IN (SELECT a FROM read_csv({p}))", id="in-subquery"),
    pytest.param('id IN (SELECT a FROM ("read_csv"({p})))', id="quoted-in-parentheses"),
    pytest.param("id IN (SELECT a FROM READ_PARQUET({p}))", id="read_parquet"),
    pytest.param("id IN (SELECT a FROM read_ndjson({p}))", id="read_ndjson"),
    pytest.param("id = (SELECT max(a) FROM read_csv({p}))", id="scalar-subquery"),
    pytest.param("EXISTS (SELECT 1 FROM read_csv({p}))", id="exists"),
    pytest.param(
        "id IN (WITH c AS (SELECT * FROM read_json({p})) SELECT a FROM c)", id="cte-in-subquery"
    ),
    pytest.param(
        "id IN (SELECT f.a FROM orders JOIN read_ipc({p}) f ON true)", id="join-in-subquery"
    ),
    pytest.param(
        "CASE WHEN id IN (SELECT a FROM read_csv({p})) THEN true ELSE false END", id="in-case"
    ),
    pytest.param("read_csv({p}) IS NOT NULL", id="as-a-value"),
]


def _source(kind: str, tmp_path: Path, server: Any) -> str:
    """The quoted SQL string of a CSV file holding a secret: local, or over HTTP."""
    if kind == "file":
        path = tmp_path / "secret.csv"
        path.write_text(f"a,b\n1,{SECRET}\n")
        return f"'{path}'"
    return f"'{server.url}/orders.csv'"


def _shown(attempt: Callable[[], Any]) -> str:
    """Everything a user would see of ``attempt``: its result or its error, as text."""
    try:
        result = attempt()
    except PipelineLabError as exc:
        return f"refused: {exc}"
    if isinstance(result, (pl.DataFrame, pl.LazyFrame)):
        frame = result.collect() if isinstance(result, pl.LazyFrame) else result
        return f"ran: {frame.to_dict(as_series=False)}"
    return f"ran: {result!r}"


def _sql_node(query: str) -> Pipeline:
    pipeline = Pipeline("shop")
    pipeline.add(Node("orders", code="import polars as pl\npl.DataFrame({'id': [1, 2, 3]})"))
    pipeline.add(Node("out", component="sql", params={"query": query, "inputs": ["orders"]}))
    return pipeline


def _try_query(query: str) -> list[str]:
    """What validate() and a build of a sql node with ``query`` show."""
    issues = _sql_node(query).validate()
    shown = [f"issue {i.code} on {i.node}: {i.message} ({i.hint})" for i in issues]

    def build() -> Any:
        sql = get_component("sql")({"query": query, "inputs": ["orders"]}, node="out")
        return sql.build({"orders": ORDERS})

    return [*shown, _shown(build)]


@pytest.fixture
def no_request(http_server: Any) -> Any:
    """Fails the test if the server got a request while it ran."""
    before = len(http_server.requests())
    yield http_server
    assert http_server.requests()[before:] == [], "polars fetched the URL"


@pytest.mark.parametrize("source", ["file", "http"])
@pytest.mark.parametrize("template", QUERY_ATTACKS)
def test_table_functions_in_a_query_are_refused_before_polars_runs(
    template: str, source: str, tmp_path: Path, no_request: Any
) -> None:
    shown = _try_query(template.format(p=_source(source, tmp_path, no_request)))
    validate, build = shown[:-1], shown[-1]
    assert len(validate) == 1 and validate[0].startswith("issue bad-parameters on out:")
    assert build.startswith("refused: node 'out':")
    assert SECRET not in "\n".join(shown) and "SECRET-OVER-HTTP" not in "\n".join(shown)


@pytest.mark.parametrize("source", ["file", "http"])
@pytest.mark.parametrize("template", TOKENIZER_TRICKS)
def test_text_that_tokenizers_read_differently_reads_nothing(
    template: str, source: str, tmp_path: Path, no_request: Any
) -> None:
    shown = "\n".join(_try_query(template.format(p=_source(source, tmp_path, no_request))))
    assert SECRET not in shown and "SECRET-OVER-HTTP" not in shown


def _params(kind: str, text: str) -> dict[str, Any]:
    """Parameters of a ``kind`` component that put ``text`` (a condition) where SQL goes."""
    if kind == "filter":
        return {"input": "orders", "condition": text}
    if kind == "derive":
        return {"input": "orders", "columns": {"x": text}}
    return {"input": "orders", "aggs": {"x": f"count(CASE WHEN {text} THEN 1 END)"}}


def _component(kind: str, text: str) -> Any:
    return get_component(kind)(_params(kind, text), node="out")


def _issues(kind: str, text: str) -> list[str]:
    """validate() of a pipeline whose node ``out`` has ``text`` as SQL (a --check, or a
    parameter of a ``kind`` component)."""
    pipeline = Pipeline("shop")
    if kind == "check":
        pipeline.add(Node("out", code="1", checks=(text,)))
    else:
        pipeline.add(Node("orders", code="1"))
        pipeline.add(Node("out", component=kind, params=_params(kind, text)))
    return [f"{i.code} on {i.node}: {i.message} ({i.hint})" for i in pipeline.validate()]


def _run(kind: str, text: str) -> Any:
    if kind == "check":
        return evaluate_check(ORDERS, text, node="out")
    return _component(kind, text).build({"orders": ORDERS})


@pytest.mark.parametrize("source", ["file", "http"])
@pytest.mark.parametrize("entry", ["filter", "derive", "aggregate", "check"])
@pytest.mark.parametrize("template", EXPRESSION_ATTACKS)
def test_table_functions_in_an_expression_are_refused_before_polars_parses(
    template: str, entry: str, source: str, tmp_path: Path, no_request: Any
) -> None:
    text = template.format(p=_source(source, tmp_path, no_request))
    issues = _issues(entry, text)
    shown = _shown(lambda: _run(entry, text))
    assert len(issues) == 1 and issues[0].startswith(("bad-parameters on out", "bad-check on out"))
    assert shown.startswith("refused: node 'out'")
    assert SECRET not in shown + "".join(issues)
    assert "SECRET-OVER-HTTP" not in shown + "".join(issues)


def test_the_server_records_requests(http_server: Any) -> None:
    """The no-request assertions can fail: a request that does arrive is recorded."""
    before = len(http_server.requests())
    with urllib.request.urlopen(f"{http_server.url}/orders.csv") as response:
        assert b"SECRET-OVER-HTTP" in response.read()
    assert http_server.requests()[before:] == ["GET /orders.csv HTTP/1.1"]


# -- parameter values are literals -------------------------------------------------------------
SMUGGLED = [
    pytest.param("x' OR id IN (SELECT a FROM read_csv({p})) OR '", id="quote"),
    pytest.param("'); SELECT * FROM read_csv({p}); --", id="statement"),
    pytest.param("\nUNION ALL SELECT a FROM read_csv({p}) --", id="line-break"),
    pytest.param("*/ UNION ALL SELECT a FROM read_csv({p}) /*", id="comment-end"),
]


@pytest.mark.parametrize("template", SMUGGLED)
def test_a_parameter_value_cannot_smuggle_a_table_function(
    template: str, tmp_path: Path, no_request: Any
) -> None:
    value = template.format(p=_source("file", tmp_path, None))
    queries = [
        "SELECT id FROM orders WHERE status = :p",
        "SELECT id FROM orders -- :p",
        "SELECT id FROM orders /* :p */",
    ]
    with running(RunContext(params={"p": value})):
        for query in queries:
            sql = get_component("sql")({"query": query}, node="out")
            out = sql.build({"orders": ORDERS}).collect()
            assert SECRET not in str(out.to_dict(as_series=False))
        paid = _component("filter", "status = :p").build({"orders": ORDERS}).collect()
        assert paid.height == 0  # compared with the value, as text
        derived = _component("derive", "concat(status, :p)").build({"orders": ORDERS}).collect()
        assert derived["x"][0] == "paid" + value


# -- refusals say what, where and the fix --------------------------------------------------------
def test_validate_names_the_node_and_the_fix() -> None:
    (issue,) = _sql_node("SELECT * FROM (\"read_csv\"('/etc/passwd'))").validate()
    assert (issue.code, issue.node) == ("bad-parameters", "out")
    assert (
        issue.message == "sql: the query calls table function(s) read_csv, which read files or URLs"
    )
    assert "source component" in (issue.hint or "")
    (issue,) = _issues("filter", "id IN (SELECT a FROM orders)")
    assert "parameter 'condition' holds a subquery" in issue
    assert "join it first" in issue


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("amount >", "'>' is incomplete at column 8", id="incomplete"),
        pytest.param("sum(amount", "expected ')' after 'amount'", id="unclosed"),
        pytest.param("frobnicate(id)", "unsupported function 'frobnicate'", id="unknown-function"),
        pytest.param("id; DROP TABLE t", "';' ends it", id="statement"),
        pytest.param("x AS y", "unexpected 'AS'", id="alias"),
        pytest.param("$1 > 0", "holds '$' outside a string", id="dollar"),
        pytest.param("'open", "not closed", id="unclosed-string"),
        pytest.param("id > ?", "a placeholder", id="anonymous-placeholder"),
    ],
)
def test_invalid_expressions_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ComponentError) as info:
        _component("filter", text)
    assert "filter: parameter 'condition' is not a valid SQL expression" in info.value.message
    assert message in info.value.message
    assert info.value.node == "out" and info.value.hint


def test_a_table_that_is_not_an_input_is_refused_before_polars_looks() -> None:
    sql = get_component("sql")({"query": "SELECT * FROM orders, clients", "inputs": ["orders"]})
    with pytest.raises(ComponentError, match="reads table 'clients', which is not an input node"):
        sql.build({"orders": ORDERS})


def test_a_refused_check_is_a_quality_error() -> None:
    with pytest.raises(QualityGateError, match="calls read_csv, which reads files or URLs"):
        evaluate_check(ORDERS, "read_csv('/etc/passwd') IS NULL", node="orders")
