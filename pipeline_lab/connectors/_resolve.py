"""From what a user writes (a URL, a path, a source name) to a connector.

Two registries answer: :data:`CONNECTORS` (kind -> connector class) and :data:`SCHEMES`
(URL scheme -> kind). A connector class declares its ``kind`` and the URL ``schemes`` it
reads, and :func:`register_connector` puts it in both. An installed package adds its own
under the ``pipeline_lab.connectors`` (the class) and ``pipeline_lab.url_schemes`` (its kind)
entry-point groups::

    [project.entry-points."pipeline_lab.connectors"]
    snowflake = "acme_connectors:SnowflakeConnector"
    [project.entry-points."pipeline_lab.url_schemes"]
    snowflake = "acme_connectors:SnowflakeConnector.kind"
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from pipeline_lab.config import STORE_ENV, settings
from pipeline_lab.connectors._base import Connector
from pipeline_lab.connectors._catalogs import (
    NAME_PATTERN,
    SourceCatalog,
    active_catalog,
    unknown_source,
)
from pipeline_lab.connectors._config import DataSourceConfig
from pipeline_lab.errors import ConnectorError
from pipeline_lab.redact import safe_url
from pipeline_lab.registry import Registry

# Importing each registers its connectors and their URL schemes.
_BUILTINS = (
    "pipeline_lab.connectors.files",
    "pipeline_lab.connectors.http",
    "pipeline_lab.connectors.sql",
)
CONNECTORS: Registry[type[Connector]] = Registry(
    "connector", entry_point_group="pipeline_lab.connectors", builtins=_BUILTINS
)
SCHEMES: Registry[str] = Registry(
    "URL scheme", entry_point_group="pipeline_lab.url_schemes", builtins=_BUILTINS
)
"""URL scheme (before any ``+driver``) -> the kind of connector that reads it."""

C = TypeVar("C", bound=type[Connector])


def register_connector(cls: C) -> C:
    """Register ``cls`` under its ``kind`` and as the reader of its URL ``schemes``.

    Examples
    --------
    >>> @register_connector
    ... class SnowflakeConnector(Connector):
    ...     kind, schemes = "snowflake", ("snowflake",)
    """
    CONNECTORS.register(cls.kind, cls)
    for scheme in cls.schemes:
        SCHEMES.register(scheme, cls.kind)
    return cls


def connector_class(kind: str) -> type[Connector]:
    return CONNECTORS.get(kind)


def kind_of(url: str, **options: Any) -> str:
    """The connector kind for a URL (by its scheme) or a path (``file``)."""
    if "://" not in url:
        return "file"
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme not in SCHEMES:
        from pipeline_lab.suggest import did_you_mean

        known = SCHEMES.names()
        raise ConnectorError(
            f"no connector for URLs starting with {scheme}://",
            hint=f"known: {', '.join(known)}"
            + (f"; {suggestion}" if (suggestion := did_you_mean(scheme, known)) else ""),
        )
    kind = SCHEMES.get(scheme)
    if kind == "http" and options.get("graphql"):
        return "graphql"
    return kind


def config_for(
    source: str | DataSourceConfig,
    catalog: SourceCatalog | None = None,
    *,
    creating: bool = False,
    **options: Any,
) -> DataSourceConfig:
    """The configuration ``source`` stands for: a config, a URL, a path or a managed name.

    A name is looked up in ``catalog``, by default the run's inside a run and the store's
    outside one. With ``PIPELINE_LAB_STORE=off`` no store is opened (or created): a name is
    then a file path, which a read (not ``creating``) refuses if there is no such file. A
    name that is both a managed source and a file or folder here is refused: which one is
    meant is the user's to say (``./NAME`` for the file).
    """
    if isinstance(source, DataSourceConfig):
        return source
    if NAME_PATTERN.match(source):
        local = Path(source)
        here = local.exists() or local.is_symlink()
        catalog = catalog if catalog is not None else active_catalog()
        if catalog is not None:
            config = catalog.get_source(source)
            if config is not None and here and not _same_place(config, local):
                raise _ambiguous(source, local, config)
            if config is not None:
                return config
            if not here:
                raise unknown_source(source, catalog.source_names(), or_file=True)
        elif not here and not creating and not settings().store_enabled:
            raise ConnectorError(
                f"no file named '{source}', and data source names are not looked up: "
                f"the store, which keeps them, is off ({STORE_ENV}=off)",
                hint=f"pass a file path or URL, or unset {STORE_ENV} to read managed sources "
                "by name (pipeline-lab sources add NAME URL)",
            )
    return DataSourceConfig(kind=kind_of(source, **options), url=source, options=dict(options))


def _same_place(config: DataSourceConfig, local: Path) -> bool:
    """Whether a file source's own path is ``local`` (its folder, entered from its parent):
    then both readings of the name are the same data."""
    if config.kind != "file" or any(c in config.url for c in "*?["):
        return False
    url = config.url
    if "://" in url:
        if url.split("://", 1)[0].lower() not in ("file", "local"):
            return False
        url = unquote(urlsplit(url).path)
    return os.path.realpath(os.path.expanduser(url)) == os.path.realpath(local)


def _ambiguous(name: str, local: Path, config: DataSourceConfig) -> ConnectorError:
    """The error for a name that is both a managed source and a file or folder here."""
    what = "folder" if local.is_dir() else "file"
    return ConnectorError(
        f"'{name}' is both the managed data source '{name}' ({config.kind}: "
        f"{safe_url(config.url)}) and the {what} {local.absolute()}; "
        "Pipeline Lab will not guess which one you mean",
        hint=f"write ./{name} for the {what}; for the data source, rename or move the {what}"
        + (
            f", or pass the source's own path ({config.url})"
            if config.kind == "file" and not config.options
            else ""
        ),
    )


def open_connector(
    source: str | DataSourceConfig,
    catalog: SourceCatalog | None = None,
    *,
    creating: bool = False,
    **options: Any,
) -> Connector:
    """A connector on ``source`` (see :func:`config_for`); ``creating`` for a write target."""
    config = config_for(source, catalog, creating=creating, **options)
    return connector_class(config.kind)(config)


def split_options(options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Options that pick a connector (``graphql``) apart from those of the read itself."""
    picking = {k: v for k, v in options.items() if k in {"graphql"}}
    return picking, {k: v for k, v in options.items() if k not in picking}
