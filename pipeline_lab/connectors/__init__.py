"""Connectors: databases, files, HTTP APIs; managed connections with secret references."""

from __future__ import annotations

from pipeline_lab.connectors._api import read, write
from pipeline_lab.connectors._base import (
    ColumnInfo,
    ConnectionTest,
    Connector,
    TableInfo,
    WriteResult,
)
from pipeline_lab.connectors._config import DataSourceConfig, safe_url
from pipeline_lab.connectors._manager import ConnectionManager, ManagedCatalog, source_config
from pipeline_lab.connectors._resolve import (
    CONNECTORS,
    SourceCatalog,
    config_for,
    connector_class,
    open_connector,
)
from pipeline_lab.connectors._secrets import resolve_secret

__all__ = [
    "CONNECTORS",
    "ColumnInfo",
    "ConnectionManager",
    "ConnectionTest",
    "Connector",
    "DataSourceConfig",
    "ManagedCatalog",
    "SourceCatalog",
    "TableInfo",
    "WriteResult",
    "config_for",
    "connector_class",
    "open_connector",
    "read",
    "resolve_secret",
    "safe_url",
    "source_config",
    "write",
]
