"""Opening stores: default location, URLs, clear errors, SQLite settings, sessions."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from pipeline_lab.errors import StoreError
from pipeline_lab.store import Store, open_store
from pipeline_lab.store._models import PipelineRecord, utcnow


def _full_text(error: BaseException | None) -> str:
    """The messages of ``error`` and of every error chained to it."""
    texts = []
    while error is not None:
        texts.append(f"{error!r} {error}")
        error = error.__cause__ or error.__context__
    return "\n".join(texts)


def test_default_store_is_sqlite_under_the_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "not-yet"
    monkeypatch.setenv("PIPELINE_LAB_HOME", str(home))
    store = Store()
    try:
        assert store.dialect == "sqlite"
        assert (home / "pipeline_lab.db").is_file()
        assert store.url == f"sqlite:///{home / 'pipeline_lab.db'}"
    finally:
        store.close()


def test_db_url_environment_variable_selects_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("PIPELINE_LAB_DB_URL", url)
    assert open_store().url == url
    assert (tmp_path / "elsewhere.db").is_file()


def test_open_store_shares_one_store_per_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    found: list[Store] = []
    threads = [threading.Thread(target=lambda: found.append(open_store(url))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(s) for s in found}) == 1
    assert open_store(f"sqlite:///{tmp_path / 'other.db'}") is not found[0]


def test_unreachable_postgres_is_a_clear_error_without_the_password() -> None:
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        Store("postgresql+psycopg://u:secret@127.0.0.1:1/x")
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert "127.0.0.1" in message and ":1" in message
    assert "Connection refused" in message or "connection refused" in message
    assert "PIPELINE_LAB_DB_URL" in message
    assert "u:***@" in message
    assert "secret" not in _full_text(caught.value)


def test_plain_postgresql_urls_use_psycopg_3() -> None:
    with pytest.raises(StoreError) as caught:
        Store("postgresql://u:secret@127.0.0.1:1/x")
    assert "postgresql+psycopg://u:***@127.0.0.1:1/x" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "nosuchdb://u:secret@host/x", "unknown database driver 'nosuchdb'", id="driver"
        ),
        pytest.param("mysql://u:secret@127.0.0.1/x", "pip install mysqlclient", id="missing-dbapi"),
        pytest.param("not a url with secret", "is not a database URL", id="not-a-url"),
        pytest.param(
            "sqlite:////no/such/folder/x.db",
            "folder /no/such/folder does not exist",
            id="missing-folder",
        ),
    ],
)
def test_bad_urls_are_clear_errors(url: str, expected: str) -> None:
    with pytest.raises(StoreError) as caught:
        Store(url)
    assert expected in str(caught.value)
    if "u:secret" in url:
        assert "secret" not in _full_text(caught.value)


def test_sqlite_settings_are_in_effect(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        with store.engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "busy_timeout", "synchronous", "foreign_keys")
            }
        assert pragma == {
            "journal_mode": "wal",
            "busy_timeout": 5000,
            "synchronous": 1,
            "foreign_keys": 1,
        }
    finally:
        store.close()


def test_sqlite_writers_take_the_write_lock_at_begin(tmp_path: Path) -> None:
    """A write session holds the lock from its first statement; a read session takes none."""
    import sqlite3

    path = tmp_path / "locks.db"
    store = Store(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with store.session(write=False) as session:
            session.execute(select(PipelineRecord)).all()
            other.execute("BEGIN IMMEDIATE")  # a reader does not stand in a writer's way
            other.execute("ROLLBACK")
        with store.session() as session:
            session.execute(select(PipelineRecord)).all()  # a read, but in a write session
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
        store.close()


def test_session_commits_on_success_and_rolls_back_on_error(store: Store) -> None:
    now = utcnow()
    with store.session() as session:
        session.add(PipelineRecord(name="kept", current_version=1, created_at=now, updated_at=now))
    with pytest.raises(RuntimeError), store.session() as session:
        session.add(PipelineRecord(name="lost", current_version=1, created_at=now, updated_at=now))
        session.flush()
        raise RuntimeError("boom")
    with store.session(write=False) as session:
        names = session.scalars(select(PipelineRecord.name)).all()
    assert names == ["kept"]


def test_datetimes_come_back_timezone_aware_utc(store: Store) -> None:
    now = utcnow()
    with store.session() as session:
        session.add(PipelineRecord(name="t", current_version=1, created_at=now, updated_at=now))
    with store.session(write=False) as session:
        record = session.scalars(select(PipelineRecord)).one()
    assert record.created_at == now
    assert record.created_at.utcoffset().total_seconds() == 0


def test_database_errors_in_a_session_are_store_errors(store: Store) -> None:
    with pytest.raises(StoreError, match="cannot use the Pipeline Lab store"), store.session() as s:
        s.execute(text("SELECT * FROM no_such_table"))
