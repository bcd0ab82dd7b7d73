"""File sources and sinks: read_csv, read_json, read_parquet, read_excel, write_csv, write_*.

They go through :class:`~pipeline_lab.connectors.files.FileConnector`, so a component node,
a managed source and ``pipeline_lab.connectors.read(path, **options)`` read alike, report
the same datasets to the run (lineage), and write atomically. Sources scan lazily where
polars can (CSV, NDJSON, Parquet), so a downstream filter or column selection is pushed
into the read. A sink's plan is collected by the engine and written in :meth:`finish`,
which returns one summary row (path, rows, mode). Relative paths resolve against the
current working directory: the notebook's folder in a headless run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, ValidationError, field_validator

from pipeline_lab.components import component
from pipeline_lab.components._base import (
    ColumnLineage,
    ColumnList,
    Component,
    ComponentParams,
    NodeInput,
    code_list,
)
from pipeline_lab.components._conversion import column_type, problem
from pipeline_lab.components.library.columns import require_input

if TYPE_CHECKING:
    import polars as pl

    from pipeline_lab.connectors.files import FileConnector

Schemas = Mapping[str, Mapping[str, Any]]
_NATIVE_ENCODINGS = ("utf8", "utf-8", "utf8-lossy")
OptionalColumns = Annotated[
    list[str] | None, BeforeValidator(lambda v: [v] if isinstance(v, str) else v)
]


def _connector(path: str) -> FileConnector:
    from pipeline_lab.connectors.files import FileConnector

    return FileConnector.at(path)


def _call(function: str, first: str, options: Mapping[str, Any]) -> str:
    """``function(first, key=value, ...)`` with ``first`` as code and values as literals."""
    args = [first, *(f"{k}={_code(v)}" for k, v in options.items())]
    return f"{function}({', '.join(args)})"


def _code(value: Any) -> str:
    """A value as Python source; polars types as ``pl.Int64``, ``pl.Decimal(...)``."""
    import polars as pl

    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_code(v)}" for k, v in value.items()) + "}"
    if isinstance(value, pl.DataType) or (
        isinstance(value, type) and issubclass(value, pl.DataType)
    ):
        return f"pl.{value!r}"
    return repr(value)


def _plain_local(path: str) -> bool:
    """A local file or glob that polars' own readers take as they are."""
    return "://" not in path and not os.path.isdir(path)


# -- sources -----------------------------------------------------------------------------------
class _ReadParams(ComponentParams):
    path: str = Field(
        description="a file, a glob (data/*.csv), a folder or an fsspec URL (memory://, "
        "s3://...); relative paths start in the notebook's folder",
        min_length=1,
    )
    columns: OptionalColumns = Field(None, min_length=1, description="read only these columns")
    source_column: str | None = Field(None, description="add a column with each row's file")


class _TypedParams(_ReadParams):
    schema_overrides: dict[str, str] | None = Field(
        None, description="column types, e.g. {amount: 'decimal(12,2)', day: date}"
    )
    infer_schema_length: int | None = Field(
        100, ge=0, description="rows used to infer types (null: the whole file)"
    )

    @field_validator("schema_overrides")
    @classmethod
    def _known_types(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for column, spec in (value or {}).items():
            try:
                column_type(spec)
            except (ValidationError, ValueError) as exc:
                reason = problem(exc) if isinstance(exc, ValidationError) else str(exc)
                raise ValueError(f"column {column!r}: {reason}") from None
        return value


class _FileSource(Component[Any]):
    """A source that reads ``path`` through the file connector, lazily where it can."""

    category = "source"
    format: ClassVar[str]
    polars_names: ClassVar[dict[str, str]] = {}  # our option -> polars keyword, where they differ

    def options(self) -> dict[str, Any]:
        """The connector options: the parameters that differ from their defaults."""
        options = self.params.model_dump(exclude_defaults=True, exclude={"path"})
        if "schema_overrides" in options:
            options["schema_overrides"] = {
                c: column_type(s).dtype() for c, s in options["schema_overrides"].items()
            }
        return options

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        return _connector(self.params.path).scan(format=self.format, **self.options())

    def columns(self, input_schemas: Schemas) -> list[ColumnLineage]:
        # Read straight from the file: no input node to trace them to.
        schema = self.apply({}).collect_schema()
        return [ColumnLineage(c, (), "direct") for c in schema.names()]

    def polars_code(self) -> str | None:
        """The polars code of this read, or None when only the connector does it."""
        return None

    def to_code(self) -> str:
        code = self.polars_code()
        if code is not None:
            columns = self.params.columns
            return code + (f".select({code_list(columns)})" if columns else "")
        options = {"format": self.format, **self.options()}
        return (
            "from pipeline_lab.connectors import read\n"
            + _call("read", repr(self.params.path), options)
            + ".lazy()"
        )

    def _polars_options(self, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        options = {k: v for k, v in self.options().items() if k not in ("columns", *skip)}
        if "source_column" in options:
            options["include_file_paths"] = options.pop("source_column")
        return {self.polars_names.get(k, k): v for k, v in options.items()}


class ReadCsvParams(_TypedParams):
    separator: str = Field(",", min_length=1, max_length=1, description="the field separator")
    quote_char: str | None = Field('"', max_length=1, description="null: no quoting")
    encoding: str = Field("utf8", description="utf8, utf8-lossy, latin-1, cp1252, utf-16, ...")
    has_header: bool = Field(True, description="the first row names the columns")
    skip_rows: int = Field(0, ge=0, description="lines to skip before the header")
    null_values: OptionalColumns = Field(None, description="values that mean null, e.g. NA")
    comment_prefix: str | None = Field(None, description="lines starting with it are skipped")
    try_parse_dates: bool = Field(False, description="parse date-like text as dates")
    decimal_comma: bool = Field(False, description="numbers use a decimal comma")
    bad_lines: Literal["error", "skip", "null"] = Field(
        "error",
        description="a malformed line: error (naming file and line), skip it, "
        "or null (bad values become nulls)",
    )


@component
class ReadCsv(_FileSource):
    """Read CSV/TSV files (one, a glob, or a folder) into a frame."""

    name = "read_csv"
    description = "Read CSV/TSV files (delimiter, encoding, header, bad-line policy)"
    Params = ReadCsvParams
    format = "csv"

    def polars_code(self) -> str | None:
        p = self.params
        native = p.encoding.lower() in _NATIVE_ENCODINGS
        if p.bad_lines == "skip" or not native or not _plain_local(p.path):
            return None
        options = self._polars_options(skip=("bad_lines",))
        if "encoding" in options:
            options["encoding"] = "utf8-lossy" if "lossy" in p.encoding.lower() else "utf8"
        if p.bad_lines == "null":
            options |= {"ignore_errors": True, "truncate_ragged_lines": True}
        return _call("pl.scan_csv", repr(p.path), options)


class ReadJsonParams(_TypedParams):
    ndjson: bool | None = Field(
        None, description="one record per line; null: from the name (.ndjson, .jsonl)"
    )
    flatten: bool = Field(False, description="nested records become columns (a.b)")
    separator: str = Field(".", min_length=1, description="joins nested names when flattening")
    record_path: str | None = Field(
        None, description="JSON documents: where the records are, e.g. data.items"
    )
    bad_lines: Literal["error", "skip"] = Field(
        "error", description="NDJSON: a line that is not a JSON record: error, or skip it"
    )


@component
class ReadJson(_FileSource):
    """Read JSON documents or NDJSON (JSON lines) files, flattening nested records on request."""

    name = "read_json"
    description = "Read JSON or NDJSON files (nested records flattened on request)"
    Params = ReadJsonParams

    @property
    def format(self) -> str:  # type: ignore[override]
        p = self.params
        if p.ndjson is None:
            return "ndjson" if p.path.lower().endswith((".ndjson", ".jsonl")) else "json"
        return "ndjson" if p.ndjson else "json"

    def options(self) -> dict[str, Any]:
        options = super().options()
        options.pop("ndjson", None)
        if not self.params.flatten:
            options.pop("separator", None)
        return options

    def polars_code(self) -> str | None:
        p = self.params
        if p.flatten or p.bad_lines == "skip" or not _plain_local(p.path):
            return None
        if self.format == "ndjson":
            return _call("pl.scan_ndjson", repr(p.path), self._polars_options(skip=("bad_lines",)))
        if p.record_path or p.source_column or any(c in p.path for c in "*?["):
            return None
        return (
            _call("pl.read_json", repr(p.path), self._polars_options(skip=("bad_lines",)))
            + ".lazy()"
        )


class ReadParquetParams(_ReadParams):
    hive_partitioning: bool | None = Field(
        None, description="key=value folders are columns (null: for folders)"
    )


@component
class ReadParquet(_FileSource):
    """Read Parquet files or a (hive-partitioned) dataset folder, pruning columns and row groups."""

    name = "read_parquet"
    description = "Read Parquet files or a partitioned dataset (column/row-group pruning)"
    Params = ReadParquetParams
    format = "parquet"

    def polars_code(self) -> str | None:
        if "://" in self.params.path:
            return None
        return _call("pl.scan_parquet", repr(self.params.path), self._polars_options())


class ReadExcelParams(_TypedParams):
    sheet: str | int = Field(0, description="a sheet name, or its position (0: the first)")
    has_header: bool = Field(True, description="the first row (of the range) names the columns")
    header_row: int | None = Field(None, ge=0, description="the header's row (0: the first)")
    cell_range: str | None = Field(None, description="an Excel range, e.g. B3:F200, B3:F or B:F")


@component
class ReadExcel(_FileSource):
    """Read one sheet of Excel workbooks (by name or position, header row, cell range)."""

    name = "read_excel"
    description = "Read an Excel sheet (by name or index, header row, cell range)"
    Params = ReadExcelParams
    format = "excel"

    def polars_code(self) -> str | None:
        from pipeline_lab.connectors.files import excel_arguments

        p = self.params
        if not _plain_local(p.path) or p.source_column or any(c in p.path for c in "*?["):
            return None
        arguments = excel_arguments(p.sheet, p.header_row, p.cell_range, has_header=p.has_header)
        if not arguments["read_options"]:
            del arguments["read_options"]
        options = self._polars_options(skip=("sheet", "header_row", "cell_range"))
        return _call("pl.read_excel", repr(p.path), {**arguments, **options}) + ".lazy()"


# -- sinks -------------------------------------------------------------------------------------
class _WriteParams(ComponentParams):
    input: str = NodeInput()
    path: str = Field(
        min_length=1,
        description="the file (or, with partition_by, the folder) to write; relative paths "
        "start in the notebook's folder",
    )
    mode: Literal["replace", "error", "append"] = Field(
        "replace",
        description="replace it, fail if it exists, or append (CSV, NDJSON, partitioned "
        "datasets; creates other files that do not exist)",
    )
    partition_by: ColumnList | None = Field(
        None, min_length=1, description="write a hive dataset: one folder per value (key=value)"
    )


class _FileSink(Component[Any]):
    """Writes its input's collected frame atomically; its output is one summary row."""

    category = "sink"
    polars_writer: ClassVar[str]

    @property
    def format(self) -> str:
        return self.polars_writer.removeprefix("write_")

    def options(self) -> dict[str, Any]:
        return self.params.model_dump(exclude_defaults=True, exclude={"input", "path", "mode"})

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        frame = inputs[self.params.input]
        require_input(self, frame, self.params.partition_by or (), "partition_by")
        return frame

    def finish(self, frame: pl.DataFrame) -> pl.DataFrame:
        import polars as pl

        connector = _connector(self.params.path)
        result = connector.write(frame, mode=self.params.mode, format=self.format, **self.options())
        return pl.DataFrame(
            {"path": [connector.location.url], "rows": [result.rows], "mode": [result.mode]},
            schema={"path": pl.String, "rows": pl.Int64, "mode": pl.String},
        )

    def to_code(self) -> str:
        p = self.params
        options = self.options()
        if (
            p.mode == "replace"
            and "://" not in p.path
            and (not p.partition_by or self.format == "parquet")
        ):
            return f"{p.input}.collect()." + _call(self.polars_writer, repr(p.path), options)
        options = {"target": p.path, "mode": p.mode, "format": self.format, **options}
        write = _call("write", f"{p.input}.collect()", options)
        return f"from pipeline_lab.connectors import write\n{write}"


class WriteCsvParams(_WriteParams):
    separator: str = Field(",", min_length=1, max_length=1, description="the field separator")
    include_header: bool = Field(True, description="write the column names first")
    null_value: str | None = Field(None, description="how nulls are written (default: empty)")
    quote_style: Literal["necessary", "always", "non_numeric", "never"] | None = Field(
        None, description="when to quote fields (default: necessary)"
    )
    date_format: str | None = Field(None, description="e.g. %d/%m/%Y (default: ISO 8601)")
    datetime_format: str | None = Field(None, description="default: ISO 8601")


@component
class WriteCsv(_FileSink):
    """Write the input to a CSV file (or a partitioned folder of them), atomically."""

    name = "write_csv"
    description = "Write a CSV file atomically (replace, append or error if it exists)"
    Params = WriteCsvParams
    polars_writer = "write_csv"


class WriteParquetParams(_WriteParams):
    compression: Literal["zstd", "snappy", "gzip", "lz4", "brotli", "uncompressed"] = "zstd"
    compression_level: int | None = Field(None, description="the codec's level")
    row_group_size: int | None = Field(None, ge=1, description="rows per row group")
    statistics: bool = Field(True, description="write min/max statistics (row-group pruning)")


@component
class WriteParquet(_FileSink):
    """Write the input to a Parquet file or a hive-partitioned dataset folder, atomically."""

    name = "write_parquet"
    description = "Write a Parquet file or a partitioned dataset, atomically"
    Params = WriteParquetParams
    polars_writer = "write_parquet"


class WriteJsonParams(_WriteParams):
    ndjson: bool | None = Field(
        None, description="one record per line; null: from the name (.ndjson, .jsonl)"
    )


@component
class WriteJson(_FileSink):
    """Write the input as a JSON array of records, or as NDJSON, atomically."""

    name = "write_json"
    description = "Write JSON (an array of records) or NDJSON, atomically"
    Params = WriteJsonParams

    @property
    def polars_writer(self) -> str:  # type: ignore[override]
        p = self.params
        lines = p.ndjson if p.ndjson is not None else p.path.lower().endswith((".ndjson", ".jsonl"))
        return "write_ndjson" if lines else "write_json"

    def options(self) -> dict[str, Any]:
        options = super().options()
        options.pop("ndjson", None)
        return options
