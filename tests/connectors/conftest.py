"""Shared fixtures for connector tests."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest


def _load_http_app() -> ModuleType:
    # tests/ is not a package (pytest runs with --import-mode=importlib): load by path.
    name = "pipeline_lab_tests_http_app"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("http_app.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def http_app() -> ModuleType:
    """The test API's module (its secrets, items and orders, to compare against)."""
    return _load_http_app()


@pytest.fixture(scope="session")
def http_api(http_app: ModuleType) -> Iterator[Any]:
    """A real JSON/GraphQL API on 127.0.0.1 (see http_app.py), for the whole session."""
    server = http_app.ApiServer()
    yield server
    server.stop()


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch, http_app: ModuleType) -> ModuleType:
    """The test API's secrets in the environment variables TEST_TOKEN, TEST_PASSWORD,
    TEST_API_KEY and TEST_CLIENT_SECRET (WRONG_SECRET: a wrong one), for env: references."""
    monkeypatch.setenv("TEST_TOKEN", http_app.BEARER_TOKEN)
    monkeypatch.setenv("TEST_PASSWORD", http_app.BASIC_PASSWORD)
    monkeypatch.setenv("TEST_API_KEY", http_app.API_KEY)
    monkeypatch.setenv("TEST_CLIENT_SECRET", http_app.CLIENT_SECRET)
    monkeypatch.setenv("WRONG_SECRET", "wrong-s3cret-value")
    return http_app


# -- files (test_files.py) ---------------------------------------------------------------------
@pytest.fixture
def typed_frame() -> Any:
    """Every type a file round trip must keep: nulls everywhere, unicode, dates, tz, decimals."""
    import datetime as dt
    from decimal import Decimal

    import polars as pl

    stamps = [dt.datetime(2024, 3, 31, 1, 30, 0, 123456), None, dt.datetime(1999, 12, 31, 23, 59)]
    return pl.DataFrame(
        {
            "id": [1, 2, None],
            "名前": ["émile", None, '日本語 ✓, "quoted"'],
            "ok": [True, None, False],
            "x": [1.5, None, -2.25],
            "day": [dt.date(2024, 2, 29), None, dt.date(1969, 12, 31)],
            "ts": stamps,
            "amount": [Decimal("1.25"), None, Decimal("-3.50")],
        },
        schema_overrides={"amount": pl.Decimal(10, 2)},
    ).with_columns(paris=pl.col("ts").dt.replace_time_zone("Europe/Paris"))


@pytest.fixture
def memory_root() -> Iterator[str]:
    """A fresh folder of fsspec's in-memory file system (``memory://...``), removed after."""
    import uuid

    import fsspec

    root = f"memory://pipeline-lab-tests/{uuid.uuid4().hex}"
    yield root
    fs = fsspec.filesystem("memory")
    path = root.removeprefix("memory://")
    if fs.exists(path):
        fs.rm(path, recursive=True)


# -- databases (test_sql.py) -------------------------------------------------------------------
# Each test module gets its own database with a unique name, dropped after the module. A
# server that is down skips these tests on a workstation, but fails them under CI.
PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
MYSQL_ADMIN = {"host": "127.0.0.1", "port": 3306, "user": "root"}


def _server_down(server: str, exc: BaseException) -> None:
    import os

    message = f"{server} is not reachable: {exc}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must test against the real server)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database (SQLAlchemy URL), dropped after the test module."""
    import uuid

    import psycopg

    from pipeline_lab.connectors.sql import dispose_engines

    name = f"pl_test_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(**PG_ADMIN, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        _server_down("PostgreSQL on 127.0.0.1:5432", exc)
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    yield url
    dispose_engines(url)
    with psycopg.connect(**PG_ADMIN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def mysql_url() -> Iterator[str]:
    """A fresh MariaDB/MySQL database (utf8mb4), dropped after the test module."""
    import uuid

    import pymysql

    from pipeline_lab.connectors.sql import dispose_engines

    name = f"pl_test_{uuid.uuid4().hex[:8]}"
    try:
        admin = pymysql.connect(**MYSQL_ADMIN, autocommit=True, connect_timeout=5)
    except pymysql.err.OperationalError as exc:
        _server_down("MariaDB on 127.0.0.1:3306", exc)
    with admin, admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    url = f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    yield url
    dispose_engines(url)
    admin = pymysql.connect(**MYSQL_ADMIN, autocommit=True, connect_timeout=5)
    with admin, admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A SQLite database file in the test's temporary folder."""
    from pipeline_lab.connectors.sql import dispose_engines

    url = f"sqlite:///{tmp_path / 'test.db'}"
    yield url
    dispose_engines(url)


@pytest.fixture(
    params=[
        pytest.param("pg_url", id="postgres"),
        pytest.param("mysql_url", id="mysql"),
        pytest.param("sqlite_url", id="sqlite"),
    ]
)
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test against PostgreSQL, MariaDB and SQLite."""
    return str(request.getfixturevalue(request.param))


@pytest.fixture
def table_name() -> str:
    """A table name no other test uses."""
    import uuid

    return f"t_{uuid.uuid4().hex[:8]}"
