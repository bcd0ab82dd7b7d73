"""The connector contract.

Public, final methods (:meth:`Connector.read`, :meth:`Connector.write`, ``test``, ``inspect``,
``preview``) do the bookkeeping every connector shares: they report the dataset to the active
run (lineage), time the work, and wrap a foreign error once, naming the source without its
secrets and marking what a retry may fix. Each connector implements the small steps:
``_read``, ``_write``, ``dataset``, ``_ping``, ``_inspect``.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pipeline_lab.connectors._config import DataSourceConfig
from pipeline_lab.connectors._secrets import resolve_secret
from pipeline_lab.errors import ConnectorError, PipelineLabError, TransientConnectorError
from pipeline_lab.lineage import DatasetRef, report_dataset
from pipeline_lab.redact import safe_url, scrub

if TYPE_CHECKING:
    import polars as pl

WriteMode = Literal["append", "replace", "upsert", "error"]


@dataclass(frozen=True)
class WriteResult:
    """What a write did: rows written, where, how."""

    dataset: DatasetRef
    rows: int
    mode: str
    duration_s: float = 0.0


@dataclass(frozen=True)
class ConnectionTest:
    """The outcome of a real round trip to a source."""

    ok: bool
    latency_s: float
    message: str


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    nullable: bool = True


@dataclass(frozen=True)
class TableInfo:
    """A table (or file, or endpoint) a source holds, with its columns and a row estimate."""

    name: str
    columns: tuple[ColumnInfo, ...] = ()
    rows: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class Connector(ABC):
    """A data source of one kind (``kind`` is its registry name)."""

    kind: ClassVar[str]
    schemes: ClassVar[tuple[str, ...]] = ()
    """The URL schemes (before any ``+driver``) this connector reads, e.g. ``("s3", "gs")``."""
    default_mode: ClassVar[WriteMode] = "append"
    """The write mode when the caller gives none (files replace, tables append)."""

    def __init__(self, config: DataSourceConfig) -> None:
        self.config = config

    # -- shared bookkeeping (final) --------------------------------------------------------
    def read(
        self,
        *,
        table: str | None = None,
        query: str | None = None,
        params: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> pl.DataFrame:
        """Read a table (or file, or endpoint) or a query's result into a polars frame."""
        dataset = self.dataset(table=table, query=query)
        try:
            frame = self._read(table=table, query=query, params=params, **options)
        except Exception as exc:
            raise self._wrap(exc, "read", dataset) from exc
        report_dataset(_with_schema(dataset, frame), "input")
        return frame

    def write(
        self,
        frame: Any,
        *,
        table: str | None = None,
        mode: WriteMode | None = None,
        key: str | list[str] | None = None,
        **options: Any,
    ) -> WriteResult:
        """Write ``frame`` (polars, pandas or Arrow) atomically: all of it, or nothing."""
        from pipeline_lab.frames import to_polars

        frame = to_polars(frame)
        mode = mode or self.default_mode
        dataset = self.dataset(table=table)
        started = time.perf_counter()
        try:
            rows = self._write(frame, table=table, mode=mode, key=key, **options)
        except Exception as exc:
            raise self._wrap(exc, "write", dataset) from exc
        report_dataset(_with_schema(dataset, frame), "output")
        return WriteResult(dataset, rows, mode, time.perf_counter() - started)

    def test(self) -> ConnectionTest:
        """A real round trip (a query, a request, a listing), with its latency."""
        started = time.perf_counter()
        try:
            self._ping()
        except Exception as exc:
            wrapped = self._wrap(exc, "connect to", None)
            return ConnectionTest(False, time.perf_counter() - started, str(wrapped))
        latency = time.perf_counter() - started
        return ConnectionTest(
            True, latency, f"connected to {self.describe()} in {latency * 1e3:.0f} ms"
        )

    def inspect(self) -> list[TableInfo]:
        """Tables (or files), their columns and types, and row estimates."""
        try:
            return self._inspect()
        except Exception as exc:
            raise self._wrap(exc, "inspect", None) from exc

    def preview(
        self, *, table: str | None = None, query: str | None = None, limit: int = 20
    ) -> pl.DataFrame:
        return self.read(table=table, query=query, limit=limit)

    def describe(self) -> str:
        """The source as it may be displayed: no password, no token."""
        return safe_url(self.config.url)

    def secret(self, key: str) -> str | None:
        """The secret ``key`` of this source, resolved now (never keep it longer than needed)."""
        ref = self.config.secrets.get(key)
        return resolve_secret(ref, source=self.describe()) if ref else None

    def scrub(self, text: str, *, limit: int | None = None) -> str:
        """``text`` (a driver's or a server's words, whole) without this source's secrets,
        cut to ``limit`` characters only once they are masked."""
        return scrub(text, self.secret_values(), limit=limit)

    def secret_values(self) -> list[str | None]:
        """The values of this source's secrets that resolve now (to mask them, never to show)."""
        values = []
        for key in self.config.secrets:
            try:
                values.append(self.secret(key))
            except PipelineLabError:  # unresolvable, so it cannot be in the text either
                continue
        return values

    # -- what each connector provides ------------------------------------------------------
    @abstractmethod
    def dataset(self, *, table: str | None = None, query: str | None = None) -> DatasetRef:
        """The OpenLineage identity of what ``read``/``write`` touches."""

    @abstractmethod
    def _read(
        self,
        *,
        table: str | None,
        query: str | None,
        params: Mapping[str, Any] | None,
        **options: Any,
    ) -> pl.DataFrame: ...

    def _write(
        self,
        frame: pl.DataFrame,
        *,
        table: str | None,
        mode: WriteMode,
        key: str | list[str] | None,
        **options: Any,
    ) -> int:
        raise ConnectorError(f"{self.kind} sources are read-only", dataset=self.describe())

    @abstractmethod
    def _ping(self) -> None: ...

    def _inspect(self) -> list[TableInfo]:
        return []

    def is_transient(self, exc: BaseException) -> bool:
        """Whether a retry may fix ``exc`` (refused or dropped connections, timeouts, 429/5xx)."""
        return isinstance(exc, (ConnectionError, TimeoutError))

    def _wrap(self, exc: Exception, action: str, dataset: DatasetRef | None) -> PipelineLabError:
        if isinstance(exc, PipelineLabError):
            return exc
        kind = TransientConnectorError if self.is_transient(exc) else ConnectorError
        message = self.scrub(f"{type(exc).__name__}: {exc}")
        where = str(dataset) if dataset is not None else self.describe()
        return kind(f"cannot {action} {where}: {message}", dataset=self.describe())


def _with_schema(dataset: DatasetRef, frame: Any) -> DatasetRef:
    schema = getattr(frame, "schema", None)
    if schema is None:
        return dataset
    try:
        fields = {name: str(dtype) for name, dtype in schema.items()}
    except Exception:  # a frame whose schema cannot be listed cheaply: no facet
        return dataset
    return DatasetRef(dataset.namespace, dataset.name, {**dataset.facets, "schema": fields})
