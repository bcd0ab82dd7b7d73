"""ConnectionManager: managed sources added, tested, inspected, previewed, read and written by name.

The manager is domain code: a dict-backed catalog here proves it needs no store; the store's
catalog is used where a user would meet it (``pipeline_lab.read("NAME")``).
"""

from __future__ import annotations

import builtins
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import text

import pipeline_lab
from pipeline_lab.connectors import (
    ConnectionManager,
    DataSourceConfig,
    TableInfo,
    source_config,
)
from pipeline_lab.errors import ConnectorError, StoreError
from pipeline_lab.store import StoreSourceCatalog, open_store

API = "https://api.example.com/v1"
ORDERS = pl.DataFrame(
    {
        "id": [1, 2, 3, 4],
        "customer": ["ann", "bob", "zoë", "ann"],
        "amount": [12.5, 7.0, 30.25, 99.0],
    }
)


class MemoryCatalog:
    """A ManagedCatalog in a dict: what a test, or another front end, may hand the manager."""

    def __init__(self) -> None:
        self.sources: dict[str, DataSourceConfig] = {}

    def get_source(self, name: str) -> DataSourceConfig | None:
        return self.sources.get(name)

    def source_names(self) -> builtins.list[str]:
        return sorted(self.sources)

    def add(self, config: DataSourceConfig) -> DataSourceConfig:
        assert config.name not in self.sources, "the manager must not add a taken name twice"
        self.sources[config.name or ""] = config
        return config

    def update(self, config: DataSourceConfig) -> DataSourceConfig:
        self.sources[config.name or ""] = config
        return config

    def remove(self, name: str) -> None:
        del self.sources[name]

    def list(self) -> builtins.list[DataSourceConfig]:
        return [self.sources[n] for n in sorted(self.sources)]


@pytest.fixture
def shop_db(tmp_path: Path) -> Path:
    """A SQLite database file with an ``orders`` table."""
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, amount REAL)")
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?)", ORDERS.rows())
    conn.close()
    return path


@pytest.fixture
def orders_csv(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    ORDERS.write_csv(path)
    return path


@pytest.fixture
def orders_parquet(tmp_path: Path) -> Path:
    path = tmp_path / "orders.parquet"
    ORDERS.write_parquet(path)
    return path


@pytest.fixture
def memory() -> ConnectionManager:
    return ConnectionManager(MemoryCatalog())


@pytest.fixture
def managed() -> ConnectionManager:
    """A manager on the configured store (a fresh SQLite store under PIPELINE_LAB_HOME)."""
    return ConnectionManager(StoreSourceCatalog())


# -- the catalog side, on any ManagedCatalog ----------------------------------------------
def test_the_manager_does_not_import_the_store() -> None:
    code = (
        "import sys\n"
        "import pipeline_lab.connectors._manager\n"
        "heavy = ('pipeline_lab.store', 'sqlalchemy.orm')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        pytest.param("postgresql+psycopg://me@db:5432/shop", "postgres", id="postgres"),
        pytest.param("postgresql://me@db/shop", "postgres", id="postgres-no-driver"),
        pytest.param("mysql+pymysql://me@db/shop", "mysql", id="mysql"),
        pytest.param("mariadb+pymysql://me@db/shop", "mysql", id="mariadb"),
        pytest.param("sqlite:////tmp/shop.db", "sqlite", id="sqlite"),
        pytest.param("https://api.example.com/v1/orders", "http", id="https"),
        pytest.param("s3://bucket/orders/*.parquet", "file", id="s3"),
        pytest.param("/data/orders.csv", "file", id="path"),
    ],
)
def test_the_kind_comes_from_the_url(url: str, kind: str) -> None:
    config = source_config("src", url)
    assert (config.kind, config.url, config.name) == (kind, url, "src")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param(
            "postgresql://etl@db:54x2/shop", "its port '54x2' is not a number", id="letters"
        ),
        pytest.param("mysql+pymysql://root@127.0.0.1:/test", "its port is empty", id="empty"),
        pytest.param(
            "postgresql+psycopg://etl@db:99999/shop", "port 99999 is out of range", id="too-big"
        ),
        pytest.param("https://api.example.com:abc/items", "its port 'abc'", id="http"),
        pytest.param("postgresql://etl@[::1:5432/shop", "IPv6 host is not closed", id="ipv6"),
        pytest.param("postgresql://me:s3cret@db:5x/shop", "its port '5x'", id="with-password"),
    ],
)
def test_a_malformed_url_is_a_clear_error(url: str, message: str) -> None:
    with pytest.raises(ConnectorError, match=message) as info:
        pipeline_lab.read(url, table="orders")
    assert "the URL is malformed" in info.value.message
    assert "PORT" in (info.value.hint or "") or "brackets" in (info.value.hint or "")
    assert "s3cret" not in str(info.value)


def test_relative_paths_are_kept_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert source_config("a", "data/*.csv").url == f"{tmp_path}/data/*.csv"
    assert source_config("b", "sqlite:///shop.db").url == f"sqlite:///{tmp_path}/shop.db"
    assert source_config("c", "sqlite:///shop.db?mode=ro").url == (
        f"sqlite:///{tmp_path}/shop.db?mode=ro"
    )
    assert source_config("d", "sqlite:////abs/shop.db").url == "sqlite:////abs/shop.db"
    assert source_config("e", "sqlite://").url == "sqlite://"


def test_an_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(Exception, match=r"(?s)unknown connector 'postgress'.*'postgres'"):
        source_config("x", "postgresql://me@db/shop", kind="postgress")
    with pytest.raises(ConnectorError, match="no connector for URLs starting with ftp://"):
        source_config("x", "ftp://host/file.csv")


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda m: m.get("shpo"), id="get"),
        pytest.param(lambda m: m.test("shpo"), id="test"),
        pytest.param(lambda m: m.inspect("shpo"), id="inspect"),
        pytest.param(lambda m: m.preview("shpo", table="orders"), id="preview"),
        pytest.param(lambda m: m.read("shpo", table="orders"), id="read"),
        pytest.param(lambda m: m.write(ORDERS, "shpo", table="orders"), id="write"),
        pytest.param(lambda m: m.remove("shpo"), id="remove"),
    ],
)
def test_unknown_names_name_the_closest(memory: ConnectionManager, call: Any) -> None:
    memory.add(source_config("shop", "sqlite:////tmp/shop.db"))
    memory.add(source_config("stock", "sqlite:////tmp/stock.db"))
    with pytest.raises(ConnectorError, match=r"(?s)no data source named 'shpo'.*'shop'"):
        call(memory)
    assert memory.catalog.source_names() == ["shop", "stock"]


def test_unknown_name_with_no_sources_says_how_to_add_one(memory: ConnectionManager) -> None:
    with pytest.raises(ConnectorError, match=r"(?s)none added yet.*pipeline-lab sources add shop"):
        memory.get("shop")


def test_add_list_replace_remove(memory: ConnectionManager) -> None:
    first = source_config("shop", "sqlite:////tmp/a.db")
    assert memory.add(first) is None  # not tested
    memory.add(source_config("orders", "/data/orders.csv"))
    assert [c.name for c in memory.list()] == ["orders", "shop"]
    second = source_config("shop", "sqlite:////tmp/b.db", options={"schema": "main"})
    memory.add(second, replace=True)
    assert memory.get("shop") == second
    memory.remove("shop")
    assert [c.name for c in memory.list()] == ["orders"]


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(
            DataSourceConfig("http", "https://api.example.com/x?token=abc123", name="a"), id="query"
        ),
        pytest.param(
            DataSourceConfig("file", "/d.csv", name="a", options={"api_key": "abc123"}),
            id="option",
        ),
        pytest.param(
            DataSourceConfig("file", "/d.csv", name="a", secrets={"key": "plain:abc123"}),
            id="not-a-reference",
        ),
        pytest.param(DataSourceConfig("file", "/d.csv", name="a.csv"), id="name-like-a-file"),
        pytest.param(
            DataSourceConfig("http", API, name="a", options={"headers": {"Cookie": "sid=abc123"}}),
            id="cookie-header",
        ),
        pytest.param(
            DataSourceConfig(
                "http", API, name="a", options={"headers": {"Proxy-Authorization": "abc123"}}
            ),
            id="proxy-authorization-header",
        ),
        pytest.param(
            DataSourceConfig("http", API, name="a", options={"headers": {"X-Auth": "abc123"}}),
            id="x-auth-header",
        ),
        pytest.param(
            DataSourceConfig(
                "http", API, name="a", options={"headers": {"X-Custom": "Bearer abc123.x"}}
            ),
            id="bearer-value-under-any-name",
        ),
        pytest.param(
            DataSourceConfig(
                "file",
                "s3://bucket/data",
                name="a",
                options={"storage_options": {"proxy": "http://me:abc123@proxy:3128"}},
            ),
            id="proxy-url-with-password",
        ),
        pytest.param(
            DataSourceConfig(
                "file",
                "s3://bucket/data",
                name="a",
                options={"storage_options": {"proxies": ["http://open:1", "http://me:abc123@p:1"]}},
            ),
            id="url-with-password-in-a-list",
        ),
        pytest.param(
            DataSourceConfig("http", f"{API}?auth=Bearer%20abc123.x", name="a"),
            id="credential-value-in-the-query",
        ),
    ],
)
def test_add_refuses_what_would_store_a_secret_or_never_resolve(
    memory: ConnectionManager, config: DataSourceConfig
) -> None:
    with pytest.raises(ConnectorError) as caught:
        memory.add(config)
    assert "abc123" not in str(caught.value)
    assert memory.list() == []


def test_a_credential_header_is_refused_with_a_hint_to_a_reference(
    memory: ConnectionManager,
) -> None:
    config = source_config("api", API, options={"headers": {"Cookie": "sid=abc123"}})
    with pytest.raises(ConnectorError, match=r"option 'headers\.Cookie' holds a credential") as e:
        memory.add(config)
    assert "api_key_header='Cookie'" in (e.value.hint or "")
    assert "secrets={'api_key': 'env:API_COOKIE'}" in (e.value.hint or "")
    proxy = {"storage_options": {"proxy": "http://me:abc123@proxy:3128"}}
    with pytest.raises(ConnectorError, match="holds a URL with a password") as e:
        memory.add(source_config("lake", "memory://lake", options=proxy))
    assert "HTTPS_PROXY" in (e.value.hint or "")


def test_a_failed_test_adds_nothing(memory: ConnectionManager, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "shop.db"
    with pytest.raises(ConnectorError, match=r"(?s)'shop' was not added.*add it without testing"):
        memory.add(source_config("shop", f"sqlite:///{missing}"), test=True)
    assert memory.list() == []


# -- real sources: a SQLite database file, CSV and Parquet files --------------------------
def test_sqlite_source_end_to_end(managed: ConnectionManager, shop_db: Path) -> None:
    outcome = managed.add(source_config("shop", f"sqlite:///{shop_db}"), test=True)
    assert outcome is not None and outcome.ok and outcome.latency_s > 0

    probe = managed.test("shop")
    assert probe.ok and 0 < probe.latency_s < 5
    assert "ms" in probe.message

    tables = {t.name: t for t in managed.inspect("shop")}
    assert "orders" in tables
    orders = tables["orders"]
    assert isinstance(orders, TableInfo)
    assert [c.name for c in orders.columns] == ["id", "customer", "amount"]
    assert all(c.type for c in orders.columns)
    assert orders.rows in (None, 4)

    preview = managed.preview("shop", table="orders", limit=2)
    assert preview.height == 2 and preview.columns == ["id", "customer", "amount"]

    big = managed.read(
        "shop", query="SELECT id, amount FROM orders WHERE amount > :least", params={"least": 10}
    )
    assert sorted(big["id"].to_list()) == [1, 3, 4]

    totals = ORDERS.group_by("customer").agg(pl.col("amount").sum()).sort("customer")
    result = managed.write(totals, "shop", table="totals", mode="replace")
    assert result.rows == 3
    back = managed.read("shop", table="totals").sort("customer")
    assert back["customer"].to_list() == ["ann", "bob", "zoë"]
    assert back["amount"].to_list() == [111.5, 7.0, 30.25]


@pytest.mark.parametrize("fixture", ["orders_csv", "orders_parquet"])
def test_file_sources(
    managed: ConnectionManager, request: pytest.FixtureRequest, fixture: str, tmp_path: Path
) -> None:
    path: Path = request.getfixturevalue(fixture)
    assert managed.add(source_config("orders", str(path)), test=True) is not None
    assert managed.get("orders").kind == "file"
    assert managed.test("orders").ok
    assert managed.read("orders").equals(ORDERS)
    assert managed.preview("orders", limit=3).height == 3
    tables = managed.inspect("orders")
    assert tables and {"id", "customer", "amount"} <= {c.name for c in tables[0].columns}

    target = tmp_path / f"copy{path.suffix}"
    managed.add(source_config("copy", str(target)))
    assert managed.write(ORDERS, "copy", mode="replace").rows == 4
    assert managed.read("copy").equals(ORDERS)


def test_a_missing_file_fails_its_test_not_the_caller(
    managed: ConnectionManager, tmp_path: Path
) -> None:
    managed.add(source_config("gone", str(tmp_path / "gone.csv")))
    outcome = managed.test("gone")
    assert not outcome.ok and "gone.csv" in outcome.message


# -- pipeline_lab.read / pipeline_lab.write ------------------------------------------------
def test_public_read_and_write_by_name(managed: ConnectionManager, shop_db: Path) -> None:
    managed.add(source_config("shop", f"sqlite:///{shop_db}"))
    orders = pipeline_lab.read("shop", table="orders")
    assert orders.height == 4
    few = pipeline_lab.read(
        "shop", query="SELECT * FROM orders WHERE customer = :who", params={"who": "ann"}
    )
    assert few["id"].to_list() == [1, 4]
    written = pipeline_lab.write(few, "shop", table="ann_orders", mode="replace")
    assert written.rows == 2
    assert pipeline_lab.read("shop", table="ann_orders")["amount"].to_list() == [12.5, 99.0]


def test_public_read_of_an_unknown_name_suggests_the_closest(
    managed: ConnectionManager, shop_db: Path
) -> None:
    managed.add(source_config("shop", f"sqlite:///{shop_db}"))
    with pytest.raises(ConnectorError, match="did you mean 'shop'"):
        pipeline_lab.read("shpo", table="orders")


def test_urls_and_paths_never_touch_the_store(
    shop_db: Path, orders_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A store that cannot be opened: any attempt to use it would fail these reads.
    monkeypatch.setenv("PIPELINE_LAB_DB_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert pipeline_lab.read(str(orders_csv)).equals(ORDERS)
    assert pipeline_lab.read(f"sqlite:///{shop_db}", table="orders").height == 4
    out = tmp_path / "out.parquet"
    assert pipeline_lab.write(ORDERS, str(out), mode="replace").rows == 4
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:1"):
        pipeline_lab.read("shop", table="orders")  # a bare name is looked up in the store


# -- secrets: references in the store, values only when connecting --------------------------
@pytest.fixture
def mariadb_user() -> Iterator[tuple[str, str, str]]:
    """A MariaDB database and a user that needs its password: (user, password, database)."""
    pymysql = pytest.importorskip("pymysql")
    try:
        admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", connect_timeout=3)
    except pymysql.err.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"MariaDB on 127.0.0.1:3306 is down: {exc}")
        pytest.skip(f"no MariaDB on 127.0.0.1:3306: {exc}")
    suffix = uuid.uuid4().hex[:10]
    user, password, database = f"pl_{suffix}", f"Pw-{uuid.uuid4().hex}", f"pl_test_{suffix}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{database}`")
        cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
        cur.execute(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY '{password}'")
        cur.execute(f"GRANT ALL ON `{database}`.* TO '{user}'@'%'")
        cur.execute(f"GRANT ALL ON `{database}`.* TO '{user}'@'localhost'")
        cur.execute(f"CREATE TABLE `{database}`.orders (id INT PRIMARY KEY, amount DOUBLE)")
        cur.execute(f"INSERT INTO `{database}`.orders VALUES (1, 12.5), (2, 7.0)")
    admin.commit()
    try:
        yield user, password, database
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
            cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")
            cur.execute(f"DROP USER IF EXISTS '{user}'@'localhost'")
        admin.close()


def test_secrets_are_resolved_only_when_connecting(
    managed: ConnectionManager,
    mariadb_user: tuple[str, str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user, password, database = mariadb_user
    variable = f"PL_TEST_{uuid.uuid4().hex[:8].upper()}"
    monkeypatch.delenv(variable, raising=False)
    config = source_config(
        "mart",
        f"mysql+pymysql://{user}@127.0.0.1:3306/{database}",
        secrets={"password": f"env:{variable}"},
    )
    managed.add(config)  # the variable need not exist to add the source

    unset = managed.test("mart")
    assert not unset.ok and variable in unset.message

    monkeypatch.setenv(variable, "not-the-password")
    wrong = managed.test("mart")
    assert not wrong.ok and "not-the-password" not in wrong.message

    monkeypatch.setenv(variable, password)
    assert managed.test("mart").ok
    assert pipeline_lab.read("mart", table="orders").sort("id")["amount"].to_list() == [12.5, 7.0]

    with open_store().engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM data_sources")).mappings().all()
    stored = json.dumps([dict(r) for r in rows], default=str)
    assert f"env:{variable}" in stored
    assert password not in stored
