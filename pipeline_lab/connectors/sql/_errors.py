"""Database errors as Pipeline Lab errors: what failed, where, whether a retry may fix it.

A refused, reset or timed-out connection is transient (the engine retries the node); a
refused login is not (a retry would only lock the account). Messages name the server as
``host:port`` and never hold the password or bound parameter values.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pipeline_lab.errors import ConnectorError, PipelineLabError, TransientConnectorError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from pipeline_lab.connectors import Connector

_AUTH = (
    "password authentication failed",
    "access denied for user",
    "authentication failed",
    "login failed",
    "invalid username/password",
    "ora-01017",
    "no password supplied",
    "password is required",
)
_TRANSIENT = (
    "connection refused",
    "could not connect",
    "can't connect",
    "connection reset",
    "connection timed out",
    "timed out",
    "timeout expired",
    "server closed the connection",
    "lost connection",
    "server has gone away",
    "terminating connection",
    "connection is closed",
    "no route to host",
    "network is unreachable",
    "temporarily unavailable",
    "too many connections",
    "the database system is starting up",
    "the database system is shutting down",
    "database is locked",
    "deadlock",
    "could not serialize access",
    "ora-12541",  # Oracle: no listener
    "ora-12170",  # connect timeout
    "ora-03113",  # end-of-file on communication channel
    "ora-03135",  # connection lost contact
    "dpy-6005",  # python-oracledb: cannot connect
    "dpy-4011",  # the connection was closed
    "tcp provider",  # SQL Server ODBC network errors
)
# SQLSTATE classes and codes a retry may fix: connection exceptions, serialization
# failures, deadlocks, operator intervention, too many connections, ODBC timeouts.
_TRANSIENT_SQLSTATES = ("08", "40001", "40P01", "57P01", "57P02", "57P03", "53300", "HYT0")
_MYSQL_TRANSIENT = {1040, 1205, 1213, 2002, 2003, 2005, 2006, 2013, 2055}
_MYSQL_AUTH = {1045, 1698}


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, the driver error SQLAlchemy wraps, and their causes (each once)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend([getattr(current, "orig", None), current.__cause__, current.__context__])


def _text(exc: BaseException) -> str:
    return " ".join(str(e).lower() for e in chain(exc))


def is_auth_failure(exc: BaseException) -> bool:
    for error in chain(exc):
        if _mysql_code(error) in _MYSQL_AUTH or (_sqlstate(error) or "").startswith("28"):
            return True
    text = _text(exc)
    return any(words in text for words in _AUTH)


def is_transient(exc: BaseException) -> bool:
    """Whether a retry may fix ``exc``: refused, reset or timed-out connections, deadlocks."""
    from sqlalchemy import exc as sa_exc

    if is_auth_failure(exc):
        return False
    for error in chain(exc):
        if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
            return True
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, (ConnectionError, TimeoutError, socket.timeout, socket.gaierror)):
            return True
        sqlstate = _sqlstate(error) or ""
        if sqlstate and sqlstate.startswith(_TRANSIENT_SQLSTATES):
            return True
        if _mysql_code(error) in _MYSQL_TRANSIENT:
            return True
    operational = any(isinstance(e, sa_exc.OperationalError) for e in chain(exc))
    text = _text(exc)
    return operational and any(words in text for words in _TRANSIENT)


def _sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a driver error: psycopg and pymysql name it; pyodbc puts it first."""
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    args = getattr(error, "args", ())
    if state is None and type(error).__module__.startswith("pyodbc") and args:
        state = args[0] if isinstance(args[0], str) else None
    return str(state) if state else None


def _mysql_code(error: BaseException) -> int | None:
    args = getattr(error, "args", ())
    if args and isinstance(args[0], int) and type(error).__module__.startswith("pymysql"):
        return args[0]
    return None


def reason(exc: BaseException) -> str:
    """The driver's own words for ``exc``, on one line, without SQLAlchemy's decorations."""
    error = getattr(exc, "orig", None) or exc
    args: tuple[Any, ...] = tuple(getattr(error, "args", ()))
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        text = f"{args[1]} (error {args[0]})"  # pymysql: (code, message)
    else:
        text = str(error)
    for marker in ("\n[SQL:", "\n(Background on this error"):
        text = text.split(marker, 1)[0]
    return " ".join(text.split())


def translate(
    exc: BaseException, connector: Connector, url: URL, action: str, where: str
) -> PipelineLabError:
    """``exc`` (a driver or SQLAlchemy error) as a ConnectorError that says what to do."""
    from pipeline_lab.connectors.sql._engine import host_port

    if isinstance(exc, PipelineLabError):
        return exc
    said = connector.scrub(reason(exc))
    server = f"the {url.get_backend_name()} server at {host_port(url)}"
    if url.get_backend_name() == "sqlite":
        server = f"the SQLite database {url.database or ':memory:'}"
    if is_auth_failure(exc):
        ref = connector.config.secrets.get("password")
        return ConnectorError(
            f"cannot {action} {where}: {server} refused the login of user "
            f"{url.username or '(none)'!r}: {said}",
            dataset=connector.describe(),
            hint=f"check the user name and the password secret ({ref})"
            if ref
            else "this source has no password secret; add one, e.g. "
            "secrets={'password': 'env:DB_PASSWORD'}",
        )
    if is_transient(exc):
        return TransientConnectorError(
            f"cannot {action} {where}: cannot reach {server}: {said}",
            dataset=connector.describe(),
            hint=f"check that the server is running and accepts connections at "
            f"{host_port(url)}; a node with --retries tries again",
        )
    return ConnectorError(f"cannot {action} {where}: {said}", dataset=connector.describe())


def driver_code(exc: BaseException) -> tuple[str | None, int | None]:
    """The SQLSTATE (PostgreSQL) and error number (MySQL) of ``exc``, where it has them."""
    sqlstate: Any = None
    code = None
    for error in chain(exc):
        sqlstate = sqlstate or _sqlstate(error)
        code = code or _mysql_code(error)
    return sqlstate, code
