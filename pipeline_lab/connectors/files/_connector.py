"""Files as a connector: reads and atomic writes of one file, a glob or a dataset folder."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pipeline_lab.connectors import (
    ColumnInfo,
    Connector,
    DataSourceConfig,
    TableInfo,
    WriteMode,
    register_connector,
)
from pipeline_lab.connectors.files._formats import (
    ALL_SUFFIXES,
    SUFFIXES,
    format_of,
    normalized,
    read_plan,
)
from pipeline_lab.connectors.files._locations import TRANSIENT_ERRNOS, Location, hidden, staged
from pipeline_lab.connectors.files._writers import APPENDABLE, write_file, write_partitions
from pipeline_lab.errors import ConnectorError
from pipeline_lab.lineage import DatasetRef, report_dataset

if TYPE_CHECKING:
    import polars as pl

MODES = ("replace", "error", "append")
_SHARED = ("format", "storage_options")  # source options that apply to writes too
_INSPECTED = 500


@register_connector
class FileConnector(Connector):
    """Files and folders on this machine or behind an fsspec URL.

    Read options: ``format``, ``columns``, ``filter`` (a polars expression or SQL text,
    pushed down to Parquet row groups), ``limit``, ``source_column`` (each row's file),
    ``storage_options`` (fsspec), and per format: CSV ``separator`` (``delimiter``),
    ``quote_char``, ``encoding``, ``has_header`` (``header``), ``skip_rows``,
    ``null_values``, ``comment_prefix``, ``bad_lines`` (``error`` | ``skip`` | ``null``);
    JSON/NDJSON ``flatten`` with ``separator``, JSON ``record_path``; Parquet
    ``hive_partitioning``; Excel ``sheet`` (name or 0-based position), ``header_row``,
    ``cell_range`` — plus any keyword of the polars reader underneath.

    Write options: ``format``, ``partition_by``, and any keyword of the polars writer
    (``separator``, ``compression``, ``row_group_size``, ...; Excel ``sheet``).
    """

    kind = "file"
    schemes = ("file", "memory", "s3", "s3a", "gs", "gcs", "az", "abfs", "abfss")
    default_mode = "replace"

    @classmethod
    def at(cls, path: str, **options: Any) -> FileConnector:
        """The connector of one path, glob or URL (``options`` are its defaults)."""
        return cls(DataSourceConfig(kind="file", url=path, options=options))

    @cached_property
    def location(self) -> Location:
        """Where the source is; a managed source's matches must stay inside its folder."""
        return self._located(self.config.options.get("storage_options"))

    def _located(self, storage_options: Any) -> Location:
        location = Location.parse(self.config.url, storage_options)
        return location.within() if self.config.name else location

    def _target(self, table: str | None, storage_options: Any = None) -> Location:
        """The source itself, or ``table``: a path inside the source's folder, and only there.

        ``table`` is resolved (``..``, symbolic links) before it is used: one that leads
        outside the source's folder, an absolute path elsewhere or a URL is refused.
        """
        location = self.location
        if storage_options:  # given to this read or write: they open another file system
            known = self.config.options.get("storage_options") or {}
            location = self._located({**known, **storage_options})
        if table is None:
            return location
        if "://" in table:
            raise ConnectorError(
                f"table={table!r} is a URL; table= names a file or folder inside the source",
                dataset=self.describe(),
                hint=f"read the URL itself: read({table!r})",
            )
        target = location.within(location.root).join(table)
        real = target.escapes()
        if real is not None:
            source = f"data source '{self.config.name}'" if self.config.name else "the source"
            raise ConnectorError(
                f"table={table!r} leads to {target.display(real)}, outside the folder of "
                f"{source} ({location.display(target.root or '')})",
                dataset=self.describe(),
                hint="name a file or folder inside it (e.g. table='orders.csv'); to use a file "
                "elsewhere, pass its own path, or add a source for its folder",
            )
        return target

    def _defaults(self, writing: bool) -> dict[str, Any]:
        options = dict(self.config.options)
        written = options.pop("write_options", None) or {}
        read = options.pop("read_options", None) or {}
        if writing:
            return {k: v for k, v in options.items() if k in _SHARED} | dict(written)
        return options | dict(read)

    # -- the connector contract ------------------------------------------------------------
    def dataset(self, *, table: str | None = None, query: str | None = None) -> DatasetRef:
        return self._target(table).dataset()

    def scan(self, *, table: str | None = None, **options: Any) -> pl.LazyFrame:
        """A lazy read (``scan_*`` where polars can): the file is read when it is collected.

        The dataset is reported to the active run now, as an input of the running node.
        """
        dataset = self.dataset(table=table)
        try:
            plan = self._plan(table, options)
            schema = plan.collect_schema()
        except Exception as exc:
            raise self._wrap(exc, "read", dataset) from exc
        fields = {name: str(dtype) for name, dtype in schema.items()}
        facets = {**dataset.facets, "schema": fields}
        report_dataset(DatasetRef(dataset.namespace, dataset.name, facets), "input")
        return plan

    def _read(
        self,
        *,
        table: str | None,
        query: str | None,
        params: Mapping[str, Any] | None,
        **options: Any,
    ) -> pl.DataFrame:
        if query is not None or params:
            raise ConnectorError(
                "files take no query or params",
                dataset=self.describe(),
                hint="read the file, then filter it (filter=..., or a filter or sql component)",
            )
        return self._plan(table, options).collect()

    def _write(
        self,
        frame: pl.DataFrame,
        *,
        table: str | None,
        mode: WriteMode,
        key: str | list[str] | None,
        **options: Any,
    ) -> int:
        options = normalized({**self._defaults(writing=True), **options})
        target = self._target(table, options.pop("storage_options", None))
        if key is not None or mode not in MODES:
            raise ConnectorError(
                f"files cannot be written with mode={mode!r}"
                + (f" and key={key!r}" if key is not None else ""),
                dataset=target.url,
                hint="use mode='replace', 'append' (CSV, NDJSON, partitioned datasets) or "
                "'error'; upserts on a key need a database",
            )
        if target.is_glob and any(c in "*?" for c in target.path):
            raise ConnectorError(
                "cannot write to a glob", dataset=target.url, hint="name one file or folder"
            )
        keys = options.pop("partition_by", None)
        keys = [keys] if isinstance(keys, str) else keys
        given = options.pop("format", None)
        fmt = format_of(
            target.path, given or ("parquet" if keys and "." not in target.name else None)
        )
        exists = target.exists()
        if exists and mode == "error":
            raise ConnectorError(
                f"{target.url} already exists (mode='error')",
                dataset=target.url,
                hint="mode='replace' overwrites it; mode='append' adds to it",
            )
        if keys:
            if exists and not target.is_dir():
                raise ConnectorError(
                    f"{target.url} is a file; a partitioned dataset is a folder",
                    dataset=target.url,
                    hint="write the dataset to a folder path (without a suffix)",
                )
            with staged(target, folder=True, merge=exists and mode == "append") as folder:
                write_partitions(frame, fmt, folder, list(keys), options)
            return frame.height
        if exists and target.is_dir():
            raise ConnectorError(
                f"{target.url} is a folder",
                dataset=target.url,
                hint="write to a file path, or pass partition_by=[...] to write a dataset there",
            )
        append = exists and mode == "append"
        if append and fmt not in APPENDABLE:
            raise ConnectorError(
                f"cannot append to an existing {fmt} file",
                dataset=target.url,
                hint="pass mode='replace' to overwrite it, or write a partitioned dataset "
                "(partition_by=[...]): appending adds files to it",
            )
        with staged(target, seed=append) as path:
            write_file(frame, fmt, path, options, append=append)
        return frame.height

    def _ping(self) -> None:
        target = self.location
        if target.is_glob:
            target.expand()
        elif not target.exists():
            raise target.missing(f"no such file or folder: {target.url}")
        elif target.is_local and not os.access(target.path, os.R_OK):
            raise ConnectorError(f"{target.url} is not readable", dataset=target.url)

    def _inspect(self) -> list[TableInfo]:
        target = self.location
        if target.is_glob or not target.is_dir():
            return [self._describe_file(target, p, target.base()) for p in target.expand()]
        tables = []
        for name in (target.listdir(target.path) or [])[:_INSPECTED]:
            if hidden(name):
                continue
            child = target.join(name)
            if child.escapes() is not None:  # a link out of the source's folder: not listed
                continue
            if child.is_dir():
                tables.append(self._describe_dataset(child, target.path))
            elif name.lower().endswith(ALL_SUFFIXES):
                tables.append(self._describe_file(child, child.path, target.path))
        return tables

    def is_transient(self, exc: BaseException) -> bool:
        if super().is_transient(exc):
            return True
        return isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS

    # -- reading ---------------------------------------------------------------------------
    def _plan(self, table: str | None, options: Mapping[str, Any]) -> pl.LazyFrame:
        options = normalized({**self._defaults(writing=False), **options})
        target = self._target(table, options.pop("storage_options", None))
        given = options.pop("format", None)
        shape = {k: options.pop(k, None) for k in ("columns", "filter", "limit")}
        source_column = options.pop("source_column", None)
        fmt = format_of("", given) if given else None
        files = target.expand(SUFFIXES[fmt] if fmt else ALL_SUFFIXES)
        fmt = fmt or _one_format(target, files)
        root = target.path if not target.is_glob and target.is_dir() else None
        if target.is_local:
            return _shaped(
                read_plan(fmt, files, options, root=root, source_column=source_column), **shape
            )
        with tempfile.TemporaryDirectory(prefix="pipeline-lab-") as scratch:
            base = root or target.base()
            local = {os.path.join(scratch, os.path.relpath(f, base)): f for f in files}
            for path, remote in local.items():
                os.makedirs(os.path.dirname(path), exist_ok=True)
                target.fs.get(remote, path)
            urls = {path: target.display(remote) for path, remote in local.items()}
            try:
                plan = read_plan(
                    fmt,
                    list(local),
                    options,
                    root=scratch if root else None,
                    source_column=source_column,
                )
                frame = _shaped(plan, **shape).collect()
            except ConnectorError as exc:  # it names our temporary copy: name the URL instead
                raise _renamed(exc, urls) from exc.__cause__
        if source_column and source_column in frame.columns:
            import polars as pl

            frame = frame.with_columns(pl.col(source_column).replace_strict(urls))
        return frame.lazy()

    # -- inspecting ------------------------------------------------------------------------
    def _describe_file(self, location: Location, path: str, base: str) -> TableInfo:
        name = os.path.relpath(path, base) if location.is_local else path[len(base) :].lstrip("/")
        fmt = format_of(path)
        extra: dict[str, Any] = {"format": fmt, "path": location.display(path)}
        columns: tuple[ColumnInfo, ...] = ()
        rows = None
        if location.is_local:
            stat = os.stat(path)
            extra["bytes"] = stat.st_size
            extra["modified"] = datetime.fromtimestamp(stat.st_mtime, timezone.utc).isoformat()
            if fmt == "excel":
                import fastexcel

                extra["sheets"] = list(fastexcel.read_excel(path).sheet_names)
            if fmt != "json":  # a JSON document is read whole: not cheap
                schema, rows = _schema_and_rows(fmt, [path], None)
                columns = _column_infos(schema)
        else:
            extra["bytes"] = location.fs.size(path)
        return TableInfo(name, columns, rows, extra)

    def _describe_dataset(self, location: Location, base: str) -> TableInfo:
        extra: dict[str, Any] = {"format": "dataset", "path": location.url}
        name = os.path.relpath(location.path, base) if location.is_local else location.name
        try:
            files = location.expand(ALL_SUFFIXES)
        except ConnectorError:
            return TableInfo(name, (), None, {**extra, "files": 0})
        fmt = _one_format(location, files)
        extra |= {"format": fmt, "files": len(files)}
        if not location.is_local:
            return TableInfo(name, (), None, extra)
        schema, rows = _schema_and_rows(fmt, files, location.path)
        return TableInfo(name, _column_infos(schema), rows, extra)


def _schema_and_rows(fmt: str, files: list[str], root: str | None) -> tuple[Any, int | None]:
    """Columns and types; the row count only where it is cheap (Parquet metadata)."""
    import polars as pl

    plan = read_plan(fmt, files, {}, root=root)
    rows = plan.select(pl.len()).collect().item() if fmt == "parquet" else None
    return plan.collect_schema(), rows


def _renamed(error: ConnectorError, names: Mapping[str, str]) -> ConnectorError:
    def rename(text: str | None) -> str | None:
        for local, url in (names or {}).items():
            text = text.replace(local, url) if text else text
        return text

    return ConnectorError(
        rename(error.message) or "", dataset=rename(error.dataset), hint=rename(error.hint)
    )


def _column_infos(schema: Mapping[str, Any]) -> tuple[ColumnInfo, ...]:
    return tuple(ColumnInfo(name, str(dtype)) for name, dtype in schema.items())


def _one_format(location: Location, files: list[str]) -> str:
    found: dict[str, int] = {}
    for path in files:
        fmt = format_of(location.display(path))
        found[fmt] = found.get(fmt, 0) + 1
    if len(found) > 1:
        counts = ", ".join(f"{n} {fmt}" for fmt, n in found.items())
        raise ConnectorError(
            f"{location.url} holds files of several formats ({counts})",
            dataset=location.url,
            hint="give format=... or a glob that matches one kind (folder/*.parquet)",
        )
    return next(iter(found))


def _checked_filter(text: str) -> str:
    """A ``filter=`` condition as the SQL policy passed it: polars plans a subquery's scan (a
    file read, a URL fetched) while it parses, so nothing unchecked may reach it."""
    from pipeline_lab.sql_policy import RefusedSql, check_sql_expression

    try:
        return check_sql_expression(text).text
    except RefusedSql as exc:
        raise ConnectorError(
            f"filter {text!r} {'is not a valid SQL condition: ' if exc.invalid else ''}"
            f"{exc.reason}",
            hint=exc.hint or 'a SQL condition over the file\'s columns, e.g. "amount > 0"',
        ) from None


def _shaped(
    plan: pl.LazyFrame, *, columns: Any = None, filter: Any = None, limit: int | None = None
) -> pl.LazyFrame:
    import polars as pl

    if filter is not None:
        plan = plan.filter(
            pl.sql_expr(_checked_filter(filter)) if isinstance(filter, str) else filter
        )
    if columns is not None:
        names = plan.collect_schema().names()
        columns = [
            names[c] if isinstance(c, int) else c
            for c in ([columns] if isinstance(columns, str | int) else columns)
        ]
        missing = [c for c in columns if c not in names]
        if missing:
            raise ConnectorError(
                f"no column {', '.join(map(repr, missing))} in the file",
                hint=f"its columns: {', '.join(names)}",
            )
        plan = plan.select(columns)
    return plan if limit is None else plan.head(limit)
