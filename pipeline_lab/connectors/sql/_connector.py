"""A SQLAlchemy database as a connector: its lineage identity, reads, writes, inspection, errors."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pipeline_lab.connectors import (
    ColumnInfo,
    Connector,
    TableInfo,
    WriteMode,
    register_connector,
)
from pipeline_lab.connectors.sql._engine import (
    engine_for,
    host_port,
    password_url,
    sqlalchemy_url,
)
from pipeline_lab.connectors.sql._errors import is_transient, translate
from pipeline_lab.connectors.sql._plan import plan
from pipeline_lab.connectors.sql._read import READ_OPTIONS, connectorx_url, frames
from pipeline_lab.connectors.sql._schema import explain_missing, split_table, tables_in_query
from pipeline_lab.connectors.sql._write import WRITE_OPTIONS, write_frame
from pipeline_lab.errors import ConnectorError, PipelineLabError
from pipeline_lab.lineage import DatasetRef, report_dataset

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy.engine import URL, Engine

# OpenLineage namespace schemes, by SQLAlchemy backend.
_NAMESPACES = {
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mssql": "sqlserver",
    "oracle": "oracle",
}
_DEFAULT_SCHEMAS = {"postgresql": "public", "mssql": "dbo"}


class SqlConnector(Connector):
    """A database reached through SQLAlchemy; one subclass per kind of database below."""

    kind = "sql"

    @property
    def url(self) -> URL:
        """The source's SQLAlchemy URL, with its driver and without a password."""
        return sqlalchemy_url(self.config.url)

    @property
    def engine(self) -> Engine:
        return engine_for(self)

    def describe(self) -> str:
        return self.url.render_as_string(hide_password=True)

    @property
    def _schema(self) -> str | None:
        schema = self.config.options.get("schema")
        return str(schema) if schema else None

    # -- identity --------------------------------------------------------------------------
    def dataset(self, *, table: str | None = None, query: str | None = None) -> DatasetRef:
        url = self.url
        backend = url.get_backend_name()
        if backend == "sqlite":
            path = url.database or ":memory:"
            namespace = f"sqlite://{path if path == ':memory:' else os.path.abspath(path)}"
        else:
            namespace = f"{_NAMESPACES[backend]}://{host_port(url)}"
        facets: dict[str, Any] = {}
        if query is not None:
            facets["sql"] = {"query": query}
            tables = tables_in_query(query)
            if len(tables) != 1:
                digest = hashlib.sha1(" ".join(query.split()).encode()).hexdigest()[:12]
                facets["tables"] = tables
                return DatasetRef(namespace, self._qualified(None, f"query_{digest}"), facets)
            table = tables[0]
        schema, name = split_table(table or "", self._schema)
        return DatasetRef(namespace, self._qualified(schema, name), facets)

    def _qualified(self, schema: str | None, name: str) -> str:
        url = self.url
        backend = url.get_backend_name()
        if backend == "sqlite":
            return f"{schema}.{name}" if schema else name
        if backend in {"mysql", "mariadb"}:
            return f"{schema or url.database}.{name}"
        schema = schema or _DEFAULT_SCHEMAS.get(backend) or (url.username or "").upper()
        return f"{url.database}.{schema}.{name}"

    # -- reading ---------------------------------------------------------------------------
    def _read(
        self,
        *,
        table: str | None,
        query: str | None,
        params: Mapping[str, Any] | None,
        **options: Any,
    ) -> pl.DataFrame:
        import polars as pl

        chunks = list(self._frames(table, query, params, options))
        if len(chunks) == 1:
            return chunks[0]
        return pl.concat(chunks, how="vertical_relaxed", rechunk=True)

    def read_batches(
        self,
        *,
        table: str | None = None,
        query: str | None = None,
        params: Mapping[str, Any] | None = None,
        chunk_size: int = 50_000,
        **options: Any,
    ) -> Iterator[pl.DataFrame]:
        """The result as frames of at most ``chunk_size`` rows, fetched as they are consumed."""
        report_dataset(self.dataset(table=table, query=query), "input")
        yield from self._frames(table, query, params, {**options, "chunk_size": chunk_size})

    def _frames(
        self,
        table: str | None,
        query: str | None,
        params: Mapping[str, Any] | None,
        options: Mapping[str, Any],
    ) -> Iterator[pl.DataFrame]:
        _known(options, READ_OPTIONS, "read")
        where = str(self.dataset(table=table, query=query))
        engine = self.engine
        with self._errors("read", where, query):
            with engine.connect() as connection:
                read = plan(
                    connection,
                    table=table,
                    query=query,
                    params=params,
                    columns=options.get("columns"),
                    default_schema=self._schema,
                )
            yield from frames(
                engine,
                read,
                connectorx_url=lambda: connectorx_url(password_url(self, self.url)),
                limit=options.get("limit"),
                offset=options.get("offset"),
                chunk_size=options.get("chunk_size"),
                partition_on=options.get("partition_on"),
                partitions=int(options.get("partitions", 4)),
                reader=options.get("reader", "auto"),
            )

    # -- writing ---------------------------------------------------------------------------
    def _write(
        self,
        frame: pl.DataFrame,
        *,
        table: str | None,
        mode: WriteMode,
        key: str | list[str] | None,
        **options: Any,
    ) -> int:
        _known(options, WRITE_OPTIONS, "write")
        with self._errors("write", str(self.dataset(table=table))):
            return write_frame(
                self.engine,
                frame,
                table=table,
                mode=mode,
                key=key,
                default_schema=self._schema,
                chunk_size=options.get("chunk_size"),
            )

    # -- the source as a whole -------------------------------------------------------------
    def _ping(self) -> None:
        from sqlalchemy import literal_column, select

        with self._errors("connect to", self.describe()), self.engine.connect() as connection:
            connection.execute(select(literal_column("1"))).scalar()

    def _inspect(self) -> list[TableInfo]:
        from sqlalchemy import inspect
        from sqlalchemy.engine.reflection import ObjectKind

        with self._errors("inspect", self.describe()), self.engine.connect() as connection:
            inspector = inspect(connection)
            views = set(inspector.get_view_names(self._schema))
            columns = inspector.get_multi_columns(schema=self._schema, kind=ObjectKind.ANY)
            estimates = _row_estimates(connection, self._schema)
            tables = []
            for (schema, name), described in sorted(columns.items(), key=lambda i: i[0][1]):
                infos = tuple(
                    ColumnInfo(c["name"], _type_name(c["type"], connection.dialect), c["nullable"])
                    for c in described
                )
                extra = {"kind": "view" if name in views else "table"}
                if schema:
                    extra["schema"] = schema
                tables.append(TableInfo(name, infos, estimates.get(name.lower()), extra))
            return tables

    def is_transient(self, exc: BaseException) -> bool:
        return is_transient(exc)

    # -- errors ----------------------------------------------------------------------------
    @contextmanager
    def _errors(self, action: str, where: str, query: str | None = None) -> Iterator[None]:
        """Database errors raised inside become ConnectorErrors (wrapped once, here)."""
        try:
            yield
        except PipelineLabError as exc:
            if exc.dataset is None:
                exc.dataset = self.describe()
            raise
        except (Exception, _panic()) as exc:
            if query is not None:
                explained = self._explain(exc, query)
                if explained is not None:
                    raise explained from exc
            raise translate(exc, self, self.url, action, where) from exc

    def _explain(self, exc: BaseException, query: str) -> PipelineLabError | None:
        try:
            with self.engine.connect() as connection:
                return explain_missing(exc, connection, query, self._schema)
        except Exception:  # the database is gone too: the original error says more
            return None


def _panic() -> type[BaseException]:
    """connectorx's Rust panics (an unsupported type) are BaseExceptions, not Exceptions."""
    try:
        from pyo3_runtime import PanicException
    except ImportError:
        return Exception
    return PanicException


def _known(options: Mapping[str, Any], known: tuple[str, ...], action: str) -> None:
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ConnectorError(
            f"unknown {action} option(s) for a database: {', '.join(unknown)}",
            hint=f"known: {', '.join(known)}",
        )


def _type_name(sql_type: Any, dialect: Any) -> str:
    try:
        return str(sql_type.compile(dialect=dialect))
    except Exception:  # a type this dialect cannot render (rare, reflected extensions)
        return str(sql_type)


_ESTIMATES = {
    "postgresql": "SELECT c.relname, COALESCE(NULLIF(c.reltuples, -1)::bigint, s.n_live_tup) "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
    "WHERE n.nspname = COALESCE(:schema, current_schema()) AND c.relkind IN ('r', 'p', 'm')",
    "mysql": "SELECT table_name, table_rows FROM information_schema.tables "
    "WHERE table_schema = COALESCE(:schema, DATABASE())",
    "mssql": "SELECT t.name, SUM(p.rows) FROM sys.tables t "
    "JOIN sys.partitions p ON p.object_id = t.object_id AND p.index_id IN (0, 1) "
    "WHERE SCHEMA_NAME(t.schema_id) = COALESCE(:schema, SCHEMA_NAME()) GROUP BY t.name",
    "oracle": "SELECT table_name, num_rows FROM all_tables "
    "WHERE owner = COALESCE(:schema, SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA'))",
}
_ESTIMATES["mariadb"] = _ESTIMATES["mysql"]


def _row_estimates(connection: Any, schema: str | None) -> dict[str, int | None]:
    """Row counts the catalog keeps (no table is scanned); empty where there are none."""
    from sqlalchemy import text

    sql = _ESTIMATES.get(connection.dialect.name)
    if sql is None:
        return {}
    found = connection.execute(text(sql), {"schema": schema}).all()
    return {str(name).lower(): None if count is None else int(count) for name, count in found}


@register_connector
class PostgresConnector(SqlConnector):
    """PostgreSQL (psycopg 3 unless the URL names another driver)."""

    kind = "postgres"
    schemes = ("postgresql", "postgres")


@register_connector
class MySqlConnector(SqlConnector):
    """MySQL and MariaDB (PyMySQL unless the URL names another driver)."""

    kind = "mysql"
    schemes = ("mysql", "mariadb")


@register_connector
class SqlServerConnector(SqlConnector):
    """Microsoft SQL Server (pyodbc unless the URL names another driver)."""

    kind = "mssql"
    schemes = ("mssql",)


@register_connector
class OracleConnector(SqlConnector):
    """Oracle Database (python-oracledb unless the URL names another driver)."""

    kind = "oracle"
    schemes = ("oracle",)


@register_connector
class SqliteConnector(SqlConnector):
    """A SQLite database file (or ``sqlite://`` in memory)."""

    kind = "sqlite"
    schemes = ("sqlite",)
