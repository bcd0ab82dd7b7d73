"""Stores on SQLite (a temporary file) and on the PostgreSQL server (a database of its own)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from pipeline_lab import Node, Pipeline, RetryPolicy
from pipeline_lab.graph import Cell
from pipeline_lab.store import Store

TABLES = ("node_runs", "runs", "pipeline_versions", "pipelines", "data_sources")
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def postgres_url(postgres_server: Any) -> str:
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
    server = request.getfixturevalue("postgres_server")
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
