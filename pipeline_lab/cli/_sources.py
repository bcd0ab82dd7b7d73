"""``pipeline-lab sources add|list|test|inspect|remove``: managed data sources.

Secrets are shown as their references (``password: env:PG_PASSWORD``), never resolved here.
Options are shown with anything that looks like a credential masked: the catalog refuses
them, but a store written by an older version may still hold one.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pipeline_lab.cli._render import console as make_console
from pipeline_lab.cli._render import escape
from pipeline_lab.connectors import (
    ConnectionManager,
    ConnectionTest,
    DataSourceConfig,
    TableInfo,
    safe_url,
    source_config,
)
from pipeline_lab.engine import plural
from pipeline_lab.errors import ConnectorError
from pipeline_lab.redact import masked_options


def _manager() -> ConnectionManager:
    from pipeline_lab.store import StoreSourceCatalog

    return ConnectionManager(StoreSourceCatalog())


def source_dict(config: DataSourceConfig) -> dict[str, Any]:
    """A source as shown: the URL without password, secrets as their references."""
    return {
        "name": config.name,
        "kind": config.kind,
        "url": safe_url(config.url),
        "options": masked_options(config.options),
        "secrets": dict(config.secrets),
    }


def secrets_text(secrets: Mapping[str, str]) -> str:
    return ", ".join(f"{key}: {ref}" for key, ref in secrets.items())


def options_text(options: Mapping[str, Any]) -> str:
    """Options on one line, credentials masked."""
    shown = masked_options(options)
    return ", ".join(f"{key}={json.dumps(value, default=str)}" for key, value in shown.items())


def add_source(
    name: str,
    url: str,
    *,
    kind: str | None,
    options: dict[str, Any],
    secrets: dict[str, str],
    test: bool,
    replace: bool,
) -> int:
    if "://" in url and urlsplit(url).password:
        variable = re.sub(r"[^A-Za-z0-9]+", "_", name).upper() + "_PASSWORD"
        raise ConnectorError(
            "the URL contains a password, which would be stored and shown",
            dataset=safe_url(url),
            hint=f"remove it from the URL and pass a reference: --secret password=env:{variable} "
            f"(then export {variable}=... where the source is used)",
        )
    config = source_config(name, url, kind=kind, options=options, secrets=secrets)
    outcome = _manager().add(config, test=test, replace=replace)

    console = make_console()
    console.print(
        f"{'replaced' if replace else 'added'} data source [bold]{escape(name)}[/] "
        f"({escape(config.kind)}): {escape(safe_url(config.url))}"
    )
    if config.options:
        console.print(f"  options: {escape(options_text(config.options))}")
    for key, ref in config.secrets.items():
        console.print(f"  {escape(key)}: {escape(ref)}")
        scheme, _, variable = ref.partition(":")
        if scheme == "env" and variable not in os.environ:
            console.print(
                f"  [yellow]note: {escape(variable)} is not set here; set it wherever "
                f"'{escape(name)}' is used[/]"
            )
    if outcome is not None:
        console.print(f"  [green]connection ok[/] in {_ms(outcome.latency_s)}")
    return 0


def list_sources(*, as_json: bool) -> int:
    sources = _manager().list()
    if as_json:
        print(json.dumps([source_dict(s) for s in sources], indent=2, default=str))
        return 0
    from rich.table import Table

    console = make_console()
    if not sources:
        console.print("no data sources yet; add one with: pipeline-lab sources add NAME URL")
        return 0
    table = Table(header_style="bold")
    for column in ("name", "kind", "url", "options", "secrets"):
        # fold, not "…": a narrow terminal must still show the whole URL and references.
        table.add_column(column, overflow="fold")
    for source in sources:
        table.add_row(
            escape(source.name or ""),
            escape(source.kind),
            escape(safe_url(source.url)),
            escape(options_text(source.options)),
            escape(secrets_text(source.secrets)),
        )
    console.print(table)
    return 0


def probe_source(name: str, *, as_json: bool) -> int:
    outcome = _manager().test(name)
    if as_json:
        print(json.dumps(_test_dict(name, outcome), indent=2))
    else:
        # One line: the outcome's message already says where, and how long it took.
        status = (
            "[green]ok[/]" if outcome.ok else f"[bold red]failed[/] after {_ms(outcome.latency_s)}"
        )
        make_console().print(f"{escape(name)}: {status}: {escape(outcome.message)}")
    return 0 if outcome.ok else 1


def inspect_source(name: str, *, as_json: bool) -> int:
    manager = _manager()
    config = manager.get(name)
    tables = manager.inspect(name)
    if as_json:
        data = {
            "name": name,
            "kind": config.kind,
            "url": safe_url(config.url),
            "tables": [_table_dict(t) for t in tables],
        }
        print(json.dumps(data, indent=2, default=str))
        return 0
    from rich.table import Table

    console = make_console()
    console.print(
        f"data source [bold]{escape(name)}[/] ({escape(config.kind)}, "
        f"{escape(safe_url(config.url))}): {plural(len(tables), 'table')}"
    )
    if not tables:
        return 0
    grid = Table(header_style="bold")
    for heading, justify in (
        ("table", "left"),
        ("rows", "right"),
        ("column", "left"),
        ("type", "left"),
        ("nullable", "left"),
    ):
        grid.add_column(heading, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for info in tables:
        rows = f"~{info.rows:,}" if info.rows is not None else ""
        if not info.columns:
            grid.add_row(escape(info.name), rows, "", "", "")
        for index, column in enumerate(info.columns):
            grid.add_row(
                escape(info.name) if index == 0 else "",
                rows if index == 0 else "",
                escape(column.name),
                escape(column.type),
                "yes" if column.nullable else "no",
            )
        grid.add_section()
    console.print(grid)
    return 0


def remove_source(name: str) -> int:

    _manager().remove(name)
    make_console().print(f"removed data source [bold]{escape(name)}[/] (its data is untouched)")
    return 0


def _test_dict(name: str, outcome: ConnectionTest) -> dict[str, Any]:
    return {
        "name": name,
        "ok": outcome.ok,
        "latency_s": round(outcome.latency_s, 6),
        "message": outcome.message,
    }


def _table_dict(info: TableInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "rows": info.rows,
        "columns": [{"name": c.name, "type": c.type, "nullable": c.nullable} for c in info.columns],
        "extra": dict(info.extra),
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"
