"""Managed data sources in the store, and the public ``read``/``write`` that know their names."""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline_lab.connectors import DataSourceConfig, WriteResult
from pipeline_lab.connectors import read as read_source
from pipeline_lab.connectors import write as write_target
from pipeline_lab.connectors._manager import check_source, unknown_source
from pipeline_lab.errors import StoreError
from pipeline_lab.store._engine import Repository
from pipeline_lab.store._models import DataSourceRecord, utcnow

if TYPE_CHECKING:
    import polars as pl

    from pipeline_lab.connectors._base import WriteMode


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


# -- the public API: a URL, a path, or a managed source's name ----------------------------
def read(
    source: str | DataSourceConfig,
    *,
    table: str | None = None,
    query: str | None = None,
    params: Mapping[str, Any] | None = None,
    **options: Any,
) -> pl.DataFrame:
    """Read ``source`` into a polars DataFrame.

    Parameters
    ----------
    source
        A SQLAlchemy URL (``postgresql+psycopg://user@host/db``), a file path, glob or fsspec
        URL (``data/*.csv``, ``s3://bucket/key.parquet``), an http(s) URL, or the name of a
        managed data source (``pipeline-lab sources add NAME URL``). The store is opened only
        to look a name up.
    table, query, params
        For databases: a table, or a query whose ``:name`` placeholders bind ``params``.
    options
        Connector options (CSV delimiter, JSON path to records, pagination, ...).

    Examples
    --------
    >>> orders = pipeline_lab.read("warehouse", table="orders")
    >>> recent = pipeline_lab.read("warehouse", query="SELECT * FROM orders WHERE day >= :d",
    ...                            params={"d": "2025-01-01"})
    >>> sales = pipeline_lab.read("data/sales_*.csv")
    """
    return read_source(
        source, table=table, query=query, params=params, catalog=StoreSourceCatalog(), **options
    )


def write(
    frame: Any,
    target: str | DataSourceConfig,
    *,
    table: str | None = None,
    mode: WriteMode | None = None,
    key: str | builtins.list[str] | None = None,
    **options: Any,
) -> WriteResult:
    """Write ``frame`` (polars, pandas or Arrow) to ``target`` atomically.

    Parameters
    ----------
    target
        A SQLAlchemy URL, a file path or fsspec URL, or the name of a managed data source.
    table
        For databases: the table, created from the frame's schema when absent.
    mode
        ``append``, ``replace``, ``upsert`` (on ``key``) or ``error`` (if it exists);
        by default files are replaced and tables appended to.

    Examples
    --------
    >>> pipeline_lab.write(report, "warehouse", table="daily_report", mode="upsert", key="day")
    >>> pipeline_lab.write(report, "output/report.parquet")
    """
    return write_target(
        frame,
        target,
        table=table,
        mode=mode,
        key=key,
        catalog=StoreSourceCatalog(),
        **options,
    )
