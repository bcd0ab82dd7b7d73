"""Where managed data source names resolve: the run's catalog, else the registered ones.

Inside a run, the runner chose the catalog (``current_run().catalog``: the store's, or none
when ``PIPELINE_LAB_STORE=off``). Outside a run, the providers of :data:`SOURCE_CATALOGS`
are asked: the plug-ins of the ``pipeline_lab.source_catalogs`` entry-point group. The store
is one (declared in Pipeline Lab's own ``pyproject.toml``), so connectors never name the store;
its provider gives no catalog while the store is off, so asking opens and creates nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pipeline_lab.context import current_run
from pipeline_lab.errors import ConnectorError
from pipeline_lab.registry import Registry

if TYPE_CHECKING:
    from pipeline_lab.connectors._config import DataSourceConfig

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
"""What ``pipeline_lab.read(NAME)`` recognises as a source name rather than a file path."""


class SourceCatalog(Protocol):
    """Where managed data sources are kept (the store implements it)."""

    def get_source(self, name: str) -> DataSourceConfig | None: ...

    def source_names(self) -> list[str]: ...


CatalogProvider = Callable[[], "SourceCatalog | None"]
"""Gives the catalog to look names up in outside a run, or ``None`` while it is switched off."""

SOURCE_CATALOGS: Registry[CatalogProvider] = Registry(
    "source catalog", entry_point_group="pipeline_lab.source_catalogs"
)


def active_catalog() -> SourceCatalog | None:
    """The catalog names resolve in here and now: the run's inside a run, else the registered."""
    run = current_run()
    if run.run_id is not None:
        catalog: SourceCatalog | None = run.catalog
        return catalog
    found = [
        catalog
        for catalog in (SOURCE_CATALOGS.get(name)() for name in SOURCE_CATALOGS.names())
        if catalog is not None
    ]
    if len(found) > 1:
        return _Catalogs(tuple(found))
    return found[0] if found else None


@dataclass(frozen=True)
class _Catalogs:
    """Several catalogs as one: the first (by provider name) that knows a name answers."""

    catalogs: tuple[SourceCatalog, ...]

    def get_source(self, name: str) -> DataSourceConfig | None:
        for catalog in self.catalogs:
            config = catalog.get_source(name)
            if config is not None:
                return config
        return None

    def source_names(self) -> list[str]:
        return sorted({name for catalog in self.catalogs for name in catalog.source_names()})


def unknown_source(name: str, names: list[str], *, or_file: bool = False) -> ConnectorError:
    """The error for a source name nobody added, naming the closest ones."""
    from pipeline_lab.suggest import did_you_mean

    listed = f"managed sources: {', '.join(sorted(names))}" if names else "none added yet"
    file = " and no file of that name" if or_file else ""
    return ConnectorError(
        f"no data source named '{name}'{file} ({listed})",
        hint=did_you_mean(name, names) or f"add it with: pipeline-lab sources add {name} URL",
    )
