"""``%pipeline sources`` in a real IPython shell: managed sources, secrets only as references."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from pipeline_lab.connectors import DataSourceConfig
from pipeline_lab.store import StoreSourceCatalog

SECRET = "pw-that-must-not-show"


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """The process's IPython shell (``display()`` publishes through it, as in a kernel), with
    the store on (in the test's own home): managed sources live there."""
    monkeypatch.setenv("PIPELINE_LAB_STORE", "on")
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "pipeline_lab")
    yield ip
    ip.run_line_magic("unload_ext", "pipeline_lab")
    InteractiveShell.clear_instance()


@pytest.fixture
def published(shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The mime bundles the shell displays (text/plain and text/html), as a front end gets them."""
    bundles: list[dict[str, Any]] = []
    monkeypatch.setattr(
        shell.display_pub, "publish", lambda data, *args, **kwargs: bundles.append(data)
    )
    return bundles


def _sources_bundle(shell: InteractiveShell, published: list[dict[str, Any]]) -> dict[str, Any]:
    result = shell.run_cell("%pipeline sources")
    assert result.success, result.error_in_exec
    assert len(published) == 1
    return published[0]


def test_lists_sources_with_safe_urls_and_secret_references(
    shell: InteractiveShell, published: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_PASSWORD", SECRET)
    catalog = StoreSourceCatalog()
    catalog.add(
        DataSourceConfig(
            "postgres",
            "postgresql+psycopg://analyst@db.example.com:5432/shop",
            name="shop",
            options={"schema": "sales"},
            secrets={"password": "env:SHOP_PASSWORD"},
        )
    )
    catalog.add(DataSourceConfig("file", "/data/orders/*.csv", name="orders"))

    bundle = _sources_bundle(shell, published)
    plain, html = bundle["text/plain"], bundle["text/html"]
    for text in (plain, html):
        assert "2 data source(s)" in text
        assert "shop" in text and "orders" in text
        assert "postgresql+psycopg://analyst@db.example.com:5432/shop" in text
        assert "password: env:SHOP_PASSWORD" in text
        assert "/data/orders/*.csv" in text
        assert SECRET not in text
    assert plain.index("orders") < plain.index("shop")  # by name


def test_every_value_is_escaped_in_html(
    shell: InteractiveShell, published: list[dict[str, Any]]
) -> None:
    StoreSourceCatalog().add(
        DataSourceConfig(
            "file", "/data/<script>alert(1)</script>.csv", name="evil", options={"sep": "<b>"}
        )
    )
    html = _sources_bundle(shell, published)["text/html"]
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_no_sources_says_how_to_add_one(
    shell: InteractiveShell, published: list[dict[str, Any]]
) -> None:
    bundle = _sources_bundle(shell, published)
    assert "pipeline-lab sources add NAME URL" in bundle["text/plain"]
    assert "pipeline-lab sources add NAME URL" in bundle["text/html"]


def test_help_mentions_the_verb(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_cell("%pipeline help")
    assert "%pipeline sources" in capsys.readouterr().out
