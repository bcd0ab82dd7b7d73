"""From what a user writes (a URL, a path, a source name) to a connector."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from pipeline_lab.connectors._base import Connector
from pipeline_lab.connectors._config import DataSourceConfig
from pipeline_lab.context import current_run
from pipeline_lab.errors import ConnectorError
from pipeline_lab.registry import Registry

CONNECTORS: Registry[type[Connector]] = Registry(
    "connector",
    entry_point_group="pipeline_lab.connectors",
    builtins=(
        "pipeline_lab.connectors.files",
        "pipeline_lab.connectors.http",
        "pipeline_lab.connectors.sql",
    ),
)

# URL scheme (before any +driver) -> connector kind
SCHEMES = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mssql": "mssql",
    "oracle": "oracle",
    "sqlite": "sqlite",
    "http": "http",
    "https": "http",
    "file": "file",
    "s3": "file",
    "s3a": "file",
    "gs": "file",
    "gcs": "file",
    "az": "file",
    "abfs": "file",
    "memory": "file",
}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class SourceCatalog(Protocol):
    """Where managed data sources are kept (the store implements it)."""

    def get_source(self, name: str) -> DataSourceConfig | None: ...

    def source_names(self) -> list[str]: ...


def connector_class(kind: str) -> type[Connector]:
    return CONNECTORS.get(kind)


def config_for(
    source: str | DataSourceConfig, catalog: SourceCatalog | None = None, **options: Any
) -> DataSourceConfig:
    """The configuration ``source`` stands for: a config, a URL, a path or a managed name."""
    if isinstance(source, DataSourceConfig):
        return source
    if "://" in source:
        scheme = source.split("://", 1)[0].split("+", 1)[0].lower()
        kind = SCHEMES.get(scheme)
        if kind is None:
            raise ConnectorError(
                f"no connector for URLs starting with {scheme}://",
                hint=f"known: {', '.join(sorted(SCHEMES))}",
            )
        if kind == "http" and options.get("graphql"):
            kind = "graphql"
        return DataSourceConfig(kind=kind, url=source, options=dict(options))
    # The runner puts the store's catalog in each node's run context, so components and code
    # cells can name managed sources.
    catalog = catalog if catalog is not None else current_run().catalog
    if catalog is not None and _NAME.match(source) and not Path(source).exists():
        config = catalog.get_source(source)
        if config is not None:
            return config
        from pipeline_lab.suggest import did_you_mean

        names = catalog.source_names()
        raise ConnectorError(
            f"no data source named '{source}' (and no file of that name)",
            hint=did_you_mean(source, names)
            or f"add it with: pipeline-lab sources add {source} URL"
            + (f" (sources: {', '.join(names)})" if names else ""),
        )
    return DataSourceConfig(kind="file", url=source, options=dict(options))


def open_connector(
    source: str | DataSourceConfig, catalog: SourceCatalog | None = None, **options: Any
) -> Connector:
    config = config_for(source, catalog, **options)
    return connector_class(config.kind)(config)


def split_options(options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Options that pick a connector (``graphql``) apart from those of the read itself."""
    picking = {k: v for k, v in options.items() if k in {"graphql"}}
    return picking, {k: v for k, v in options.items() if k not in picking}
