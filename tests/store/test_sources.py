"""Managed data sources in the store: round trips, refusals that keep secrets out, migration 0002."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import inspect, text

from pipeline_lab import Pipeline
from pipeline_lab.connectors import DataSourceConfig
from pipeline_lab.errors import ConnectorError, StoreError
from pipeline_lab.store import HEAD_REVISION, PipelineBuilder, Store, StoreSourceCatalog
from pipeline_lab.store._models import DataSourceRecord

SECRET = "s3cr3t-Hunter2"


def warehouse(**changes: object) -> DataSourceConfig:
    fields: dict[str, object] = {
        "kind": "postgres",
        "url": "postgresql+psycopg://analyst@db.example.com:5432/shop",
        "name": "warehouse",
        "options": {"schema": "sales", "chunk_size": 50_000, "partition": {"on": "id", "n": 4}},
        "secrets": {"password": "env:WAREHOUSE_PASSWORD"},
    }
    fields.update(changes)
    return DataSourceConfig(**fields)  # type: ignore[arg-type]


def raw_rows(store: Store) -> str:
    """Every stored data source row as text, as someone reading the database would see it."""
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM data_sources")).mappings().all()
    return json.dumps([dict(r) for r in rows], default=str)


def test_round_trip(store: Store) -> None:
    catalog = StoreSourceCatalog(store)
    catalog.add(warehouse())
    catalog.add(DataSourceConfig("file", "/data/orders/*.csv", name="orders"))

    assert catalog.get_source("warehouse") == warehouse()
    assert catalog.get_source("orders") == DataSourceConfig(
        "file", "/data/orders/*.csv", name="orders"
    )
    assert catalog.get_source("nope") is None
    assert catalog.source_names() == ["orders", "warehouse"]
    assert [c.name for c in catalog.list()] == ["orders", "warehouse"]
    # Another store on the same database sees them: they are in the database, not in memory.
    other = Store(store.url)
    try:
        assert StoreSourceCatalog(other).get_source("warehouse") == warehouse()
    finally:
        other.close()


def test_adding_a_taken_name_is_refused(store: Store) -> None:
    catalog = StoreSourceCatalog(store)
    catalog.add(warehouse())
    with pytest.raises(StoreError, match=r"(?s)'warehouse' already exists.*--replace"):
        catalog.add(warehouse(url="postgresql+psycopg://other@elsewhere/db"))
    assert catalog.get_source("warehouse") == warehouse()


def test_update_replaces_and_moves_updated_at(store: Store) -> None:
    catalog = StoreSourceCatalog(store)
    catalog.add(warehouse())
    changed = warehouse(
        kind="mysql",
        url="mysql+pymysql://analyst@127.0.0.1:3306/shop",
        options={},
        secrets={"password": "keyring:mysql/analyst"},
    )
    catalog.update(changed)
    assert catalog.get_source("warehouse") == changed
    with store.session(write=False) as session:
        record = session.query(DataSourceRecord).one()
        assert record.updated_at > record.created_at
        assert record.updated_at.tzinfo is not None


def test_update_and_remove_of_unknown_names_suggest_the_closest(store: Store) -> None:
    catalog = StoreSourceCatalog(store)
    catalog.add(warehouse())
    with pytest.raises(StoreError, match=r"(?s)no data source named 'warehose'.*'warehouse'"):
        catalog.remove("warehose")
    with pytest.raises(StoreError, match="did you mean 'warehouse'"):
        catalog.update(warehouse(name="wharehouse"))
    assert catalog.source_names() == ["warehouse"]


def test_remove(store: Store) -> None:
    catalog = StoreSourceCatalog(store)
    catalog.add(warehouse())
    catalog.add(warehouse(name="backup"))
    catalog.remove("warehouse")
    assert catalog.source_names() == ["backup"]
    assert catalog.get_source("warehouse") is None


def test_a_url_with_a_password_cannot_even_be_configured() -> None:
    with pytest.raises(ConnectorError, match="contains a password") as caught:
        warehouse(url=f"postgresql+psycopg://analyst:{SECRET}@db/shop")
    assert SECRET not in str(caught.value)
    assert "***" in str(caught.value)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"url": f"https://api.example.com/v1?api_key={SECRET}"}, id="query-api-key"),
        pytest.param({"url": f"postgresql+psycopg://me@db/x?password={SECRET}"}, id="query-pw"),
        pytest.param({"options": {"password": SECRET}}, id="option-password"),
        pytest.param({"options": {"client_secret": SECRET}}, id="option-client-secret"),
        pytest.param({"options": {"Auth-Token": SECRET}}, id="option-auth-token"),
        pytest.param(
            {"options": {"headers": {"Authorization": f"Bearer {SECRET}"}}}, id="option-header"
        ),
        pytest.param(
            {"options": {"storage_options": {"secret": SECRET, "key": "AKIA"}}},
            id="option-storage-secret",
        ),
        pytest.param({"options": {"secrets": {"token": SECRET}}}, id="option-secrets-value"),
        pytest.param({"secrets": {"password": f"x:{SECRET}"}}, id="value-with-colon"),
        pytest.param({"secrets": {"password": f"env:{SECRET}"}}, id="env-not-a-variable"),
        pytest.param({"secrets": {"token": f"keyring:{SECRET}"}}, id="keyring-without-user"),
        pytest.param({"secrets": {"token": f"vault:{SECRET}"}}, id="unknown-scheme"),
    ],
)
def test_secret_values_are_refused_and_never_stored_or_echoed(
    store: Store, changes: dict[str, object]
) -> None:
    catalog = StoreSourceCatalog(store)
    with pytest.raises(ConnectorError) as caught:
        catalog.add(warehouse(**changes))
    assert SECRET not in str(caught.value)
    assert caught.value.hint  # says what to do instead
    assert catalog.source_names() == []
    assert SECRET not in raw_rows(store)


def test_a_plain_secret_value_is_refused_when_configured() -> None:
    with pytest.raises(ConnectorError, match="must be a reference") as caught:
        warehouse(secrets={"password": SECRET})
    assert SECRET not in str(caught.value)


def test_only_references_reach_the_database(store: Store) -> None:
    catalog = StoreSourceCatalog(store)
    catalog.add(warehouse(secrets={"password": "env:WAREHOUSE_PASSWORD", "token": "keyring:s/u"}))
    catalog.add(
        warehouse(
            name="api",
            kind="http",
            url="https://api.example.com/v1",
            options={"headers": {"Accept": "application/json"}, "secrets": {"token": "env:API"}},
            secrets={},
        )
    )
    stored = raw_rows(store)
    assert "env:WAREHOUSE_PASSWORD" in stored and "keyring:s/u" in stored
    assert catalog.get_source("api").options["headers"] == {"Accept": "application/json"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("my source", id="space"),
        pytest.param("1st", id="leading-digit"),
        pytest.param("sales.csv", id="looks-like-a-file"),
        pytest.param("data/sales", id="looks-like-a-path"),
        pytest.param("", id="empty"),
        pytest.param(None, id="none"),
        pytest.param("x" * 256, id="too-long"),
    ],
)
def test_names_that_read_could_not_resolve_are_refused(store: Store, name: str | None) -> None:
    with pytest.raises(ConnectorError, match="cannot name a data source"):
        StoreSourceCatalog(store).add(warehouse(name=name))


def test_options_must_be_json(store: Store) -> None:
    with pytest.raises(StoreError, match=r"options of data source 'warehouse' cannot be stored"):
        StoreSourceCatalog(store).add(warehouse(options={"when": object()}))
    with pytest.raises(StoreError, match="cannot be stored"):
        StoreSourceCatalog(store).add(warehouse(options={"ratio": float("nan")}))


def test_the_configured_store_is_opened_only_when_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_LAB_DB_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    catalog = StoreSourceCatalog()  # nothing opened yet
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:1"):
        catalog.source_names()


def downgrade(store: Store, revision: str) -> None:
    """Run the real downgrade migrations of ``store`` down to ``revision``."""
    from alembic import command

    from pipeline_lab.store._schema import alembic_config

    config = alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_a_store_at_revision_0001_gains_data_sources(
    fresh_url: str, sales: Callable[[], Pipeline]
) -> None:
    store = Store(fresh_url)
    PipelineBuilder(store).save(sales())
    downgrade(store, "0001")  # back to what release 0001 left
    store.close()

    reopened = Store(fresh_url)
    try:
        assert "data_sources" in inspect(reopened.engine).get_table_names()
        with reopened.engine.connect() as conn:
            stamped = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        assert stamped == HEAD_REVISION
        assert PipelineBuilder(reopened).get("sales").order() == ["orders", "paid", "total"]
        StoreSourceCatalog(reopened).add(warehouse())
        assert StoreSourceCatalog(reopened).source_names() == ["warehouse"]
    finally:
        reopened.close()
