"""The SQL policy: what it lets through unchanged, how it spells what polars runs, its lists.

That nothing it refuses reaches polars, through every component and --check, is
test_sql_reads_no_files.py's.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlglot

from pipeline_lab.sql_policy import (
    FUNCTIONS,
    READERS,
    RefusedSql,
    check_sql_expression,
    check_sql_query,
)

# -- what stays allowed --------------------------------------------------------------------------
FRAMES = {
    "orders": pl.DataFrame({"id": [1, 2, 3], "client": [10, 20, 10], "amount": [5.0, None, 7.5]}),
    "clients": pl.DataFrame({"client": [10, 20], "ville": ["Nice", "Lyon"]}),
}


@pytest.mark.parametrize(
    ("query", "tables"),
    [
        pytest.param("SELECT * FROM orders", ("orders",), id="table"),
        pytest.param(
            "SELECT o.id, c.ville FROM orders AS o JOIN clients c USING (client)",
            ("orders", "clients"),
            id="join",
        ),
        pytest.param(
            "WITH big AS (SELECT * FROM orders WHERE amount > 1) SELECT * FROM big",
            ("orders",),
            id="cte",
        ),
        pytest.param(
            "WITH Big AS (SELECT * FROM orders) SELECT * FROM big", ("orders",), id="cte-any-case"
        ),
        pytest.param(
            "SELECT * FROM orders WHERE client IN (SELECT client FROM clients)",
            ("orders", "clients"),
            id="in-subquery",
        ),
        pytest.param(
            "SELECT id FROM orders UNION ALL SELECT client FROM clients",
            ("orders", "clients"),
            id="union",
        ),
        pytest.param(
            "SELECT id, sum(amount) OVER (PARTITION BY client ORDER BY id) AS s FROM orders",
            ("orders",),
            id="window",
        ),
        pytest.param(
            "SELECT client, count(DISTINCT id) AS n, CAST(avg(amount) AS DECIMAL(8, 2)) AS a "
            "FROM orders GROUP BY client HAVING count(*) > 0 ORDER BY client LIMIT 5",
            ("orders",),
            id="group-having-limit",
        ),
        pytest.param(
            "SELECT CASE WHEN amount > 6 THEN 'big' ELSE 'small' END AS size, "
            "coalesce(amount, 0)::int AS a, upper('é') || 'x' AS s FROM orders",
            ("orders",),
            id="case-cast-strings",
        ),
        pytest.param("SELECT * FROM unnest([1, 2]) AS u(v)", (), id="unnest-values"),
        pytest.param(
            'SELECT "id" AS "n°" FROM `orders` -- a comment\n/* another */',
            ("orders",),
            id="quoted",
        ),
    ],
)
def test_queries_over_input_nodes_pass(query: str, tables: tuple[str, ...]) -> None:
    checked = check_sql_query(query)
    assert checked.tables == tables
    assert pl.SQLContext(frames=FRAMES).execute(checked.text, eager=True).height >= 0


@pytest.mark.parametrize(
    "expression",
    [
        "amount > 10 AND status = 'paid'",
        "status IN ('paid', 'open') OR amount BETWEEN 1 AND 4",
        "lower(trim(status)) LIKE 'pa%' AND amount IS NOT NULL",
        "CAST(date_trunc('month', day) AS DATE)",
        "EXTRACT(YEAR FROM day) = 2024",
        "day > DATE '2024-01-01'",
        'coalesce(amount, 0) * 2 + length("名前")',
        "sum(amount) FILTER (WHERE status = 'paid')",
        "round(avg(amount), 2)",
        "quantile_cont(amount, 0.9)",
        "row_number() OVER (PARTITION BY status ORDER BY amount)",
        "amount > :min_amount",
        "CASE WHEN amount > 5 THEN 'big' ELSE 'small' END",
        "id::varchar || '-' || status",
    ],
)
def test_expressions_over_columns_pass_unchanged(expression: str) -> None:
    assert check_sql_expression(expression).text == expression


def test_comments_are_blanked_in_the_text_polars_runs() -> None:
    checked = check_sql_query("SELECT id -- the key\nFROM orders /* all */;")
    assert checked.text == "SELECT id \nFROM orders"
    assert check_sql_expression("amount > 0 /* positive */").text == "amount > 0"


def test_strings_and_names_are_quoted_one_way() -> None:
    checked = check_sql_query("SELECT `a``b` AS 'it''s' FROM \"t\"\"u\"")
    assert checked.text == 'SELECT "a`b" AS \'it\'\'s\' FROM "t""u"'
    assert checked.tables == ('t"u',)


# -- the allow-list is polars' own ---------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_allowed_function_is_a_polars_sql_function(name: str) -> None:
    """A name polars does not know would be an allowed typo; one it drops fails here."""
    try:
        pl.sql_expr(f"{name}(x)")
    except Exception as exc:
        assert "unsupported function" not in str(exc)


def test_no_reader_is_allowed() -> None:
    assert not FUNCTIONS & READERS
    assert not any(name.startswith(("read_", "scan_")) for name in FUNCTIONS)


@pytest.mark.parametrize(
    "reader", ["read_csv", "read_parquet", "read_json", "read_ndjson", "read_ipc"]
)
def test_polars_table_functions_are_real_and_refused(reader: str, tmp_path: Path) -> None:
    """Each is a table function polars runs; the policy refuses each, as a table and a value."""
    with pytest.raises(Exception, match=r"No such file|os error"):
        pl.SQLContext().execute(f"SELECT * FROM {reader}('{tmp_path}/none')", eager=True)
    with pytest.raises(RefusedSql, match=f"table function\\(s\\) {reader}, which read files"):
        check_sql_query(f"SELECT * FROM {reader}('x')")
    with pytest.raises(RefusedSql, match=f"calls {reader}, which reads files"):
        check_sql_expression(f"{reader}('x') IS NULL")


# -- every polars SQL entry point goes through the policy --------------------------------------
_PACKAGE = Path(__file__).resolve().parents[1] / "pipeline_lab"
_POLARS_SQL = re.compile(r"pl\.sql_expr\(|SQLContext\(|\.sql\(")
# Each parses text from the SQL policy (or writes it into code a user may paste).
_GUARDED = {
    "components/_expressions.py",
    "components/library/columns.py",
    "components/library/combine.py",
    "components/library/rows.py",
    "components/library/sql.py",
    "quality/_checks.py",
    "connectors/files/_connector.py",
}


def test_polars_sql_is_reached_only_where_the_policy_guards_it() -> None:
    found = {
        str(path.relative_to(_PACKAGE))
        for path in _PACKAGE.rglob("*.py")
        if path.name != "sql_policy.py"  # the policy; its .sql( is sqlglot's
        and _POLARS_SQL.search(path.read_text())
    }
    assert found == _GUARDED, "route new SQL through pipeline_lab/sql_policy.py, then list it"


def test_checks_from_many_threads_agree() -> None:
    texts = [f"SELECT id FROM orders WHERE id > {i}" for i in range(8)] * 4
    barrier = threading.Barrier(len(texts))
    results: list[Any] = [None] * len(texts)

    def check(i: int) -> None:
        barrier.wait()
        results[i] = check_sql_query(texts[i])

    threads = [threading.Thread(target=check, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.text for r in results] == texts
    assert all(r.tables == ("orders",) for r in results)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param(
            "SELECT * FROM 'orders'",
            "reads from the string 'orders'",
            id="string",
            marks=pytest.mark.skipif(
                not hasattr(sqlglot.exp.Expression, "update_positions"),
                reason="sqlglot < 26 keeps no positions to tell a string from a name; polars "
                "reads 'orders' in FROM as the table name, so only inputs are read still",
            ),
        ),
        pytest.param("SELECT * FROM db.orders", "a qualified table name", id="qualified"),
        pytest.param("SELECT * FROM orders TABLESAMPLE (5 ROWS)", "with sample", id="sample"),
        pytest.param("SELECT * INTO copy FROM orders", "uses SELECT INTO ('INTO copy')", id="into"),
        pytest.param("TABLE orders", "must be a SELECT", id="table-statement"),
        pytest.param("VALUES (1)", "must be a SELECT", id="values"),
        pytest.param("SHOW TABLES", "must be a SELECT", id="show"),
        pytest.param("EXPLAIN SELECT 1", "must be a SELECT", id="explain"),
        pytest.param("COPY orders TO 'x.csv'", "must be a SELECT", id="copy"),
        pytest.param("ATTACH 'x.db' AS x", "must be a SELECT", id="attach"),
        pytest.param("SELECT 1; SELECT 2", "more than one statement", id="two-statements"),
        pytest.param(
            "SELECT * FROM generate_series(1, 9)", "table function(s) generate_series", id="gen"
        ),
        pytest.param("SELECT x = ANY(SELECT 1) FROM orders", "uses ANY (subquery)", id="any"),
    ],
)
def test_queries_that_read_more_than_tables_are_refused(query: str, message: str) -> None:
    with pytest.raises(RefusedSql) as info:
        check_sql_query(query)
    assert message in info.value.reason
    assert info.value.hint


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("(" * 300 + "a" + ")" * 300 + " > 0", "nested too deeply", id="parens"),
        pytest.param("abs(" * 300 + "a" + ")" * 300 + " > 0", "nested too deeply", id="calls"),
        pytest.param("CASE WHEN a THEN " * 300 + "1" + " END" * 300, "nested", id="case"),
        pytest.param(
            " OR ".join(f"a = {i}" for i in range(20_000)), "characters long", id="long-or-chain"
        ),
    ],
)
def test_texts_too_deep_or_long_to_parse_are_refused_quickly(text: str, message: str) -> None:
    """Not a RecursionError from deep inside sqlglot, nor half a minute of parsing."""
    started = time.perf_counter()
    for check in (check_sql_expression, check_sql_query):
        query = text if check is check_sql_expression else f"SELECT * FROM t WHERE {text}"
        with pytest.raises(RefusedSql, match=message) as info:
            check(query)
        assert info.value.hint
    assert time.perf_counter() - started < 5
    assert check_sql_expression("(" * 20 + "a" + ")" * 20 + " > 0").text  # ordinary nesting


def test_a_long_check_is_named_briefly_in_the_node_error() -> None:
    from pipeline_lab.errors import QualityGateError
    from pipeline_lab.quality import evaluate_check

    long = " OR ".join(f"a = {i}" for i in range(20_000))
    with pytest.raises(QualityGateError, match="characters long") as info:
        evaluate_check(pl.DataFrame({"a": [1]}), long, node="orders")
    assert info.value.node == "orders"
    assert len(info.value.message) < 400
