"""SQLAlchemy engines for SQL sources: one per URL and secret references, created on first use.

The password never sits in an engine: the engine's URL has none, and a ``do_connect`` listener
resolves the secret reference each time the pool opens a connection, putting it into a copy
of the URL (``URL.set(password=...)``) only to build the driver's connect arguments.
"""

from __future__ import annotations

import copy
import importlib.util
import threading
import weakref
from typing import TYPE_CHECKING, Any

from pipeline_lab._deps import missing_dependency
from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, CursorResult, Dialect, Engine

    from pipeline_lab.connectors import Connector

# What a bare scheme means: the drivers Pipeline Lab installs with its extras.
DEFAULT_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "mssql": "mssql+pyodbc",
    "oracle": "oracle+oracledb",
    "sqlite": "sqlite",
}
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306, "mssql": 1433, "oracle": 1521}
_DRIVER_MODULES = {
    "psycopg": "psycopg",
    "psycopg2": "psycopg2",
    "asyncpg": "asyncpg",
    "pg8000": "pg8000",
    "pymysql": "pymysql",
    "mysqldb": "MySQLdb",
    "mysqlconnector": "mysql.connector",
    "mariadbconnector": "mariadb",
    "pyodbc": "pyodbc",
    "pymssql": "pymssql",
    "oracledb": "oracledb",
    "cx_oracle": "cx_Oracle",
}

_engines: dict[tuple[Any, ...], Engine] = {}
_literal: weakref.WeakKeyDictionary[Dialect, Dialect] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def sqlalchemy_url(url: str) -> URL:
    """``url`` as a SQLAlchemy URL with an explicit driver (``postgresql://`` -> psycopg)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConnectorError(
            f"not a database URL: {exc}",
            hint="write it as dialect+driver://user@host:port/database",
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend not in DEFAULT_DRIVERS:
        raise ConnectorError(
            f"no SQL connector for {backend}:// URLs",
            hint=f"known: {', '.join(sorted(DEFAULT_DRIVERS))}",
        )
    if not driver:
        return parsed.set(drivername=DEFAULT_DRIVERS[backend])
    if backend == "postgres":
        return parsed.set(drivername=f"postgresql+{driver}")
    return parsed


def host_port(url: URL) -> str:
    """``host:port`` of a server URL, with the dialect's default port when none is given."""
    port = url.port or DEFAULT_PORTS.get(url.get_backend_name()) or ""
    return f"{url.host or 'localhost'}:{port}"


def engine_for(connector: Connector) -> Engine:
    """The (cached) engine of ``connector``'s source; created on first use."""
    config = connector.config
    url = sqlalchemy_url(config.url)
    timeout = float(config.options.get("connect_timeout", 10))
    key = (
        url.render_as_string(hide_password=False),  # the URL never holds a password here
        tuple(sorted(config.secrets.items())),
        timeout,
    )
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _create(url, connector, timeout)
            _engines[key] = engine
    return engine


def dispose_engines(url: str | None = None) -> None:
    """Close pooled connections: of every cached engine, or of those for database ``url``."""
    wanted = None if url is None else sqlalchemy_url(url).render_as_string(hide_password=False)
    with _lock:
        for key in [k for k in _engines if wanted is None or k[0] == wanted]:
            _engines.pop(key).dispose()


def password_url(connector: Connector, url: URL) -> URL:
    """``url`` with the resolved password: for a driver's connect call, never to keep."""
    password = connector.secret("password")
    return url if password is None else url.set(password=password)


def _connect_args(url: URL, timeout: float) -> dict[str, Any]:
    driver = url.get_driver_name()
    if driver in {"psycopg", "psycopg2", "pymysql", "mysqldb"}:
        return {"connect_timeout": max(1, round(timeout))}
    if driver == "pysqlite":
        return {"timeout": timeout}
    if driver == "oracledb":
        return {"tcp_connect_timeout": timeout}
    if driver == "pyodbc":
        return {"timeout": max(1, round(timeout))}
    return {}


def _require_driver(url: URL) -> None:
    driver = url.get_driver_name()
    module = _DRIVER_MODULES.get(driver)
    if module is not None and importlib.util.find_spec(module.split(".")[0]) is None:
        raise missing_dependency(
            module,
            f"{url.get_backend_name()}+{driver} URLs need the driver package '{module}', "
            "which is not installed",
            error=ConnectorError,
        )


def _create(url: URL, connector: Connector, timeout: float) -> Engine:
    from sqlalchemy import create_engine, event

    _require_driver(url)
    connect_args = _connect_args(url, timeout)
    engine = create_engine(
        url,
        pool_pre_ping=True,  # a connection the server dropped is replaced, not handed out
        hide_parameters=True,  # bound values never appear in error messages
        connect_args=connect_args,
    )
    if connector.config.secrets.get("password"):

        @event.listens_for(engine, "do_connect")
        def _inject_password(
            dialect: Any, record: Any, cargs: list[Any], cparams: dict[str, Any]
        ) -> None:
            args, params = dialect.create_connect_args(password_url(connector, url))
            cargs[:] = args
            cparams.clear()
            cparams.update(params)
            cparams.update(connect_args)

    backend = url.get_backend_name()
    if backend == "postgresql" and url.get_driver_name() == "psycopg":
        event.listen(engine, "before_cursor_execute", _json_as_text)
    if backend == "sqlite":
        # pysqlite opens transactions lazily and commits DDL on its own; take control so a
        # CREATE TABLE and its rows are one transaction.
        event.listen(engine, "connect", _sqlite_manual_transactions)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


JSON_AS_TEXT = "pipeline_lab_json_as_text"
"""Execution option: JSON values arrive as their text (frames hold JSON as strings)."""


def _json_as_text(
    connection: Any, cursor: Any, statement: Any, parameters: Any, context: Any, many: bool
) -> None:
    # Per cursor, on reads that ask: SQLAlchemy's own reflection queries want JSON decoded.
    if context is not None and context.execution_options.get(JSON_AS_TEXT):
        from psycopg.types.string import TextLoader

        for name in ("json", "jsonb"):
            cursor.adapters.register_loader(name, TextLoader)


def _sqlite_manual_transactions(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def literal_dialect(dialect: Dialect) -> Dialect:
    """``dialect`` for SQL that runs as written: with named parameters nothing doubles a ``%``
    (pyformat drivers' preparers do), and server-version details are kept."""
    with _lock:
        literal = _literal.get(dialect)
        if literal is None:
            literal = copy.copy(dialect)
            literal.paramstyle = "named"
            literal.positional = False
            literal.identifier_preparer = literal.preparer(literal)
            _literal[dialect] = literal
    return literal


def run_sql(connection: Connection, sql: str) -> CursorResult[Any]:
    """Run ``sql`` exactly as written: no parameters, so no driver reads a ``%`` in it."""
    return connection.exec_driver_sql(sql, execution_options={"no_parameters": True})
