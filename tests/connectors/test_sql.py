"""The SQL connector against the real PostgreSQL and MariaDB servers, and SQLite.

Every module gets its own databases (see conftest.py); tests that hold for every database
run against all three (``db_url``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline_lab import Node, Pipeline, RetryPolicy
from pipeline_lab.connectors import DataSourceConfig, config_for, open_connector, read, write
from pipeline_lab.connectors.sql import SqlConnector
from pipeline_lab.errors import ConnectorError, TransientConnectorError

ORDERS = pl.DataFrame(
    {
        "id": [1, 2, 3, 4, 5],
        "customer": ["ana", "bo", "émile", "名前", "ana"],
        "amount": [Decimal("10.50"), Decimal("3.25"), None, Decimal("7.00"), Decimal("1.99")],
        "day": [
            dt.date(2024, 1, 1),
            dt.date(2024, 1, 2),
            dt.date(2024, 2, 1),
            None,
            dt.date(2024, 3, 9),
        ],
        "paid": [True, False, None, True, True],
    },
    schema={
        "id": pl.Int32,
        "customer": pl.String,
        "amount": pl.Decimal(10, 2),
        "day": pl.Date,
        "paid": pl.Boolean,
    },
)


def connector(url: str, **secrets: str) -> SqlConnector:
    config = DataSourceConfig(kind=config_for(url).kind, url=url, secrets=secrets)
    sql = open_connector(config)
    assert isinstance(sql, SqlConnector)
    return sql


def execute(url: str, *statements: str, rows: list[dict[str, Any]] | None = None) -> None:
    """Run SQL on the test database directly (SQLAlchemy Core), as a user's own tool would."""
    from sqlalchemy import text

    with connector(url).engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), rows) if rows else connection.execute(
                text(statement)
            )


def count(url: str, table: str) -> int:
    from sqlalchemy import text

    with connector(url).engine.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def make_orders(url: str, table: str) -> str:
    """A table of ORDERS created with the database's own DDL (not by the connector)."""
    execute(
        url,
        f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, customer VARCHAR(50) NOT NULL, "
        "amount DECIMAL(10, 2), day DATE, paid BOOLEAN)",
    )
    rows = ORDERS.to_dicts()
    if url.startswith("sqlite"):  # sqlite3 binds no Decimal
        rows = [{**r, "amount": None if r["amount"] is None else float(r["amount"])} for r in rows]
    execute(url, f"INSERT INTO {table} VALUES (:id, :customer, :amount, :day, :paid)", rows=rows)
    return table


@pytest.fixture
def orders(db_url: str, table_name: str) -> str:
    return make_orders(db_url, table_name)


@pytest.fixture
def pg_orders(pg_url: str, table_name: str) -> str:
    return make_orders(pg_url, table_name)


# -- reading ---------------------------------------------------------------------------------------
def test_read_table(db_url: str, orders: str) -> None:
    frame = read(db_url, table=orders)
    assert_frame_equal(frame.sort("id"), ORDERS)


def test_read_some_columns_with_limit(db_url: str, orders: str) -> None:
    frame = read(db_url, table=orders, columns=["customer", "id"], limit=2)
    assert frame.columns == ["customer", "id"]
    assert frame.height == 2


def test_read_query_binds_parameters(db_url: str, orders: str) -> None:
    query = f"SELECT id, customer FROM {orders} WHERE day >= :since AND customer IN :names"
    frame = read(db_url, query=query, params={"since": dt.date(2024, 1, 2), "names": ["ana", "bo"]})
    assert sorted(frame["id"].to_list()) == [2, 5]


def test_parameters_are_values_never_sql(db_url: str, orders: str) -> None:
    hostile = f"x' OR '1'='1'; DROP TABLE {orders}; --"
    frame = read(
        db_url, query=f"SELECT * FROM {orders} WHERE customer = :name", params={"name": hostile}
    )
    assert frame.height == 0
    assert count(db_url, orders) == 5


def test_query_parameters_must_match(sqlite_url: str) -> None:
    with pytest.raises(ConnectorError, match=r"no value for :day.*no :name placeholder for 'dy'"):
        read(sqlite_url, query="SELECT :day AS d", params={"dy": 1})


@pytest.mark.parametrize("reader", ["auto", "copy", "cursor"])
def test_postgres_readers_agree(pg_url: str, table_name: str, reader: str) -> None:
    execute(
        pg_url,
        f"CREATE TABLE {table_name} (id int, n numeric(12, 2), big numeric(30, 15), f real, "
        "ok bool, s text, d date, ts timestamp, tz timestamptz, j jsonb, b bytea, t time)",
        f"INSERT INTO {table_name} VALUES (1, 1.25, 123456789012345.123456789012345, 1.5, "
        "true, 'a,\"b\"\nc', '2024-02-29', '2024-01-02 03:04:05.123456', "
        "'2024-01-02 03:04:05.123456+02', '{\"k\": [1, 2]}', '\\xdead', '10:11:12.5'), "
        "(2, NULL, NULL, NULL, NULL, '', NULL, NULL, NULL, NULL, NULL, NULL)",
    )
    query = f"SELECT * FROM {table_name} WHERE id >= :low ORDER BY id"
    frame = read(pg_url, query=query, params={"low": 0}, reader=reader)
    plain = read(pg_url, table=table_name).sort("id")
    assert_frame_equal(frame, plain)
    assert frame.schema["big"] == pl.Decimal(30, 15)
    assert frame["big"][0] == Decimal("123456789012345.123456789012345")  # connectorx would cut it
    assert frame["tz"][0] == dt.datetime(2024, 1, 2, 1, 4, 5, 123456, tzinfo=dt.timezone.utc)
    assert frame["s"].to_list() == ['a,"b"\nc', ""]  # an empty string is not a null
    assert json.loads(frame["j"][0]) == {"k": [1, 2]}
    assert frame["b"][0] == b"\xde\xad"


def test_offset_pages_by_primary_key(db_url: str, orders: str) -> None:
    assert read(db_url, table=orders, limit=2, offset=2)["id"].to_list() == [3, 4]
    query = f"SELECT id FROM {orders} WHERE id > :low"
    assert read(db_url, query=query, params={"low": 0}, offset=4).height == 1


def test_copy_chunks_split_rows_only_between_rows(
    pg_url: str, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline_lab.connectors.sql import _copy as _sql_copy

    texts = [f'line {i}\n"quoted, {i}"\n' * (i % 4) for i in range(300)]
    frame = pl.DataFrame({"id": range(300), "text": texts})
    write(frame, pg_url, table=table_name)
    monkeypatch.setattr(_sql_copy, "_PIECE", 97)  # CSV pieces far smaller than a row
    query = f"SELECT * FROM {table_name} WHERE id >= :low ORDER BY id"
    batches = list(
        connector(pg_url).read_batches(query=query, params={"low": 0}, chunk_size=64, reader="copy")
    )
    assert [b.height for b in batches] == [64, 64, 64, 64, 44]
    assert_frame_equal(pl.concat(batches), frame)


def test_copy_falls_back_to_the_cursor(
    pg_url: str, pg_orders: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline_lab.connectors.sql import _copy as _sql_copy

    def unparsable(data: bytes, schema: Any) -> pl.DataFrame:
        raise _sql_copy.Unparsable("year 0 is out of range")

    monkeypatch.setattr(_sql_copy, "_parse_csv", unparsable)
    query = f"SELECT * FROM {pg_orders} WHERE id > :low"
    assert_frame_equal(read(pg_url, query=query, params={"low": 0}).sort("id"), ORDERS)
    with pytest.raises(ConnectorError, match="cannot be read from COPY") as info:
        read(pg_url, query=query, params={"low": 0}, reader="copy")
    assert "reader='cursor'" in (info.value.hint or "")


def test_statements_that_cannot_be_a_subquery_run_as_written(pg_url: str, mysql_url: str) -> None:
    assert read(pg_url, query="SHOW server_version").columns == ["server_version"]
    assert read(mysql_url, query="SHOW VARIABLES LIKE 'version'").height == 1


def test_connectorx_cannot_bind_parameters(pg_url: str, pg_orders: str) -> None:
    query = f"SELECT * FROM {pg_orders} WHERE id = :id"
    with pytest.raises(ConnectorError, match="connectorx cannot bind parameters"):
        read(pg_url, query=query, params={"id": 1}, reader="connectorx")


# -- type round trips ------------------------------------------------------------------------------
def typed() -> pl.DataFrame:
    """Every type the issue names, with nulls and unicode."""
    utc = dt.timezone.utc
    return pl.DataFrame(
        {
            "id": [1, 2, 3],
            "small": [1, None, -32768],
            "big": [2**62, None, -(2**62)],
            "amount": [Decimal("12345.67"), None, Decimal("-0.01")],
            "ratio": [0.1, None, -2.5e-300],
            "ok": [True, None, False],
            "label": ['日本語 ✓, "quoted"\nline', None, ""],
            "day": [dt.date(2024, 2, 29), None, dt.date(1969, 12, 31)],
            "ts": [
                dt.datetime(2024, 3, 31, 1, 30, 0, 123456),
                None,
                dt.datetime(1999, 12, 31, 23, 59),
            ],
            "tz": [
                dt.datetime(2024, 3, 31, 1, 30, 0, 123456, tzinfo=utc),
                None,
                dt.datetime(2000, 1, 1, tzinfo=utc),
            ],
            "doc": [{"a": 1, "b": "é"}, None, {"a": 2, "b": ""}],
        },
        schema={
            "id": pl.Int64,
            "small": pl.Int16,
            "big": pl.Int64,
            "amount": pl.Decimal(12, 2),
            "ratio": pl.Float64,
            "ok": pl.Boolean,
            "label": pl.String,
            "day": pl.Date,
            "ts": pl.Datetime("us"),
            "tz": pl.Datetime("us", "Europe/Paris"),
            "doc": pl.Struct({"a": pl.Int64, "b": pl.String}),
        },
    )


def test_type_round_trip(db_url: str, table_name: str) -> None:
    frame = typed()
    result = write(frame, db_url, table=table_name, key="id")
    assert result.rows == 3
    back = read(db_url, table=table_name).sort("id")

    expected = frame.with_columns(pl.col("doc").struct.json_encode())
    if db_url.startswith("postgresql"):
        # PostgreSQL keeps the instant of a time-zone-aware timestamp, in UTC.
        expected = expected.with_columns(pl.col("tz").dt.convert_time_zone("UTC"))
    else:
        # MySQL and SQLite have no time-zone-aware type: stored as UTC, read back without one.
        expected = expected.with_columns(
            pl.col("tz").dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        )
    # JSON comes back as text; databases may respace it: compare the documents.
    assert [json.loads(v) if v else v for v in back["doc"]] == [
        json.loads(v) if v else v for v in expected["doc"]
    ]
    assert_frame_equal(back.drop("doc"), expected.drop("doc"), check_dtypes=False)
    assert back.schema["amount"] == pl.Decimal(12, 2)
    assert back.schema["ok"] == pl.Boolean
    assert back.schema["day"] == pl.Date
    assert isinstance(back.schema["ts"], pl.Datetime)


def test_empty_result_keeps_the_schema(db_url: str, orders: str) -> None:
    frame = read(db_url, table=orders, limit=0)
    assert frame.height == 0
    assert frame.schema["amount"] == pl.Decimal(10, 2)
    assert frame.schema["day"] == pl.Date


# -- chunks and partitions -------------------------------------------------------------------------
@pytest.fixture
def many(db_url: str, table_name: str) -> str:
    """2,500 rows with a numeric key, a date key, and nulls in both."""
    frame = pl.DataFrame(
        {
            "id": range(2500),
            "day": [
                dt.date(2024, 1, 1) + dt.timedelta(days=i % 400) if i % 97 else None
                for i in range(2500)
            ],
            "value": [f"v{i}" if i % 13 else None for i in range(2500)],
        }
    ).with_columns(pl.when(pl.col("id") % 101 == 0).then(None).otherwise(pl.col("id")).alias("num"))
    write(frame, db_url, table=table_name)
    return table_name


def test_chunked_read_equals_plain_read(db_url: str, many: str) -> None:
    plain = read(db_url, table=many).sort("id")
    chunked = read(db_url, table=many, chunk_size=300).sort("id")
    assert_frame_equal(chunked, plain)
    query = f"SELECT * FROM {many} WHERE id >= :low"
    assert_frame_equal(
        read(db_url, query=query, params={"low": 0}, chunk_size=700).sort("id"), plain
    )


def test_read_batches_hands_out_chunks(db_url: str, many: str) -> None:
    batches = list(connector(db_url).read_batches(table=many, chunk_size=1000))
    assert [b.height for b in batches] == [1000, 1000, 500]
    parameterized = connector(db_url).read_batches(
        query=f"SELECT * FROM {many} WHERE id < :n", params={"n": 1500}, chunk_size=1000
    )
    assert [b.height for b in parameterized] == [1000, 500]


@pytest.mark.parametrize("key", ["id", "num", "day"])
def test_partitioned_read_equals_plain_read(db_url: str, many: str, key: str) -> None:
    plain = read(db_url, table=many).sort("id")
    parts = read(db_url, table=many, partition_on=key, partitions=4).sort("id")
    assert_frame_equal(parts, plain)
    query = f"SELECT * FROM {many} WHERE id >= :low"
    by_query = read(db_url, query=query, params={"low": 0}, partition_on=key, partitions=3)
    assert_frame_equal(by_query.sort("id"), plain)


def test_partition_key_must_be_numeric_or_date(db_url: str, many: str) -> None:
    with pytest.raises(ConnectorError, match="numeric or date"):
        read(db_url, table=many, partition_on="value")


# -- writing ---------------------------------------------------------------------------------------
def test_write_creates_the_table_with_its_key(db_url: str, table_name: str) -> None:
    from sqlalchemy import inspect

    write(ORDERS, db_url, table=table_name, key="id")
    with connector(db_url).engine.connect() as connection:
        primary = inspect(connection).get_pk_constraint(table_name)["constrained_columns"]
    assert primary == ["id"]
    assert_frame_equal(read(db_url, table=table_name).sort("id"), ORDERS, check_dtypes=False)


def test_append(db_url: str, orders: str) -> None:
    more = ORDERS.with_columns(pl.col("id") + 10)
    result = write(more, db_url, table=orders, mode="append")
    assert result.rows == 5
    assert count(db_url, orders) == 10


def test_replace_keeps_the_table_when_the_frame_fits(db_url: str, orders: str) -> None:
    execute(db_url, f"CREATE INDEX ix_{orders} ON {orders} (customer)")
    write(ORDERS.head(2), db_url, table=orders, mode="replace")
    assert count(db_url, orders) == 2
    from sqlalchemy import inspect

    with connector(db_url).engine.connect() as connection:
        assert [i["name"] for i in inspect(connection).get_indexes(orders)] == [f"ix_{orders}"]


def test_replace_recreates_a_table_of_other_columns(db_url: str, orders: str) -> None:
    other = pl.DataFrame({"code": ["x", "y"], "n": [1.5, 2.5]})
    write(other, db_url, table=orders, mode="replace")
    assert_frame_equal(read(db_url, table=orders).sort("code"), other)


def test_upsert_updates_and_inserts(db_url: str, orders: str) -> None:
    changes = pl.DataFrame(
        {"id": [2, 9], "customer": ["bo (updated)", "new"], "amount": [Decimal("4.00"), None]},
        schema={"id": pl.Int32, "customer": pl.String, "amount": pl.Decimal(10, 2)},
    )
    write(changes, db_url, table=orders, mode="upsert", key="id")
    frame = read(db_url, table=orders).sort("id")
    assert frame["id"].to_list() == [1, 2, 3, 4, 5, 9]
    row = frame.filter(pl.col("id") == 2).row(0, named=True)
    assert (row["customer"], row["amount"], row["day"]) == (
        "bo (updated)",
        Decimal("4.00"),
        dt.date(2024, 1, 2),
    )


def test_upsert_on_a_composite_key_beside_an_identity_column(pg_url: str, table_name: str) -> None:
    execute(
        pg_url,
        f"CREATE TABLE {table_name} (row_id int GENERATED ALWAYS AS IDENTITY, "
        "region text, day date, total numeric(10, 2), PRIMARY KEY (region, day))",
        f"INSERT INTO {table_name} (region, day, total) VALUES ('eu', '2024-01-01', 1)",
    )
    changes = pl.DataFrame(
        {"region": ["eu", "us"], "day": [dt.date(2024, 1, 1)] * 2, "total": [Decimal("5.00")] * 2}
    )
    write(changes, pg_url, table=table_name, mode="upsert", key=["region", "day"])
    frame = read(pg_url, table=table_name).sort("region")
    assert frame.select("region", "total").rows() == [
        ("eu", Decimal("5.00")),
        ("us", Decimal("5.00")),
    ]
    assert frame["row_id"][0] == 1  # the updated row keeps its identity


# -- upserts into tables without a constraint on the key: delete-insert ----------------------------
def tables_now(url: str) -> set[str]:
    from sqlalchemy import inspect

    with connector(url).engine.connect() as connection:
        found = inspect(connection)
        temporary = set(found.get_temp_table_names()) if url.startswith("sqlite") else set()
        return set(found.get_table_names()) | temporary


def rows_of(url: str, table: str, *columns: str) -> list[tuple[Any, ...]]:
    frame = read(url, table=table).select(columns)
    return sorted(frame.rows(), key=lambda row: tuple((v is None, str(v)) for v in row))


@pytest.fixture
def loose(db_url: str, table_name: str) -> str:
    """A table with no primary key or unique constraint; key 2 twice, and a null key."""
    execute(
        db_url,
        f"CREATE TABLE {table_name} (id INTEGER, customer VARCHAR(50) NOT NULL, "
        "amount INTEGER, note VARCHAR(20))",
        f"INSERT INTO {table_name} VALUES (1, 'ana', 10, 'first'), (2, 'bo', 20, 'old'), "
        "(2, 'bo again', 21, 'older'), (NULL, 'nobody', 0, 'null key')",
    )
    return table_name


def test_upsert_without_a_constraint_deletes_then_inserts(db_url: str, loose: str) -> None:
    changes = pl.DataFrame(
        {"id": [2, 9], "customer": ["bo (new)", "new"], "amount": [22, 90]},
        schema={"id": pl.Int32, "customer": pl.String, "amount": pl.Int32},
    )
    before = tables_now(db_url)
    result = write(changes, db_url, table=loose, mode="upsert", key="id")
    assert result.rows == 2
    rows = rows_of(db_url, loose, "id", "customer", "amount", "note")
    # Both rows of key 2 are replaced by the frame's one row; the note (not in the frame)
    # keeps the value one of them had, as an upsert on a constraint keeps it.
    assert rows[1] in [(2, "bo (new)", 22, "old"), (2, "bo (new)", 22, "older")]
    assert rows[:1] + rows[2:] == [
        (1, "ana", 10, "first"),  # another key: untouched
        (9, "new", 90, None),  # a new key: inserted
        (None, "nobody", 0, "null key"),  # a null key matches nothing: untouched
    ]
    assert tables_now(db_url) == before  # no staging table left behind
    write(changes, db_url, table=loose, mode="upsert", key="id")  # again: the same rows
    assert count(db_url, loose) == 4


def test_upsert_without_a_constraint_keeps_the_columns_the_frame_lacks(
    db_url: str, table_name: str
) -> None:
    """Old rows keep them; new rows take the column's default (NOT NULL ones too)."""
    execute(
        db_url,
        f"CREATE TABLE {table_name} (id INTEGER, name VARCHAR(20), "
        "email VARCHAR(50), status VARCHAR(10) NOT NULL DEFAULT 'active')",
        f"INSERT INTO {table_name} VALUES (1, 'ann', 'ann@x.org', 'vip'), "
        "(2, 'bob', 'bob@x.org', 'active')",
    )
    changes = pl.DataFrame({"id": [1, 3], "name": ["ANN", "cy"]})
    write(changes, db_url, table=table_name, mode="upsert", key="id")
    assert rows_of(db_url, table_name, "id", "name", "email", "status") == [
        (1, "ANN", "ann@x.org", "vip"),
        (2, "bob", "bob@x.org", "active"),
        (3, "cy", None, "active"),
    ]


def test_upsert_on_a_composite_text_key_without_a_constraint(db_url: str, table_name: str) -> None:
    execute(
        db_url,
        f"CREATE TABLE {table_name} (region TEXT, day DATE, total INTEGER)",
        f"INSERT INTO {table_name} VALUES ('eu', '2024-01-01', 1), ('eu', '2024-01-02', 2), "
        "('us', '2024-01-01', 3)",
    )
    changes = pl.DataFrame(
        {
            "region": ["eu", "us", "ap"],
            "day": [dt.date(2024, 1, 2), dt.date(2024, 1, 2), dt.date(2024, 1, 1)],
            "total": [20, 40, 50],
        }
    )
    write(changes, db_url, table=table_name, mode="upsert", key=["region", "day"])
    assert rows_of(db_url, table_name, "region", "day", "total") == [
        ("ap", dt.date(2024, 1, 1), 50),
        ("eu", dt.date(2024, 1, 1), 1),
        ("eu", dt.date(2024, 1, 2), 20),
        ("us", dt.date(2024, 1, 1), 3),
        ("us", dt.date(2024, 1, 2), 40),
    ]


def test_a_failed_delete_insert_leaves_the_table_as_it_was(db_url: str, loose: str) -> None:
    """The rows of key 2 are deleted before the insert fails (customer is NOT NULL): rolled back."""
    before, tables = rows_of(db_url, loose, "id", "customer", "amount", "note"), tables_now(db_url)
    changes = pl.DataFrame({"id": [2, 3], "customer": ["bo (new)", None], "amount": [1, 2]})
    with pytest.raises(ConnectorError, match="customer"):
        write(changes, db_url, table=loose, mode="upsert", key="id", chunk_size=1)
    assert rows_of(db_url, loose, "id", "customer", "amount", "note") == before
    assert tables_now(db_url) == tables
    write(changes.head(1), db_url, table=loose, mode="upsert", key="id")  # the session is fine
    assert count(db_url, loose) == 3


def test_upsert_refuses_a_null_key_naming_it(db_url: str, loose: str) -> None:
    changes = pl.DataFrame(
        {"id": [2, None, None], "customer": ["a", "b", "c"], "amount": [1, 2, 3]}
    )
    with pytest.raises(ConnectorError) as info:
        write(changes, db_url, table=loose, mode="upsert", key=["id"])
    assert "key column 'id' is null in 2 of 3 rows" in info.value.message
    assert "drop_nulls(subset=['id'])" in (info.value.hint or "")
    assert count(db_url, loose) == 4


def test_upsert_refuses_a_key_twice_naming_it(db_url: str, loose: str) -> None:
    changes = pl.DataFrame(
        {"id": [2, 3, 2, 3, 4], "customer": list("abcde"), "amount": [1, 2, 3, 4, 5]}
    )
    with pytest.raises(ConnectorError, match=r"the same key more than once \(id=2; id=3\)"):
        write(changes, db_url, table=loose, mode="upsert", key="id")
    composite = pl.DataFrame({"id": [1, 1, 1], "customer": ["a", "a", "b"], "amount": [1, 2, 3]})
    with pytest.raises(ConnectorError, match=r"more than once \(id=1, customer='a'\)"):
        write(composite, db_url, table=loose, mode="upsert", key=["id", "customer"])
    assert count(db_url, loose) == 4


def test_upsert_refuses_a_key_twice_in_the_frame(db_url: str, orders: str) -> None:
    twice = ORDERS.head(2).with_columns(pl.lit(1, pl.Int32).alias("id"))
    with pytest.raises(ConnectorError, match="same key more than once"):
        write(twice, db_url, table=orders, mode="upsert", key="id")


def test_mode_error_refuses_an_existing_table(db_url: str, orders: str) -> None:
    with pytest.raises(ConnectorError, match="already exists"):
        write(ORDERS, db_url, table=orders, mode="error")


# -- nothing half-written --------------------------------------------------------------------------
def test_conflicting_schema_writes_nothing(db_url: str, orders: str) -> None:
    wrong = ORDERS.with_columns(pl.col("day").cast(pl.String) + "?")  # text into a DATE
    with pytest.raises(ConnectorError, match=r"'day' holds String but the table's column is DATE"):
        write(wrong, db_url, table=orders, mode="append")
    extra = ORDERS.with_columns(pl.lit(1).alias("discount"))
    with pytest.raises(ConnectorError, match=r"'discount' is not a column of table") as info:
        write(extra, db_url, table=orders, mode="append")
    assert "its columns: id, customer, amount, day, paid" in str(info.value)
    assert count(db_url, orders) == 5


def test_a_rejected_row_rolls_the_whole_write_back(db_url: str, orders: str) -> None:
    # The last row breaks NOT NULL; the first batches went in before: all must go.
    rows = ORDERS.with_columns(pl.col("id") + 100).with_columns(
        pl.when(pl.col("id") == 105).then(None).otherwise(pl.col("customer")).alias("customer")
    )
    for mode in ("append", "replace", "upsert"):
        with pytest.raises(ConnectorError):
            write(rows, db_url, table=orders, mode=mode, key="id", chunk_size=2)
        assert_frame_equal(read(db_url, table=orders).sort("id"), ORDERS)


def test_a_failed_write_to_a_new_table_leaves_no_table(db_url: str, table_name: str) -> None:
    from sqlalchemy import inspect

    with connector(db_url).engine.connect() as connection:
        before = set(inspect(connection).get_table_names())
    twice = pl.DataFrame({"id": [1, 2, 3, 1], "v": ["a", "b", "c", "d"]})  # the key repeats
    with pytest.raises(ConnectorError):
        write(twice, db_url, table=table_name, key="id", chunk_size=2)
    with connector(db_url).engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == before  # no table, no staging table


# -- bad names -------------------------------------------------------------------------------------
def test_missing_table_lists_what_exists(db_url: str, orders: str) -> None:
    with pytest.raises(ConnectorError) as info:
        read(db_url, table=orders[:-1] + "x")
    assert "its tables: " in str(info.value) and orders in str(info.value)
    assert orders in (info.value.hint or "")  # "did you mean ...?"
    with pytest.raises(ConnectorError, match=r"table 'nothere' does not exist") as info:
        read(db_url, query="SELECT * FROM nothere")
    # The module's database holds every test's tables: past 30 the list says how many in all.
    listed = str(info.value).partition("its tables: ")[2]
    assert orders in listed or re.search(r"\.\.\. \(\d+ in all\)", listed), listed


def test_missing_column_lists_the_columns(db_url: str, orders: str) -> None:
    with pytest.raises(ConnectorError) as info:
        read(db_url, table=orders, columns=["id", "amout"])
    assert "'amout' is not a column" in str(info.value)
    assert "id, customer, amount, day, paid" in str(info.value)
    assert "'amount'" in (info.value.hint or "")
    with pytest.raises(ConnectorError) as info:
        read(db_url, query=f"SELECT amout FROM {orders} WHERE id > :n", params={"n": 0})
    assert "column 'amout'" in str(info.value) and "amount" in str(info.value)


def test_names_are_quoted_not_pasted(db_url: str, table_name: str) -> None:
    odd = pl.DataFrame({"order id": [1, 2], "Amount %": [1.5, 2.5], "sélection": ["a", "b"]})
    write(odd, db_url, table=table_name)
    assert_frame_equal(read(db_url, table=table_name).sort("order id"), odd)
    with pytest.raises(ConnectorError, match="does not exist"):
        read(db_url, table=f"{table_name}; DROP TABLE {table_name}")
    assert count(db_url, table_name) == 2


def test_unknown_option_is_an_error(sqlite_url: str) -> None:
    with pytest.raises(ConnectorError, match=r"unknown read option\(s\) for a database: chunksize"):
        read(sqlite_url, query="SELECT 1 AS x", chunksize=10)


# -- unreachable servers and logins ----------------------------------------------------------------
@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://postgres@127.0.0.1:1/x", "mysql+pymysql://root@127.0.0.1:1/x"]
)
def test_closed_port_is_transient_and_names_the_server(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PL_TEST_DB_PASSWORD", "s3cret-value")
    sql = connector(url, password="env:PL_TEST_DB_PASSWORD")
    with pytest.raises(TransientConnectorError) as info:
        sql.read(table="orders")
    assert "127.0.0.1:1" in str(info.value)
    assert "s3cret-value" not in str(info.value) and "s3cret-value" not in repr(info.value)
    assert sql.test().ok is False and "127.0.0.1:1" in sql.test().message


def test_closed_port_is_retried_by_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_LAB_STORE", "off")
    pipeline = Pipeline("retry")
    pipeline.add(
        Node(
            "src",
            component="read_sql",
            params={"source": "postgresql+psycopg://postgres@127.0.0.1:1/x", "table": "t"},
            retry=RetryPolicy(retries=2, delay=0.01),
        )
    )
    result = pipeline.run()
    run = result.node_runs["src"]
    assert run.status.value == "failed" and run.attempts == 3
    assert "127.0.0.1:1" in (run.error or "")


@pytest.fixture
def mysql_user(mysql_url: str) -> Iterator[tuple[str, str]]:
    """A MariaDB user with a password, allowed into the test database; dropped after."""
    import pymysql

    user, password = f"pl_{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    database = mysql_url.rsplit("/", 1)[1]
    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    with admin, admin.cursor() as cursor:
        cursor.execute(
            f"CREATE USER '{user}'@'%' IDENTIFIED BY %s".replace("'%'", "'%%'"), (password,)
        )
        cursor.execute(f"GRANT ALL ON `{database}`.* TO '{user}'@'%'")
    yield f"mysql+pymysql://{user}@127.0.0.1:3306/{database}", password
    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    with admin, admin.cursor() as cursor:
        cursor.execute(f"DROP USER '{user}'@'%'")


def test_password_comes_from_the_secret_reference(
    mysql_user: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, password = mysql_user
    monkeypatch.setenv("PL_TEST_MYSQL_PASSWORD", password)
    sql = connector(url, password="env:PL_TEST_MYSQL_PASSWORD")
    assert sql.test().ok
    write(ORDERS, sql.config, table="by_user")
    assert read(sql.config, table="by_user").height == 5
    assert sql.engine.url.password is None  # the engine never holds it
    assert password not in sql.describe() and password not in repr(sql.engine)


def test_wrong_password_is_not_transient_and_not_shown(
    mysql_user: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = mysql_user
    monkeypatch.setenv("PL_TEST_MYSQL_PASSWORD", "wrong-password-123")
    sql = connector(url, password="env:PL_TEST_MYSQL_PASSWORD")
    with pytest.raises(ConnectorError) as info:
        sql.read(table="orders")
    assert not isinstance(info.value, TransientConnectorError)
    assert "refused the login" in str(info.value) and "127.0.0.1:3306" in str(info.value)
    assert "env:PL_TEST_MYSQL_PASSWORD" in (info.value.hint or "")
    assert "wrong-password-123" not in str(info.value)


def test_missing_secret_names_the_variable(mysql_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PL_TEST_NOT_SET", raising=False)
    sql = connector(mysql_url.replace("root@", "someone@"), password="env:PL_TEST_NOT_SET")
    with pytest.raises(ConnectorError, match="PL_TEST_NOT_SET"):
        sql.read(table="orders")


# -- identity, inspection, the engine --------------------------------------------------------------
def test_dataset_identities() -> None:
    pg = connector("postgresql://me@db.example:5433/shop")
    assert str(pg.dataset(table="orders")) == "postgres://db.example:5433/shop.public.orders"
    assert pg.dataset(table="sales.orders").name == "shop.sales.orders"
    assert pg.dataset(query="SELECT * FROM orders o WHERE o.id = :id").name == "shop.public.orders"
    joined = pg.dataset(query="SELECT * FROM a JOIN b ON a.id = b.id")
    assert joined.name.startswith("shop.public.query_") and joined.facets["tables"] == ["a", "b"]
    assert joined == pg.dataset(query="SELECT *  FROM a\nJOIN b ON a.id = b.id")  # stable
    my = connector("mariadb://me@db.example/shop")
    assert str(my.dataset(table="orders")) == "mysql://db.example:3306/shop.orders"
    lite = connector("sqlite:///relative/shop.db")
    assert lite.dataset(table="orders").namespace.startswith("sqlite:///")
    assert lite.dataset(table="orders").namespace.endswith("/relative/shop.db")


def test_run_reports_the_datasets(
    db_url: str, orders: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPELINE_LAB_STORE", "off")
    pipeline = Pipeline("lineage", params={"since": dt.date(2024, 1, 2)})
    query = f"SELECT * FROM {orders} WHERE day >= :since AND customer <> :skip"
    pipeline.add(
        Node(
            "src",
            component="read_sql",
            params={"source": db_url, "query": query, "params": {"skip": "bo"}},
        )
    )
    pipeline.add(
        Node(
            "out",
            component="write_sql",
            params={"input": "src", "target": db_url, "table": f"{orders}_copy", "mode": "replace"},
        )
    )
    result = pipeline.run()
    assert result.status == "succeeded", result.node_runs
    sql = connector(db_url)
    (read_use,) = result.node_runs["src"].datasets
    assert (read_use.direction, read_use.dataset) == ("input", sql.dataset(table=orders))
    assert read_use.dataset.facets["schema"]["amount"].startswith("Decimal")
    (write_use,) = result.node_runs["out"].datasets
    assert (write_use.direction, write_use.dataset) == (
        "output",
        sql.dataset(table=f"{orders}_copy"),
    )
    assert result.outputs["out"]["rows"].to_list() == [2]  # ids 3 and 5 (day >= since, not bo)
    assert sorted(read(db_url, table=f"{orders}_copy")["id"].to_list()) == [3, 5]


def test_inspect_lists_tables_columns_and_estimates(db_url: str, orders: str) -> None:
    if db_url.startswith("postgresql"):
        execute(db_url, f"ANALYZE {orders}")
    elif db_url.startswith("mysql"):
        execute(db_url, f"ANALYZE TABLE {orders}")
    (info,) = [t for t in connector(db_url).inspect() if t.name == orders]
    assert [c.name for c in info.columns] == ["id", "customer", "amount", "day", "paid"]
    assert "DECIMAL" in info.columns[2].type.upper() or "NUMERIC" in info.columns[2].type.upper()
    assert info.columns[1].nullable is False
    if not db_url.startswith("sqlite"):
        assert info.rows == 5


def test_postgres_urls_without_a_driver_use_psycopg(pg_url: str, pg_orders: str) -> None:
    for scheme in ("postgresql://", "postgres://"):
        sql = connector(pg_url.replace("postgresql+psycopg://", scheme))
        assert sql.engine.dialect.driver == "psycopg"
        assert sql.read(table=pg_orders).height == 5


def test_engines_are_cached_per_url_and_secret(pg_url: str) -> None:
    assert connector(pg_url).engine is connector(pg_url).engine
    assert connector(pg_url).engine is not connector(pg_url, password="env:X").engine


# -- components ------------------------------------------------------------------------------------
def test_read_sql_component_code_and_checks() -> None:
    from pipeline_lab.components import ComponentError, get_component

    read_sql = get_component("read_sql")
    node = read_sql(
        {
            "source": "postgresql+psycopg://me@db/shop",
            "query": "SELECT * FROM t WHERE d >= :d AND k = :k",
            "params": {"k": 1},
        }
    )
    assert node.to_code() == (
        "pipeline_lab.read('postgresql+psycopg://me@db/shop', "
        "query='SELECT * FROM t WHERE d >= :d AND k = :k', params={'k': 1, 'd': d})"
    )
    assert read_sql({"source": "warehouse", "table": "orders"}).to_code() == (
        "pipeline_lab.read('warehouse', table='orders')"
    )
    with pytest.raises(ComponentError, match="exactly one of 'table' or 'query'"):
        read_sql({"source": "warehouse"})
    with pytest.raises(ComponentError, match="holds a password") as info:
        read_sql({"source": "postgresql://me:hunter22@db/shop", "table": "t"})
    assert "hunter22" not in str(info.value)


def test_write_sql_component_code_and_checks() -> None:
    from pipeline_lab.components import ComponentError, get_component

    write_sql = get_component("write_sql")
    node = write_sql(
        {"input": "daily", "target": "warehouse", "table": "report", "mode": "upsert", "key": "day"}
    )
    assert node.to_code() == (
        "pipeline_lab.write(daily.collect(), 'warehouse', table='report', mode='upsert', key='day')"
    )
    assert node.input_names() == ("daily",)
    with pytest.raises(ComponentError, match="needs 'key'"):
        write_sql({"input": "daily", "target": "warehouse", "table": "report", "mode": "upsert"})
