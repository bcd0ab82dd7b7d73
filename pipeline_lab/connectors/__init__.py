"""Connectors: databases, files, HTTP APIs; managed connections with secret references.

The connectors themselves live in the ``sql``, ``http`` and ``files`` subpackages, loaded on
first use through :data:`CONNECTORS`. What they share (the :class:`Connector` contract, the
registries, secret references) is public here.
"""

from __future__ import annotations

from pipeline_lab.connectors._api import read, write
from pipeline_lab.connectors._base import (
    ColumnInfo,
    ConnectionTest,
    Connector,
    TableInfo,
    WriteMode,
    WriteResult,
)
from pipeline_lab.connectors._catalogs import (
    SOURCE_CATALOGS,
    CatalogProvider,
    SourceCatalog,
    active_catalog,
    unknown_source,
)
from pipeline_lab.connectors._config import DataSourceConfig
from pipeline_lab.connectors._manager import (
    ConnectionManager,
    ManagedCatalog,
    check_source,
    looks_secret,
    source_config,
)
from pipeline_lab.connectors._resolve import (
    CONNECTORS,
    SCHEMES,
    config_for,
    connector_class,
    kind_of,
    open_connector,
    register_connector,
)
from pipeline_lab.connectors._secrets import (
    SECRET_PROVIDERS,
    SecretProvider,
    reference_forms,
    reference_problem,
    resolve_secret,
)
from pipeline_lab.redact import safe_url

__all__ = [
    "CONNECTORS",
    "SCHEMES",
    "SECRET_PROVIDERS",
    "SOURCE_CATALOGS",
    "CatalogProvider",
    "ColumnInfo",
    "ConnectionManager",
    "ConnectionTest",
    "Connector",
    "DataSourceConfig",
    "ManagedCatalog",
    "SecretProvider",
    "SourceCatalog",
    "TableInfo",
    "WriteMode",
    "WriteResult",
    "active_catalog",
    "check_source",
    "config_for",
    "connector_class",
    "kind_of",
    "looks_secret",
    "open_connector",
    "read",
    "reference_forms",
    "reference_problem",
    "register_connector",
    "resolve_secret",
    "safe_url",
    "source_config",
    "unknown_source",
    "write",
]
