"""SQL Server and Oracle cannot run on this machine: their dialect-specific SQL (MERGE upserts,
OFFSET/FETCH paging, type mapping) is checked as SQLAlchemy compiles it, without a driver.
PostgreSQL, MySQL and SQLite appear beside them for comparison; test_sql.py runs those for real.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from sqlalchemy import Column, Integer, MetaData, Numeric, String, Table, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import mssql, mysql, oracle, postgresql, sqlite
from sqlalchemy.schema import CreateTable

from pipeline_lab.connectors import DataSourceConfig, open_connector
from pipeline_lab.connectors.sql._engine import engine_for, sqlalchemy_url
from pipeline_lab.connectors.sql._errors import is_transient
from pipeline_lab.connectors.sql._plan import ReadPlan, statement
from pipeline_lab.connectors.sql._types import column_type, polars_dtype, write_cast
from pipeline_lab.connectors.sql._upsert import merge_rows, upsert_statement
from pipeline_lab.errors import ConnectorError


def sql_server() -> Any:
    """The pyodbc dialect as it initializes against SQL Server 2022."""
    dialect = mssql.pyodbc.dialect(paramstyle="qmark")  # pyodbc's own
    dialect.server_version_info = (16, 0, 1000)
    dialect._supports_offset_fetch = True
    dialect.deprecate_large_types = True
    return dialect


def oracle_19c() -> Any:
    """The python-oracledb dialect as it initializes against Oracle 19c (no BOOLEAN type)."""
    dialect = oracle.oracledb.dialect()
    dialect.server_version_info = (19, 0)
    dialect.supports_native_boolean = False
    dialect._supports_offset_fetch = True
    return dialect


DIALECTS = {
    "mssql": sql_server,
    "oracle": oracle_19c,
    "postgresql": postgresql.psycopg.dialect,
    "mysql": mysql.pymysql.dialect,
    "sqlite": sqlite.pysqlite.dialect,
}


def orders(schema: str | None = "sales") -> Table:
    return Table(
        "orders",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("amount", Numeric(12, 2)),
        Column("note:text", String(50)),  # a colon in a name must not become a parameter
        schema=schema,
    )


def sql(stmt: Any, dialect: Any) -> str:
    return " ".join(str(stmt.compile(dialect=dialect)).split())


# -- upserts -----------------------------------------------------------------------------------
def test_sql_server_upsert_is_a_merge() -> None:
    dialect = sql_server()
    stmt = upsert_statement(orders(), ["id"], dialect)
    assert sql(stmt, dialect) == (
        "MERGE INTO sales.orders WITH (HOLDLOCK) AS t "
        "USING (SELECT ? AS id, ? AS amount, ? AS [note:text]) AS s ON t.id = s.id "
        "WHEN MATCHED THEN UPDATE SET t.amount = s.amount, t.[note:text] = s.[note:text] "
        "WHEN NOT MATCHED THEN INSERT (id, amount, [note:text]) "
        "VALUES (s.id, s.amount, s.[note:text]);"
    )


def test_oracle_upsert_is_a_merge() -> None:
    dialect = oracle_19c()
    stmt = upsert_statement(orders(), ["id"], dialect)
    assert sql(stmt, dialect) == (
        "MERGE INTO sales.orders t "
        'USING (SELECT :p0 AS id, :p1 AS amount, :p2 AS "note:text" FROM dual) s ON (t.id = s.id) '
        'WHEN MATCHED THEN UPDATE SET t.amount = s.amount, t."note:text" = s."note:text" '
        'WHEN NOT MATCHED THEN INSERT (id, amount, "note:text") '
        'VALUES (s.id, s.amount, s."note:text")'
    )


def test_merge_binds_rows_by_position() -> None:
    rows = [{"id": 1, "amount": 2, "note:text": "x"}]
    assert merge_rows(rows, ["id", "amount", "note:text"]) == [{"p0": 1, "p1": 2, "p2": "x"}]


@pytest.mark.parametrize("dialect", ["mssql", "oracle"])
def test_merge_on_a_key_only_table_only_inserts(dialect: str) -> None:
    compiled = sql(
        upsert_statement(
            Table("k", MetaData(), Column("id", Integer)), ["id"], DIALECTS[dialect]()
        ),
        DIALECTS[dialect](),
    )
    assert "WHEN MATCHED" not in compiled and "WHEN NOT MATCHED THEN INSERT" in compiled


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (
            "postgresql",
            'ON CONFLICT (id) DO UPDATE SET amount = excluded.amount, "note:text" = excluded."note:text"',
        ),
        (
            "sqlite",
            'ON CONFLICT (id) DO UPDATE SET amount = excluded.amount, "note:text" = excluded."note:text"',
        ),
        (
            "mysql",
            "ON DUPLICATE KEY UPDATE amount = VALUES(amount), `note:text` = VALUES(`note:text`)",
        ),
    ],
)
def test_other_upserts(dialect: str, expected: str) -> None:
    compiled = sql(upsert_statement(orders(None), ["id"], DIALECTS[dialect]()), DIALECTS[dialect]())
    assert compiled.endswith(expected)


# -- paging ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (
            "mssql",
            "FROM sales.orders ORDER BY sales.orders.id OFFSET 20 ROWS FETCH FIRST 10 ROWS ONLY",
        ),
        (
            "oracle",
            "FROM sales.orders ORDER BY sales.orders.id OFFSET 20 ROWS FETCH FIRST 10 ROWS ONLY",
        ),
        ("postgresql", "FROM sales.orders ORDER BY sales.orders.id LIMIT 10 OFFSET 20"),
        ("mysql", "FROM sales.orders ORDER BY sales.orders.id LIMIT 20, 10"),
        ("sqlite", "FROM sales.orders ORDER BY sales.orders.id LIMIT 10 OFFSET 20"),
    ],
)
def test_table_pages_by_primary_key(dialect: str, expected: str) -> None:
    table = orders()
    plan = ReadPlan(select(*table.columns), table=True, bound=False, order=(table.c.id,))
    compiled = " ".join(statement(plan, DIALECTS[dialect](), limit=10, offset=20).split())
    assert compiled.endswith(expected)


def test_sql_server_limit_alone_is_top() -> None:
    table = orders()
    plan = ReadPlan(select(*table.columns), table=True, bound=False, order=(table.c.id,))
    assert statement(plan, sql_server(), limit=5).startswith("SELECT TOP 5 ")


@pytest.mark.parametrize("dialect", ["mssql", "oracle"])
def test_a_query_pages_in_a_subquery(dialect: str) -> None:
    plan = ReadPlan(
        text("__pipeline_lab_query__"),
        table=False,
        bound=False,
        raw="SELECT a FROM b",
        query="SELECT a FROM b",
    )
    compiled = " ".join(statement(plan, DIALECTS[dialect](), limit=5, offset=10).split())
    assert "(SELECT a FROM b)" in compiled
    # SQL Server needs an ORDER BY for OFFSET; a query's rows have no order of their own.
    assert compiled.endswith("ORDER BY (SELECT NULL) OFFSET 10 ROWS FETCH FIRST 5 ROWS ONLY")


def test_bound_query_keeps_its_parameters_per_dialect() -> None:
    clause = text("SELECT * FROM t WHERE d >= :day").bindparams(day="2025-01-01")
    plan = ReadPlan(clause, table=False, bound=True, query="...")
    assert "d >= ?" in str(statement(plan, sql_server(), limit=3).compile(dialect=sql_server()))
    assert "d >= :day" in str(statement(plan, oracle_19c(), limit=3).compile(dialect=oracle_19c()))


# -- type mapping ------------------------------------------------------------------------------
FRAME = {
    "id": pl.Int64,
    "code": pl.String,
    "small": pl.Int16,
    "u": pl.UInt64,
    "f": pl.Float32,
    "d": pl.Float64,
    "amount": pl.Decimal(12, 2),
    "ok": pl.Boolean,
    "note": pl.String,
    "day": pl.Date,
    "ts": pl.Datetime("us"),
    "tz": pl.Datetime("us", "UTC"),
    "doc": pl.Struct({"a": pl.Int64}),
    "blob": pl.Binary,
}

EXPECTED = {
    "mssql": "id BIGINT NOT NULL, code NVARCHAR(255) NOT NULL, small SMALLINT NULL, "
    "u NUMERIC(20, 0) NULL, f REAL NULL, d DOUBLE PRECISION NULL, amount NUMERIC(12, 2) NULL, "
    "ok BIT NULL, note NVARCHAR(max) NULL, day DATE NULL, ts DATETIME2(6) NULL, "
    "tz DATETIMEOFFSET(6) NULL, doc NVARCHAR(max) NULL, blob VARBINARY(max) NULL",
    "oracle": "id NUMBER(19) NOT NULL, code NVARCHAR2(255) NOT NULL, small SMALLINT, "
    "u NUMERIC(20, 0), f BINARY_FLOAT, d BINARY_DOUBLE, amount NUMERIC(12, 2), ok SMALLINT, "
    "note NVARCHAR2(2000), day DATE, ts TIMESTAMP, tz TIMESTAMP WITH TIME ZONE, doc NCLOB, "
    "blob BLOB",
    "postgresql": "id BIGINT NOT NULL, code TEXT NOT NULL, small SMALLINT, u NUMERIC(20, 0), "
    "f REAL, d DOUBLE PRECISION, amount NUMERIC(12, 2), ok BOOLEAN, note TEXT, day DATE, "
    "ts TIMESTAMP WITHOUT TIME ZONE, tz TIMESTAMP WITH TIME ZONE, doc JSONB, blob BYTEA",
    "mysql": "id BIGINT NOT NULL, code VARCHAR(255) NOT NULL, small SMALLINT, "
    "u BIGINT UNSIGNED, f FLOAT, d DOUBLE, amount NUMERIC(12, 2), ok BOOL, note LONGTEXT, "
    "day DATE, ts DATETIME(6), tz DATETIME(6), doc JSON, `blob` LONGBLOB",
    "sqlite": "id BIGINT NOT NULL, code TEXT NOT NULL, small SMALLINT, u NUMERIC(20, 0), f REAL, "
    "d DOUBLE, amount NUMERIC(12, 2), ok BOOLEAN, note TEXT, day DATE, ts DATETIME, "
    "tz DATETIME, doc JSON, blob BLOB",
}


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_frame_types_become_column_types(dialect: str) -> None:
    keys = {"id", "code"}
    columns = [
        Column(
            name,
            column_type(dtype, dialect, key=name in keys, max_chars=12),
            primary_key=name in keys,
        )
        for name, dtype in FRAME.items()
    ]
    ddl = " ".join(
        str(
            CreateTable(Table("t", MetaData(), *columns)).compile(dialect=DIALECTS[dialect]())
        ).split()
    )
    assert ddl == f"CREATE TABLE t ( {EXPECTED[dialect]}, PRIMARY KEY (id, code) )"


@pytest.mark.parametrize(
    ("dtype", "dialect", "match"),
    [
        (pl.Time, "oracle", "cannot store a Time column in a oracle table"),
        (pl.Duration("us"), "mssql", "cannot store a Duration"),
        (pl.Object, "postgresql", "cannot store a Object"),
    ],
)
def test_types_a_database_cannot_hold(dtype: Any, dialect: str, match: str) -> None:
    with pytest.raises(ConnectorError, match=match):
        column_type(dtype, dialect)


@pytest.mark.parametrize(("dialect", "limit"), [("mysql", 768), ("mssql", 450), ("oracle", 2000)])
def test_string_keys_have_a_bounded_length(dialect: str, limit: int) -> None:
    assert column_type(pl.String, dialect, key=True, max_chars=limit).length == limit  # type: ignore[attr-defined]
    with pytest.raises(ConnectorError, match=f"at most {limit} characters"):
        column_type(pl.String, dialect, key=True, max_chars=limit + 1)


@pytest.mark.parametrize(
    ("sql_type", "dtype"),
    [
        (mssql.BIT(), pl.Boolean),
        (mssql.DATETIMEOFFSET(), pl.Datetime("us", "UTC")),
        (mssql.DATETIME2(), pl.Datetime("us")),
        (mssql.MONEY(), pl.Decimal(19, 4)),
        (mssql.UNIQUEIDENTIFIER(), pl.String),
        (mssql.NVARCHAR(), pl.String),
        (mssql.VARBINARY(), pl.Binary),
        (oracle.NUMBER(10, 2), pl.Decimal(10, 2)),
        (oracle.NUMBER(10), pl.Int64),
        (oracle.BINARY_DOUBLE(), pl.Float64),
        (oracle.DATE(), pl.Datetime("us")),  # an Oracle DATE holds a time of day
        (oracle.TIMESTAMP(timezone=True), pl.Datetime("us", "UTC")),
        (oracle.NCLOB(), pl.String),
        (oracle.RAW(16), pl.Binary),
        (oracle.INTERVAL(), pl.Duration("us")),
        (mysql.TINYINT(display_width=1), pl.Boolean),
        (mysql.BIGINT(unsigned=True), pl.UInt64),
        (postgresql.JSONB(), pl.String),
    ],
)
def test_reflected_types_read_as_polars_types(sql_type: Any, dtype: Any) -> None:
    assert polars_dtype(sql_type) == dtype


@pytest.mark.parametrize(
    ("dtype", "sql_type", "ok", "cast"),
    [
        (pl.Int64, mssql.NUMERIC(12, 2), True, pl.Decimal(12, 2)),
        (pl.Boolean, oracle.NUMBER(1), True, pl.Int64),  # Oracle before 23 has no BOOLEAN
        (pl.Date, mssql.DATETIME2(), True, pl.Datetime("us")),
        (pl.String, mssql.DATETIME2(), False, None),
        (pl.Float64, mssql.BIT(), False, None),
        (pl.Struct({"a": pl.Int64}), mssql.NVARCHAR(), True, None),
        (pl.Null, oracle.BLOB(), True, None),
    ],
)
def test_which_frame_columns_fit_which_table_columns(
    dtype: Any, sql_type: Any, ok: bool, cast: Any
) -> None:
    assert write_cast(dtype, sql_type) == (ok, cast)


# -- URLs, drivers, identities, errors ---------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("mssql://me@db.example/shop", "mssql+pyodbc"),
        ("oracle://me@db.example:1521/?service_name=FREE", "oracle+oracledb"),
        ("postgres://me@db/shop", "postgresql+psycopg"),
        ("mariadb://me@db/shop", "mariadb+pymysql"),
        ("mssql+pymssql://me@db/shop", "mssql+pymssql"),
    ],
)
def test_urls_get_a_driver(url: str, driver: str) -> None:
    assert sqlalchemy_url(url).drivername == driver


@pytest.mark.parametrize(
    ("url", "extra"), [("mssql://me@db/shop", "mssql"), ("oracle://me@db/shop", "oracle")]
)
def test_a_missing_driver_says_what_to_install(url: str, extra: str) -> None:
    import importlib.util

    module = "pyodbc" if extra == "mssql" else "oracledb"
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed here")
    connector = open_connector(url)
    with pytest.raises(ConnectorError, match=f"need the driver package '{module}'") as info:
        engine_for(connector)
    assert f"pip install 'pipeline-lab[{extra}]'" in (info.value.hint or "")


def test_sql_server_and_oracle_dataset_names() -> None:
    sqlserver = open_connector("mssql+pyodbc://me@db.example/shop?driver=ODBC+Driver+18")
    assert str(sqlserver.dataset(table="orders")) == "sqlserver://db.example:1433/shop.dbo.orders"
    assert sqlserver.dataset(table="sales.orders").name == "shop.sales.orders"
    ora = open_connector(
        DataSourceConfig(kind="oracle", url="oracle+oracledb://scott@db.example:1521/FREEPDB1")
    )
    assert str(ora.dataset(table="emp")) == "oracle://db.example:1521/FREEPDB1.SCOTT.emp"


class _DriverError(Exception):
    """Stands for a driver's exception (pyodbc, python-oracledb, psycopg, pymysql)."""

    def __init__(self, *args: Any, sqlstate: str | None = None) -> None:
        super().__init__(*args)
        self.sqlstate = sqlstate


def _operational(orig: BaseException) -> sa_exc.OperationalError:
    return sa_exc.OperationalError("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    ("orig", "transient"),
    [
        (_DriverError("ORA-12541: TNS:no listener"), True),
        (_DriverError("DPY-6005: cannot connect to database"), True),
        (_DriverError("ORA-01017: invalid username/password; logon denied"), False),
        (_DriverError("[08001] TCP Provider: Error code 0x2749", sqlstate="08001"), True),
        (_DriverError("Login failed for user 'me'. (18456)", sqlstate="28000"), False),
        (_DriverError("deadlock detected", sqlstate="40P01"), True),
        (_DriverError("syntax error at or near", sqlstate="42601"), False),
        (ConnectionRefusedError(111, "Connection refused"), True),
    ],
)
def test_which_failures_are_transient(orig: BaseException, transient: bool) -> None:
    assert is_transient(_operational(orig)) is transient
