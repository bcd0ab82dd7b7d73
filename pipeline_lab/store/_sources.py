"""Managed data sources in the store: the catalog ``pipeline_lab.read("NAME")`` looks names up in.

:func:`store_catalog` is the store's entry in the connectors' ``SOURCE_CATALOGS`` (declared
as a ``pipeline_lab.source_catalogs`` entry point in ``pyproject.toml``); it gives none while
``PIPELINE_LAB_STORE=off``, so a name lookup then opens and creates no database.
"""

from __future__ import annotations

import builtins
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline_lab.config import settings
from pipeline_lab.connectors import DataSourceConfig, check_source, unknown_source
from pipeline_lab.errors import StoreError
from pipeline_lab.store._engine import Repository
from pipeline_lab.store._models import DataSourceRecord, utcnow


class StoreSourceCatalog(Repository):
    """The managed data sources kept in the Pipeline Lab store.

    Implements ``SourceCatalog`` (so ``pipeline_lab.read("NAME")`` finds them) and the
    ``ManagedCatalog`` of ``ConnectionManager``. Every write is checked first: a URL with a
    password, a credential among the options, or a secret that is not a reference
    (``env:NAME``, ``keyring:SERVICE/USER``) is refused, so the store never holds a secret.

    Parameters
    ----------
    store
        The store to use; ``None`` opens the configured one on first use.

    Examples
    --------
    >>> catalog = StoreSourceCatalog()
    >>> catalog.add(DataSourceConfig("postgres", "postgresql+psycopg://me@db/shop", name="shop",
    ...                              secrets={"password": "env:SHOP_PASSWORD"}))
    >>> catalog.get_source("shop").safe_url
    """

    # -- SourceCatalog -------------------------------------------------------------------
    def get_source(self, name: str) -> DataSourceConfig | None:
        """The source ``name``, or ``None``."""
        with self.store.session(write=False) as session:
            record = _find(session, name)
            return _config(record) if record is not None else None

    def source_names(self) -> builtins.list[str]:
        """Every source's name, sorted."""
        with self.store.session(write=False) as session:
            return list(
                session.scalars(select(DataSourceRecord.name).order_by(DataSourceRecord.name))
            )

    # -- ManagedCatalog ------------------------------------------------------------------
    def add(self, config: DataSourceConfig) -> DataSourceConfig:
        """Keep a new source; refuse a name that is taken."""
        values = _values(config)
        with self.store.session() as session:
            if _find(session, values["name"]) is not None:
                raise self._exists(values["name"])
            now = utcnow()
            session.add(DataSourceRecord(**values, created_at=now, updated_at=now))
            try:
                session.flush()
            except IntegrityError:
                # Another process added it between our check and our insert.
                raise self._exists(values["name"]) from None
        return config

    def update(self, config: DataSourceConfig) -> DataSourceConfig:
        """Replace the source of the same name (which must exist)."""
        values = _values(config)
        with self.store.session() as session:
            record = self._require(session, values["name"], lock=True)
            for key, value in values.items():
                setattr(record, key, value)
            record.updated_at = utcnow()
        return config

    def remove(self, name: str) -> None:
        """Forget the source ``name`` (which must exist)."""
        with self.store.session() as session:
            session.delete(self._require(session, name, lock=True))

    def list(self) -> builtins.list[DataSourceConfig]:
        """Every source, by name."""
        with self.store.session(write=False) as session:
            records = session.scalars(select(DataSourceRecord).order_by(DataSourceRecord.name))
            return [_config(r) for r in records]

    def _exists(self, name: str) -> StoreError:
        return StoreError(
            f"a data source named '{name}' already exists in the store {self.store.url}",
            hint=f"pick another name, replace it (pipeline-lab sources add {name} URL --replace), "
            f"or remove it first (pipeline-lab sources remove {name})",
        )

    def _require(self, session: Session, name: str, *, lock: bool = False) -> DataSourceRecord:
        record = _find(session, name, lock=lock)
        if record is None:
            names = session.scalars(select(DataSourceRecord.name)).all()
            error = unknown_source(name, list(names))
            raise StoreError(error.message, hint=error.hint)
        return record


def _find(session: Session, name: str, *, lock: bool = False) -> DataSourceRecord | None:
    query = select(DataSourceRecord).where(DataSourceRecord.name == name)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def _values(config: DataSourceConfig) -> dict[str, Any]:
    check_source(config)
    try:
        options = json.loads(json.dumps(dict(config.options), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"the options of data source '{config.name}' cannot be stored: {exc}",
            hint="options must be JSON values (strings, finite numbers, booleans, lists, "
            "dicts, null)",
        ) from None
    return {
        "name": config.name,
        "kind": config.kind,
        "url": config.url,
        "options": options,
        "secrets": dict(config.secrets),
    }


def _config(record: DataSourceRecord) -> DataSourceConfig:
    return DataSourceConfig(
        kind=record.kind,
        url=record.url,
        name=record.name,
        options=dict(record.options or {}),
        secrets=dict(record.secrets or {}),
    )


def store_catalog() -> StoreSourceCatalog | None:
    """The store's catalog, or ``None`` while ``PIPELINE_LAB_STORE=off`` (nothing is opened)."""
    return StoreSourceCatalog() if settings().store_enabled else None
