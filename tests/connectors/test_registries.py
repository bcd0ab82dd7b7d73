"""Registries of the connectors: URL schemes, secret providers and source catalogs.

Built-ins come first; an installed distribution adds its own through entry points (simulated
here with a real ``.dist-info`` folder on ``sys.path``); and the first lookups of a fresh
process may race from many threads without ever seeing a half-loaded registry.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline_lab.connectors import (
    CONNECTORS,
    SCHEMES,
    SECRET_PROVIDERS,
    SOURCE_CATALOGS,
    ConnectionManager,
    DataSourceConfig,
    kind_of,
    read,
    reference_problem,
    resolve_secret,
    source_config,
)
from pipeline_lab.errors import ConnectorError


def install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, code: str, eps: str
) -> None:
    """Put a distribution ``name`` (one module, its entry points) on ``sys.path``."""
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(code))
    dist = tmp_path / f"{name}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent(eps))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)


# -- URL schemes -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "kind"),
    [
        pytest.param("postgresql+psycopg://me@db/shop", "postgres", id="postgresql"),
        pytest.param("postgres://me@db/shop", "postgres", id="postgres"),
        pytest.param("mariadb+pymysql://me@db/shop", "mysql", id="mariadb"),
        pytest.param("MSSQL+pyodbc://me@db/shop", "mssql", id="upper-case"),
        pytest.param("oracle://me@db/x", "oracle", id="oracle"),
        pytest.param("sqlite:///shop.db", "sqlite", id="sqlite"),
        pytest.param("https://api.example.com/v1", "http", id="https"),
        pytest.param("abfss://c@acct.dfs.core.windows.net/x.parquet", "file", id="abfss"),
        pytest.param("memory://bucket/x.csv", "file", id="memory"),
        pytest.param("data/orders.csv", "file", id="path"),
    ],
)
def test_each_connector_declares_the_schemes_it_reads(url: str, kind: str) -> None:
    assert kind_of(url) == kind
    assert CONNECTORS.get(kind).kind == kind  # the class registered is the one of that kind
    assert all(SCHEMES.get(s) == kind for s in CONNECTORS.get(kind).schemes)


def test_an_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(
        ConnectorError, match="no connector for URLs starting with postgress://"
    ) as info:
        read("postgress://me@db/shop")
    hint = info.value.hint or ""
    assert all(scheme in hint for scheme in ("postgresql", "mysql", "https", "s3", "sqlite"))
    assert "did you mean 'postgres'" in hint


@pytest.fixture
def counter_connector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A distribution whose connector reads ``counter://N`` URLs as the numbers 0..N-1."""
    install(
        tmp_path,
        monkeypatch,
        "acme_counter",
        """
        import polars as pl

        from pipeline_lab.connectors import Connector
        from pipeline_lab.lineage import DatasetRef

        class CounterConnector(Connector):
            kind = "counter"
            schemes = ("counter",)

            def dataset(self, *, table=None, query=None):
                return DatasetRef("counter://", self.config.url.split("://", 1)[1])

            def _read(self, *, table, query, params, **options):
                return pl.DataFrame({"n": range(int(self.config.url.split("://", 1)[1]))})

            def _ping(self):
                pass
        """,
        """
        [pipeline_lab.connectors]
        counter = acme_counter:CounterConnector
        [pipeline_lab.url_schemes]
        counter = acme_counter:CounterConnector.kind
        """,
    )
    CONNECTORS.reload()  # the distribution was "installed" after the first use
    SCHEMES.reload()
    try:
        yield
    finally:
        CONNECTORS.unregister("counter")
        SCHEMES.unregister("counter")


@pytest.mark.usefixtures("counter_connector")
def test_a_url_scheme_from_another_installed_package() -> None:
    assert read("counter://3")["n"].to_list() == [0, 1, 2]
    assert source_config("numbers", "counter://5").kind == "counter"


# -- secret providers --------------------------------------------------------------------------
@pytest.fixture
def vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, http_app: Any) -> Iterator[None]:
    """A distribution whose ``vault:PATH`` references resolve from its own store of secrets."""
    install(
        tmp_path,
        monkeypatch,
        "acme_vault",
        f"""
        from pipeline_lab.connectors import SecretProvider
        from pipeline_lab.errors import ConnectorError

        SECRETS = {{"api/token": {http_app.BEARER_TOKEN!r}}}

        class Vault(SecretProvider):
            target = "PATH"

            def resolve(self, target, *, ref, source):
                if target not in SECRETS:
                    raise ConnectorError(f"the vault has no secret at {{target}}", dataset=source)
                return SECRETS[target]

        vault = Vault()
        """,
        "[pipeline_lab.secret_providers]\nvault = acme_vault:vault\n",
    )
    SECRET_PROVIDERS.reload()
    try:
        yield
    finally:
        SECRET_PROVIDERS.unregister("vault")


def test_unknown_secret_providers_are_refused_listing_the_known_ones() -> None:
    assert reference_problem("vault:api/token") == (
        "it names no known secret provider (known: env, keyring)"
    )
    with pytest.raises(ConnectorError, match=r"no known secret provider \(known: env, keyring\)"):
        resolve_secret("vault:api/token")


@pytest.mark.usefixtures("vault")
def test_a_secret_provider_from_another_installed_package(http_api: Any, http_app: Any) -> None:
    assert resolve_secret("vault:api/token") == http_app.BEARER_TOKEN
    # A real read authenticates with it, and its errors never show the value.
    frame = read(http_api.url("/bearer/items"), secrets={"token": "vault:api/token"})
    assert frame.height > 0
    with pytest.raises(ConnectorError, match="the vault has no secret at api/nothing"):
        read(http_api.url("/bearer/items"), secrets={"token": "vault:api/nothing"})
    # Managed sources may keep its references, as they keep env: and keyring: ones.
    source = source_config("api", http_api.url("/bearer"), secrets={"token": "vault:api/token"})
    assert source.secrets == {"token": "vault:api/token"}
    assert reference_problem("vault:api/token") is None


# -- source catalogs ---------------------------------------------------------------------------
@pytest.fixture
def yaml_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A distribution whose catalog knows one source, ``numbers``: a CSV file."""
    csv = tmp_path / "numbers.csv"
    csv.write_text("n\n1\n2\n")
    install(
        tmp_path,
        monkeypatch,
        "acme_catalog",
        f"""
        from pipeline_lab.connectors import DataSourceConfig

        class Catalog:
            def get_source(self, name):
                if name == "numbers":
                    return DataSourceConfig("file", {str(csv)!r}, name="numbers")
                return None

            def source_names(self):
                return ["numbers"]

        def provider():
            return Catalog()
        """,
        "[pipeline_lab.source_catalogs]\nyaml = acme_catalog:provider\n",
    )
    SOURCE_CATALOGS.reload()
    try:
        yield csv
    finally:
        SOURCE_CATALOGS.unregister("yaml")


@pytest.mark.parametrize("store", ["on", "off"])
@pytest.mark.usefixtures("yaml_catalog")
def test_a_source_catalog_from_another_installed_package(
    store: str, monkeypatch: pytest.MonkeyPatch, pipeline_lab_home: Path
) -> None:
    monkeypatch.setenv("PIPELINE_LAB_STORE", store)
    assert read("numbers")["n"].to_list() == [1, 2]
    with pytest.raises(ConnectorError, match="no data source named 'numbrs'") as info:
        read("numbrs")
    assert info.value.hint == "did you mean 'numbers'?"
    # The store's catalog joins in when the store is on, and is never opened when off.
    assert any(pipeline_lab_home.iterdir()) == (store == "on")


def test_the_manager_checks_references_with_the_providers() -> None:
    class Catalog(dict[str, DataSourceConfig]):
        def get_source(self, name: str) -> DataSourceConfig | None:
            return self.get(name)

        def source_names(self) -> list[str]:
            return sorted(self)

        def add(self, config: DataSourceConfig) -> DataSourceConfig:
            self[config.name or ""] = config
            return config

    manager = ConnectionManager(Catalog())  # type: ignore[arg-type]
    with pytest.raises(ConnectorError, match="no known secret provider") as info:
        manager.add(DataSourceConfig("file", "/d.csv", name="d", secrets={"key": "vault:x"}))
    assert "env:NAME or keyring:SERVICE/USER" in (info.value.hint or "")
    with pytest.raises(ConnectorError, match="letters, digits and '_' only"):
        manager.add(DataSourceConfig("file", "/d.csv", name="d", secrets={"key": "env:A-B"}))


# -- many threads, first lookups of a fresh process ---------------------------------------------
FRESH_PROCESS = """
import sys, threading
from pipeline_lab.connectors import open_connector, reference_problem, resolve_secret
barrier = threading.Barrier(24)
errors = []

def scheme(i):
    url = ("postgresql://me@db/x", "https://api.example.com/v1", "s3://b/k.csv")[i % 3]
    kind = open_connector(url).kind
    assert kind == ("postgres", "http", "file")[i % 3], kind

def secret(i):
    assert resolve_secret("env:PL_THREAD_SECRET") == "s3cret"
    assert reference_problem("keyring:service/user") is None

def ask(i):
    barrier.wait()
    try:
        (scheme if i % 2 else secret)(i)
    except BaseException as exc:
        errors.append(f"{type(exc).__name__}: {exc}")

threads = [threading.Thread(target=ask, args=(i,)) for i in range(24)]
for t in threads: t.start()
for t in threads: t.join()
print(len(errors), errors[:2])
sys.exit(1 if errors else 0)
"""


def test_a_fresh_process_resolves_schemes_and_secrets_from_many_threads_at_once() -> None:
    env = {**os.environ, "PL_THREAD_SECRET": "s3cret"}
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", FRESH_PROCESS], capture_output=True, text=True, env=env
        )
        assert done.returncode == 0, done.stdout + done.stderr
