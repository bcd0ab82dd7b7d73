"""Stores on SQLite (a temporary file) and on the PostgreSQL server (a database of its own)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from pipeline_lab import Node, Pipeline, RetryPolicy
from pipeline_lab.graph import Cell
from pipeline_lab.store import Store

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USERS = ("postgres", "root")
TABLES = ("node_runs", "runs", "pipeline_versions", "pipelines", "data_sources")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def _pg_admin() -> tuple[str, Any] | None:
    """A superuser name and an autocommit psycopg connection to the server, or ``None``."""
    import psycopg

    for user in PG_USERS:
        try:
            conn = psycopg.connect(
                host=PG_HOST,
                port=PG_PORT,
                user=user,
                dbname="postgres",
                connect_timeout=3,
                autocommit=True,
            )
        except psycopg.OperationalError:
            continue
        return user, conn
    return None


class PostgresServer:
    """Creates databases with unique names and drops them all at the end of the session."""

    def __init__(self, user: str, admin: Any) -> None:
        self.user = user
        self.admin = admin
        self.created: list[str] = []

    def create_database(self) -> str:
        name = f"pipeline_lab_test_{uuid.uuid4().hex[:12]}"
        self.admin.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"postgresql+psycopg://{self.user}@{PG_HOST}:{PG_PORT}/{name}"

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.remove(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    found = _pg_admin()
    if found is None:
        message = f"no PostgreSQL server accepts connections on {PG_HOST}:{PG_PORT}"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must test the store on PostgreSQL (.ci/run starts it)")
        pytest.skip(message)
    server = PostgresServer(*found)
    try:
        yield server
    finally:
        for name in list(server.created):
            server.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.admin.close()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """The session's own PostgreSQL database; tests empty its tables when they finish."""
    return postgres_server.create_database()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL on each backend, its tables empty."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    cleaner = Store(url)
    with cleaner.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    cleaner.close()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open, migrated store on each backend (ids ``sqlite`` and ``postgres``)."""
    opened = Store(store_url)
    yield opened
    opened.close()


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database, never migrated, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def sales() -> Callable[[], Pipeline]:
    """A pipeline with parameters, setup and report cells, checks, a retry policy and tags."""

    def make() -> Pipeline:
        pipeline = Pipeline(
            "sales",
            params={"threshold": 10, "region": "EU"},
            param_code="threshold = 10\nregion = 'EU'",
            setup=[Cell("import math\nTAX = 0.2", index=1)],
            reports=[Cell("print(len(paid))", index=5)],
        )
        pipeline.add(Node("orders", code="[{'amount': a} for a in range(20)]", tags=("source",)))
        pipeline.add(
            Node(
                "paid",
                code="[o for o in orders if o['amount'] > params.threshold]",
                retry=RetryPolicy(retries=2, delay=0.5, factor=3.0, cap=10.0),
                timeout=30.0,
                position=(120.0, 40.5),
            )
        )
        pipeline.add(
            Node("total", code="sum(o['amount'] for o in paid) * (1 + TAX)", checks=("total > 0",))
        )
        return pipeline

    return make
