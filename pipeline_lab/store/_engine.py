"""``Store``: one database (SQLite by default, PostgreSQL when configured), migrated on open."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from pipeline_lab._deps import missing_dependency
from pipeline_lab.config import DB_URL_ENV, settings
from pipeline_lab.errors import StoreError
from pipeline_lab.redact import safe_url
from pipeline_lab.store._failures import HINT as _HINT
from pipeline_lab.store._failures import store_error
from pipeline_lab.store._schema import ensure_schema

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.pool import ConnectionPoolEntry

    from pipeline_lab.store._liveness import Heartbeat
    from pipeline_lab.store._writer import BatchWriter

SQLITE_BUSY_TIMEOUT_MS = 5000
PG_CONNECT_TIMEOUT_S = 3
_READ_ONLY = "pipeline_lab_read_only"
_BUSY_TIMEOUT = "pipeline_lab_busy_timeout_ms"
_DRIVER_ALIASES = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}


class Store:
    """A Pipeline Lab store: an engine on its database, whose schema is at the newest revision.

    ``url`` defaults to ``settings().db_url``: SQLite at ``$PIPELINE_LAB_HOME/pipeline_lab.db``
    (the directory is created). ``PIPELINE_LAB_DB_URL`` selects any SQLAlchemy URL;
    ``postgresql://`` means psycopg 3. SQLite runs in WAL mode, which needs a local disk:
    keep the file off network file systems (NFS, SMB), where its locking is unreliable.

    Parameters
    ----------
    url
        A SQLAlchemy URL; ``None`` uses the configured store.

    Examples
    --------
    >>> store = Store("sqlite:///:memory:")
    >>> with store.session() as session:
    ...     ...
    """

    def __init__(self, url: str | None = None) -> None:
        raw = url if url is not None else _default_url()
        self._url = _parse(raw)
        self.url = self._url.render_as_string(hide_password=True)
        self._writer: BatchWriter | None = None
        self._heartbeat: Heartbeat | None = None
        self._lock = threading.Lock()
        self.engine = _open_engine(self._url, self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            self.engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False
        )

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql`` (or another SQLAlchemy dialect name)."""
        return self.engine.dialect.name

    @contextmanager
    def session(
        self, *, write: bool = True, busy_timeout_ms: int | None = None
    ) -> Iterator[Session]:
        """An ORM session that commits when the block succeeds and rolls back when it raises.

        ``write=False`` is for reads: on SQLite it takes no write lock, so it never waits for
        writers (WAL lets readers and one writer work at once). ``busy_timeout_ms`` bounds
        how long a SQLite writer waits for the write lock (default 5 s).
        """
        factory = self._sessions if write else self._read_sessions
        if busy_timeout_ms is not None:
            engine = self.engine.execution_options(**{_BUSY_TIMEOUT: busy_timeout_ms})
            factory = sessionmaker(engine, expire_on_commit=False)
        with factory() as session:
            try:
                yield session
                session.commit()
            except DBAPIError as exc:
                session.rollback()
                raise store_error(self._url, exc, "use") from exc
            except BaseException:
                session.rollback()
                raise

    @property
    def writer(self) -> BatchWriter:
        """The background writer that persists run records in batches (started on demand)."""
        with self._lock:
            if self._writer is None:
                from pipeline_lab.store._writer import BatchWriter

                self._writer = BatchWriter(self)
            return self._writer

    @property
    def heartbeat(self) -> Heartbeat:
        """Renews the heartbeat of this process's runs in flight (started on demand)."""
        with self._lock:
            if self._heartbeat is None:
                from pipeline_lab.store._liveness import Heartbeat

                self._heartbeat = Heartbeat(self, settings().heartbeat_s)
            return self._heartbeat

    def close(self) -> None:
        """Write what is queued, stop the writer and close every connection."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        with _CACHE_LOCK:
            for key, cached in list(_CACHE.items()):
                if cached is self:
                    del _CACHE[key]
        self.engine.dispose()

    def _after_fork(self) -> None:
        # A child process must not share the parent's sockets, nor wait on its threads.
        if self._writer is not None:
            self._writer.abandon()
        if self._heartbeat is not None:
            self._heartbeat.abandon()
        self._writer = None
        self._heartbeat = None
        self._lock = threading.Lock()
        self.engine.dispose(close=False)


_CACHE: dict[str, Store] = {}
_CACHE_LOCK = threading.Lock()


def open_store(url: str | None = None) -> Store:
    """The shared :class:`Store` for ``url`` (default: the configured one), opened once."""
    key = url if url is not None else _default_url()
    with _CACHE_LOCK:
        store = _CACHE.get(key)
        if store is None:
            store = _CACHE[key] = Store(key)
        return store


def close_stores() -> None:
    """Close every store :func:`open_store` opened (tests, kernel shutdown)."""
    with _CACHE_LOCK:
        stores = list(_CACHE.values())
        _CACHE.clear()
    for store in stores:
        store.close()


def _after_fork_in_child() -> None:
    global _CACHE_LOCK
    _CACHE_LOCK = threading.Lock()  # another thread may have held it at the fork
    for store in list(_CACHE.values()):
        store._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _default_url() -> str:
    config = settings()
    if not os.environ.get(DB_URL_ENV):
        try:
            config.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the Pipeline Lab home {config.home}: {exc.strerror}",
                hint="set PIPELINE_LAB_HOME to a writable folder, or PIPELINE_LAB_DB_URL to a database",
            ) from None
    return config.db_url


def _parse(raw: str) -> URL:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise StoreError(
            f"'{safe_url(raw)}' is not a database URL (expected dialect+driver://user@host/db)",
            hint=_HINT,
        ) from None
    driver = _DRIVER_ALIASES.get(url.drivername)
    if driver:
        url = url.set(drivername=driver)
    if _is_sqlite_file(url) and not url.query.get("uri"):
        # Absolute, so connections opened after a chdir (the CLI runs in the notebook's
        # folder) reach the same file.
        url = url.set(database=str(Path(url.database or "").expanduser().absolute()))
    return url


def _is_sqlite_file(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


def create_store_engine(url: URL) -> Engine:
    """An engine for ``url`` with the store's connection settings (no schema check)."""
    options: dict[str, Any] = {}
    connect_args: dict[str, Any] = {}
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not _is_sqlite_file(url):
            # One shared connection, or every thread would see its own empty database.
            options["poolclass"] = StaticPool
        connect_args["check_same_thread"] = False
    elif backend == "postgresql":
        options["pool_pre_ping"] = True
        if "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
        if "application_name" not in url.query:
            connect_args["application_name"] = "pipeline-lab"
    engine = create_engine(url, connect_args=connect_args, **options)
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    # SQLAlchemy's documented pattern: sqlite3 emits no BEGIN of its own, _sqlite_begin does.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A writer that began DEFERRED would upgrade its lock mid-transaction and could fail with
    # "database is locked" without waiting; IMMEDIATE waits (busy_timeout) for the write lock.
    options = connection.get_execution_options()
    wanted = int(options.get(_BUSY_TIMEOUT, SQLITE_BUSY_TIMEOUT_MS))
    if connection.info.get(_BUSY_TIMEOUT, SQLITE_BUSY_TIMEOUT_MS) != wanted:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {wanted}")
        connection.info[_BUSY_TIMEOUT] = wanted
    connection.exec_driver_sql("BEGIN DEFERRED" if options.get(_READ_ONLY) else "BEGIN IMMEDIATE")


def _open_engine(url: URL, shown: str) -> Engine:
    if _is_sqlite_file(url) and not url.query.get("uri"):
        folder = Path(url.database or "").parent
        if not folder.is_dir():
            raise StoreError(
                f"cannot open the Pipeline Lab store {shown}: the folder {folder} does not exist",
                hint=f"create the folder, or {_HINT}",
            )
    try:
        engine = create_store_engine(url)
    except NoSuchModuleError:
        raise StoreError(
            f"cannot open the Pipeline Lab store {shown}: unknown database driver "
            f"'{url.drivername}'",
            hint=f"use sqlite:///PATH or postgresql+psycopg://...; {_HINT}",
        ) from None
    except ImportError as exc:
        package = (exc.name or "").split(".")[0]
        raise missing_dependency(
            package,
            f"cannot open the Pipeline Lab store {shown}: its driver '{package}' is not installed",
            error=StoreError,
        ) from None
    except (SQLAlchemyError, ValueError, TypeError) as exc:
        raise store_error(url, exc, "open") from exc
    try:
        # Checking the revision only reads: it must not wait behind (or block) a writer.
        ensure_schema(engine, shown, engine.execution_options(**{_READ_ONLY: True}))
    except StoreError:
        engine.dispose()
        raise
    except (SQLAlchemyError, OSError) as exc:
        engine.dispose()
        raise store_error(url, exc, "open") from exc
    return engine


class Repository:
    """Base of the store's repositories: the configured store is opened on first use."""

    def __init__(self, store: Store | None = None) -> None:
        self._store = store

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store()
        return self._store
