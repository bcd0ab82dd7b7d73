"""sql: tables read from the query, results, pasted code, bad input, and as a pipeline node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline_lab.components import ComponentError, get_component
from pipeline_lab.components.library.sql import aggregate_sql, query_tables
from pipeline_lab.errors import PipelineDefinitionError
from pipeline_lab.graph import Node, Pipeline

ORDERS = pl.DataFrame(
    {"id": [1, 2, 3, 4], "client": [10, 20, 10, None], "montant": [5.0, None, 7.5, 1.0]}
)
CLIENTS = pl.DataFrame({"client": [10, 20, 30], "ville": ["Nice", "Lyon", "Pau"]})
FRAMES = {"orders": ORDERS, "clients": CLIENTS}


def make(params: dict[str, Any], node: str = "out") -> Any:
    return get_component("sql")(params, node=node)


@pytest.mark.parametrize(
    ("query", "tables"),
    [
        pytest.param("SELECT * FROM orders", ("orders",), id="from"),
        pytest.param(
            "select * from orders o left join clients AS c on o.client = c.client",
            ("orders", "clients"),
            id="join-with-aliases",
        ),
        pytest.param("SELECT * FROM a, b x, c WHERE a.k = x.k", ("a", "b", "c"), id="comma-list"),
        pytest.param(
            'SELECT * FROM "Mes Ventes" JOIN `été` USING (k)', ("Mes Ventes", "été"), id="quoted"
        ),
        pytest.param(
            "SELECT 'FROM fake', \"FROM\" FROM real -- JOIN commented\n/* FROM other */",
            ("real",),
            id="strings-and-comments-ignored",
        ),
        pytest.param(
            "SELECT * FROM t WHERE k IN (SELECT k FROM u) AND v > (SELECT 1 FROM w)",
            ("t", "u", "w"),
            id="subqueries",
        ),
        pytest.param(
            "WITH paid AS (SELECT * FROM orders), big (id) AS (SELECT id FROM paid) "
            "SELECT * FROM big JOIN clients USING (id)",
            ("orders", "clients"),
            id="ctes-are-not-tables",
        ),
        pytest.param("SELECT * FROM (SELECT * FROM a) s, b", ("a", "b"), id="derived-table"),
        pytest.param("SELECT 1 + 2 AS three", (), id="no-table"),
    ],
)
def test_query_tables(query: str, tables: tuple[str, ...]) -> None:
    assert query_tables(query).tables == tables


@pytest.mark.parametrize(
    ("text", "spelled"),
    [
        pytest.param("n_unique(x)", "count(DISTINCT x)", id="n_unique"),
        pytest.param("MEAN(x) + std (y)", "avg(x) + stddev (y)", id="mean-std-any-case"),
        pytest.param("quantile(x, 0.9)", "quantile_cont(x, 0.9)", id="quantile"),
        pytest.param(
            "sum(x) FILTER (WHERE s = 'mean(' AND \"std\"(1) = 1)",
            "sum(x) FILTER (WHERE s = 'mean(' AND \"std\"(1) = 1)",
            id="literals-and-quoted-names-untouched",
        ),
        pytest.param("mean + t.std(x)", "mean + t.std(x)", id="only-unqualified-calls"),
    ],
)
def test_aggregate_names_spelled_for_polars(text: str, spelled: str) -> None:
    assert aggregate_sql(text) == spelled


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(
            {
                "query": "SELECT o.id, c.ville FROM orders o JOIN clients c ON o.client = c.client "
                "ORDER BY o.id"
            },
            {"id": [1, 2, 3], "ville": ["Nice", "Lyon", "Nice"]},
            id="join-two-inputs",
        ),
        pytest.param(
            {
                "query": "SELECT c.ville, SUM(o.montant) AS total, COUNT(*) AS n "
                "FROM clients c LEFT JOIN orders o USING (client) GROUP BY c.ville ORDER BY c.ville"
            },
            {"ville": ["Lyon", "Nice", "Pau"], "total": [None, 12.5, None], "n": [1, 2, 1]},
            id="left-join-aggregate",
        ),
        pytest.param(
            {
                "query": "WITH paid AS (SELECT * FROM orders WHERE montant IS NOT NULL) "
                "SELECT id FROM paid WHERE montant > 2 ORDER BY id",
                "inputs": ["orders"],
            },
            {"id": [1, 3]},
            id="cte-with-explicit-inputs",
        ),
        pytest.param(
            {"query": "select id as \"n°\", 'é' || 'tè' AS mot from orders where client is null;"},
            {"n°": [4], "mot": ["étè"]},
            id="unicode-trailing-semicolon",
        ),
    ],
)
def test_sql(params: dict[str, Any], expected: dict[str, list[Any]], same_as_code: Any) -> None:
    out = same_as_code(make(params), FRAMES)
    assert out.to_dict(as_series=False) == expected


def test_sql_of_empty_and_pandas_inputs(same_as_code: Any) -> None:
    query = "SELECT o.id, c.ville FROM orders o JOIN clients c ON o.client = c.client"
    empty = same_as_code(make({"query": query}), {"orders": ORDERS.clear(), "clients": CLIENTS})
    assert empty.height == 0
    assert empty.schema == pl.Schema({"id": pl.Int64, "ville": pl.String})
    clients = pd.DataFrame({"client": pd.array([10, 20], dtype="Int64"), "ville": ["Nice", "Lyon"]})
    orders = pd.DataFrame({"id": [1, 2, 3], "client": pd.array([10, 20, None], dtype="Int64")})
    from_pandas = make({"query": query + " ORDER BY o.id"}).build(
        {"orders": orders, "clients": clients}
    )
    assert from_pandas.collect().rows() == [(1, "Nice"), (2, "Lyon")]


def test_table_names_ignore_case() -> None:
    sql = make({"query": "SELECT COUNT(*) AS n FROM Orders JOIN CLIENTS USING (client)"})
    assert sql.input_names() == ("Orders", "orders", "CLIENTS", "clients")
    assert sql.build(FRAMES).collect().item() == 3
    assert sql.to_code().startswith("pl.SQLContext(frames={'Orders': Orders, 'CLIENTS': CLIENTS})")


def test_input_names_come_from_the_query_or_inputs() -> None:
    query = "WITH t AS (SELECT * FROM orders) SELECT * FROM t JOIN clients USING (client)"
    assert make({"query": query}).input_names() == ("orders", "clients")
    assert make({"query": query, "inputs": ["orders"]}).input_names() == ("orders",)
    # A node never reads itself, even if its query names it.
    assert make({"query": "SELECT * FROM out JOIN orders USING (id)"}).input_names() == ("orders",)


def test_sql_lineage() -> None:
    sql = make({"query": "SELECT id, montant * 2 AS double FROM orders"})
    lineage = {c.column: (c.sources, c.how) for c in sql.columns({"orders": ORDERS.schema})}
    assert lineage == {"id": ((("orders", "id"),), "direct"), "double": ((), "derived")}


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({}, "parameter 'query' is required", id="missing"),
        pytest.param({"query": 3}, "parameter 'query'", id="mistyped"),
        pytest.param({"query": "  -- nothing\n"}, "the query is empty", id="empty"),
        pytest.param({"query": "SELECT 1", "sql": "x"}, "unknown parameter 'sql'", id="unknown"),
        pytest.param({"query": "DROP TABLE orders"}, "must be a SELECT", id="drop"),
        pytest.param(
            {"query": "CREATE TABLE t AS SELECT * FROM orders"}, "must be a SELECT", id="create"
        ),
        pytest.param(
            {"query": "SELECT * FROM orders; DROP TABLE orders"},
            "more than one statement",
            id="two-statements",
        ),
        pytest.param(
            {"query": "SELECT * FROM orders WHERE id = ''; DROP TABLE orders; --'"},
            "more than one statement",
            id="quote-injection",
        ),
        pytest.param(
            {"query": "SELECT * FROM read_csv('/etc/passwd')"},
            "table function(s) read_csv",
            id="read-file",
        ),
        pytest.param(
            {
                "query": "SELECT * FROM orders WHERE id IN (SELECT * FROM READ_PARQUET ('x.parquet'))"
            },
            "table function(s) READ_PARQUET",
            id="read-file-in-subquery",
        ),
        pytest.param(
            {"query": "SELECT 1", "inputs": "orders"}, "parameter 'inputs'", id="inputs-str"
        ),
    ],
)
def test_bad_parameters(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ComponentError) as info:
        make(params)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("params", "message", "hint"),
    [
        pytest.param(
            {"query": "SELECT * FROM order"},
            "reads table 'order', which is not an input node (available tables: none)",
            "check the name",
            id="unknown-table",
        ),
        pytest.param(
            {"query": "SELECT * FROM orders JOIN clients USING (client)", "inputs": ["orders"]},
            "reads table 'clients', which is not an input node (available tables: orders)",
            "inputs",
            id="table-not-in-inputs",
        ),
        pytest.param(
            {"query": "SELECT * FROM orders WHERE ("},
            "the query is not valid SQL: '(' is incomplete at column 28",
            "write one SELECT over the input nodes",
            id="unparsable",
        ),
        pytest.param(
            {"query": "SELECT montnt FROM orders"},
            'cannot run on its inputs: unable to find column "montnt"; valid columns: '
            '["id", "client", "montant"]',
            "",
            id="unknown-column",
        ),
    ],
)
def test_bad_queries(params: dict[str, Any], message: str, hint: str) -> None:
    with pytest.raises(ComponentError) as info:
        make(params).build(FRAMES)
    assert message in info.value.message
    assert hint in (info.value.hint or "")
    assert info.value.node == "out"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("SELECT __import__('os').system('touch /tmp/pwned2')", id="python-call"),
        pytest.param(
            "SELECT * FROM orders WHERE __import__('os').system('touch /tmp/pwned2') = 0",
            id="in-where",
        ),
        pytest.param("SELECT eval('__import__(\"os\")') FROM orders", id="eval"),
    ],
)
def test_code_injection_stays_sql(query: str) -> None:
    with pytest.raises(ComponentError):
        make({"query": query}).build(FRAMES).collect()
    assert not Path("/tmp/pwned2").exists()


# -- as a pipeline node ------------------------------------------------------------------------
def _pipeline(query: str) -> Pipeline:
    pipeline = Pipeline("shop")
    pipeline.add(
        Node(
            "orders",
            code="import polars as pl\n"
            "pl.DataFrame({'id': [1, 2, 3], 'client': [10, 20, 10], 'montant': [5.0, 2.0, 7.5]})",
        )
    )
    pipeline.add(
        Node(
            "clients",
            code="import pandas as pd\npd.DataFrame({'client': [10, 20], 'ville': ['Nice', 'Lyon']})",
        )
    )
    pipeline.add(Node("unrelated", code="42"))
    pipeline.add(Node("report", component="sql", params={"query": query}))
    return pipeline


def test_sql_as_node_reads_the_tables_its_query_names() -> None:
    pipeline = _pipeline(
        "WITH unrelated AS (SELECT * FROM orders) "
        "SELECT c.ville, SUM(u.montant) AS total FROM unrelated u "
        "JOIN clients c USING (client) GROUP BY c.ville ORDER BY total DESC"
    )
    assert pipeline.validate() == []
    # "unrelated" is a CTE of the query, not the node of that name.
    assert pipeline.dependencies("report") == ("orders", "clients")
    result = pipeline.run(hooks=[])
    assert result.status == "succeeded", result.node_runs
    assert_frame_equal(
        result.outputs["report"], pl.DataFrame({"ville": ["Nice", "Lyon"], "total": [12.5, 2.0]})
    )


def test_sql_node_naming_an_unknown_table_fails_clearly() -> None:
    pipeline = _pipeline("SELECT * FROM orders JOIN customers USING (client)")
    assert pipeline.dependencies("report") == ("orders",)
    # found before anything runs: the table is not a node of the pipeline
    with pytest.raises(PipelineDefinitionError, match="input 'customers' is not a node"):
        pipeline.run(hooks=[])
    # given explicitly as an input that does not provide the table, it fails at run time

    sql = get_component("sql")(
        {"query": "SELECT * FROM orders JOIN customers USING (client)", "inputs": ["orders"]}
    )
    with pytest.raises(ComponentError, match="reads table 'customers', which is not an input node"):
        sql.build({"orders": pl.DataFrame({"client": [1]})})


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param("DELETE FROM orders", "must be a SELECT", id="not-select"),
        pytest.param("SELECT * FROM read_json('x')", "table function", id="table-function"),
    ],
)
def test_validate_reports_bad_parameters(query: str, message: str) -> None:
    issues = _pipeline(query).validate()
    assert [(i.code, i.node) for i in issues] == [("bad-parameters", "report")]
    assert message in issues[0].message
