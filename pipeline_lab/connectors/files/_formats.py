"""File formats: which one a path is, how to read it into a plan, how to write a frame.

Readers take local files (remote ones are downloaded first) and return a polars LazyFrame:
``scan_*`` where polars can scan (CSV, NDJSON, Parquet), an eager read made lazy otherwise
(JSON documents, Excel). Options are ours (``bad_lines``, ``flatten``, ``sheet``, ...) plus
any keyword of the polars function underneath; anything else is an error naming the known
ones. Writers write one local file; the connector stages and publishes it atomically.
"""

from __future__ import annotations

import difflib
import glob
import inspect
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pipeline_lab.connectors.files._bad_lines import (
    CsvDialect,
    guarded,
    recover_csv,
    recover_ndjson,
)
from pipeline_lab.connectors.files._datasets import (
    check_schema,
    constants,
    hive_columns,
    per_file,
    recover,
    with_constants,
)
from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    import polars as pl

FORMATS = ("csv", "ndjson", "json", "parquet", "excel")
SUFFIXES = {
    "csv": (".csv", ".tsv", ".tab", ".csv.gz", ".tsv.gz", ".csv.zst"),
    "ndjson": (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz"),
    "json": (".json",),
    "parquet": (".parquet", ".pq"),
    "excel": (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"),
}
ALL_SUFFIXES = tuple(s for group in SUFFIXES.values() for s in group)
_FORMAT_NAMES = {"tsv": "csv", "jsonl": "ndjson", "xlsx": "excel", "xls": "excel", "pq": "parquet"}
ALIASES = {
    "delimiter": "separator",
    "sep": "separator",
    "header": "has_header",
    "dtypes": "schema_overrides",
    "sheet_name": "sheet",
    "include_file_paths": "source_column",
}


def format_of(path: str, given: str | None = None) -> str:
    """The format ``given`` (``format=``), else the one the file name's suffix says."""
    if given is not None:
        name = _FORMAT_NAMES.get(given.lower(), given.lower())
        if name not in FORMATS:
            raise ConnectorError(
                f"unknown file format {given!r}", hint=f"known: {', '.join(FORMATS)}, tsv, jsonl"
            )
        return name
    lowered = path.lower()
    for name, suffixes in SUFFIXES.items():
        if lowered.endswith(suffixes):
            return name
    raise ConnectorError(
        f"cannot tell the format of {path!r} from its name",
        dataset=path,
        hint=f"give format=... (one of {', '.join(FORMATS)})",
    )


def normalized(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options with their aliases (``delimiter``, ``header``, ...) under one name."""
    result: dict[str, Any] = {}
    for key, value in options.items():
        name = ALIASES.get(key, key)
        if name in result:
            raise ConnectorError(f"option {name!r} is given twice (as {key!r} too)")
        result[name] = value
    return result


def check_options(
    options: Mapping[str, Any], ours: set[str], function: Callable[..., Any], what: str
) -> None:
    """Unknown options are errors that name the known ones (ours, then polars').

    ``glob`` is not an option: the connector lists the files itself (a pattern goes in the path).
    """
    managed = {"source", "file", "self", "glob", "include_file_paths"}
    theirs = set(inspect.signature(function).parameters) - managed
    known = {k for k in ours | theirs if not k.startswith("_")}
    unknown = sorted(set(options) - known)
    if unknown:
        close = [m for u in unknown for m in difflib.get_close_matches(u, known, n=1)]
        hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
        raise ConnectorError(
            f"unknown option{'s' * (len(unknown) > 1)} {', '.join(map(repr, unknown))} for {what}",
            hint=hint + f"known: {', '.join(sorted(known))}",
        )


# -- reading -----------------------------------------------------------------------------------
Reader = Callable[[list[str], dict[str, Any], "str | None", "str | None"], "pl.LazyFrame"]


def read_plan(
    fmt: str,
    files: list[str],
    options: Mapping[str, Any],
    *,
    root: str | None = None,
    source_column: str | None = None,
) -> pl.LazyFrame:
    """A plan reading ``files`` (local, one format) into one frame.

    ``root`` is the folder being read: its ``key=value`` subfolders are partition columns.
    A ``source_column`` holds each row's file path.
    """
    readers: dict[str, Reader] = {
        "csv": _read_csv,
        "ndjson": _read_ndjson,
        "json": _read_json,
        "parquet": _read_parquet,
        "excel": _read_excel,
    }
    return readers[fmt](files, dict(options), root, source_column)


def _literal(path: str) -> str:
    """``path`` as a glob matching only itself, for readers that always glob (``scan_ndjson``).

    The paths here are files already listed (and checked to lie inside the source); polars must
    not expand a ``*`` or ``[`` in a file's name into other files, hidden links among them.
    """
    return glob.escape(path)


def _read_csv(
    files: list[str], options: dict[str, Any], root: str | None, source_column: str | None
) -> pl.LazyFrame:
    import polars as pl

    check_options(options, {"encoding", "bad_lines"}, pl.scan_csv, "CSV files")
    if files[0].lower().endswith((".tsv", ".tab", ".tsv.gz")):
        options.setdefault("separator", "\t")
    dialect = CsvDialect.from_options(options)
    hive = hive_columns(files, root)
    if dialect.native and not hive:
        source: Any = files[0] if len(files) == 1 else files
        plan = pl.scan_csv(source, include_file_paths=source_column, glob=False, **dialect.polars)
    else:
        plan = per_file(files, dialect.scan, hive, source_column)
    broken = check_schema(plan, files, dialect.scan)
    if broken is not None:
        path, exc = next(iter(broken.items()))
        raise ConnectorError(f"{path}: {exc}", dataset=path) from exc
    if dialect.bad_lines == "null":
        return plan

    def scan(path: str, schema: Mapping[str, Any]) -> pl.DataFrame:
        return dialect.scan(path, schema_overrides=schema).collect()

    def reread(path: str, schema: Mapping[str, Any], exc: Exception) -> pl.DataFrame:
        return recover_csv(path, dialect, schema, exc)

    return guarded(plan, lambda exc: recover(files, plan, exc, hive, source_column, scan, reread))


def _read_ndjson(
    files: list[str], options: dict[str, Any], root: str | None, source_column: str | None
) -> pl.LazyFrame:
    import polars as pl

    check_options(options, {"bad_lines", "flatten", "separator"}, pl.scan_ndjson, "NDJSON files")
    policy = options.pop("bad_lines", "error")
    if policy not in ("error", "skip"):
        raise ConnectorError(f"bad_lines={policy!r}: NDJSON files take 'error' or 'skip'")
    flatten, separator = options.pop("flatten", False), options.pop("separator", ".")
    options, decimals = _text_decimals(options)
    hive = hive_columns(files, root)
    if not hive:
        source: Any = _literal(files[0]) if len(files) == 1 else [_literal(f) for f in files]
        plan = pl.scan_ndjson(source, include_file_paths=source_column, **options)
    else:
        plan = per_file(
            files, lambda p: pl.scan_ndjson(_literal(p), **options), hive, source_column
        )

    def reread(path: str, schema: Mapping[str, Any] | None, exc: Exception) -> pl.DataFrame:
        return recover_ndjson(path, schema, exc, policy=policy, options=options)

    broken = check_schema(plan, files, lambda p: pl.scan_ndjson(_literal(p), **options))
    if broken is not None:  # even the types could not be inferred: read line by line
        frames = []
        for path in files:
            if path in broken:
                frame = reread(path, None, broken[path])
            else:
                frame = pl.read_ndjson(_literal(path), **options)
            frames.append(with_constants(frame.lazy(), constants(path, hive, source_column)))
        plan = pl.concat(frames, how="vertical_relaxed")
        return _finish_json(plan, decimals, flatten, separator)

    def scan(path: str, schema: Mapping[str, Any]) -> pl.DataFrame:
        return pl.scan_ndjson(_literal(path), **{**options, "schema": schema}).collect()

    plan = guarded(plan, lambda exc: recover(files, plan, exc, hive, source_column, scan, reread))
    return _finish_json(plan, decimals, flatten, separator)


def _read_json(
    files: list[str], options: dict[str, Any], root: str | None, source_column: str | None
) -> pl.LazyFrame:
    import polars as pl

    check_options(options, {"flatten", "separator", "record_path"}, pl.read_json, "JSON files")
    flatten, separator = options.pop("flatten", False), options.pop("separator", ".")
    record_path = options.pop("record_path", None)
    options, decimals = _text_decimals(options)

    def scan(path: str) -> pl.LazyFrame:
        frame = pl.read_json(path, **options)
        return (records_at(frame, record_path) if record_path else frame).lazy()

    plan = per_file(files, scan, hive_columns(files, root), source_column)
    return _finish_json(plan, decimals, flatten, separator)


def records_at(frame: pl.DataFrame, record_path: str) -> pl.DataFrame:
    """The records under ``record_path`` (``data.items``) of a JSON document read as one row."""
    import polars as pl

    first, *rest = record_path.split(".")
    if first not in frame.columns:
        raise ConnectorError(
            f"record_path {record_path!r}: the document has no key {first!r}",
            hint=f"its top-level keys: {', '.join(frame.columns)}",
        )
    expr = pl.col(first)
    for part in rest:
        expr = expr.struct.field(part)
    records = frame.select(expr.alias("__records"))
    if isinstance(records.schema["__records"], pl.List):
        records = records.explode("__records")
    if not isinstance(records.schema["__records"], pl.Struct):
        raise ConnectorError(
            f"record_path {record_path!r} leads to {records.schema['__records']}, not records"
        )
    return records.unnest("__records")


def _text_decimals(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """JSON holds decimals as strings: read them as text, then cast (polars cannot directly)."""
    import polars as pl

    decimals: dict[str, Any] = {}
    for key in ("schema", "schema_overrides"):
        schema = options.get(key)
        if isinstance(schema, Mapping):
            found = {c: t for c, t in schema.items() if isinstance(t, pl.Decimal)}
            decimals |= found
            text = {c: pl.String if c in found else t for c, t in schema.items()}
            options = {**options, key: text}
    return options, decimals


def _finish_json(
    plan: pl.LazyFrame, decimals: Mapping[str, Any], flatten: bool, separator: str
) -> pl.LazyFrame:
    import polars as pl

    if decimals:
        plan = plan.with_columns(pl.col(c).cast(t) for c, t in decimals.items())
    return flattened(plan, separator) if flatten else plan


def flattened(plan: pl.LazyFrame, separator: str = ".") -> pl.LazyFrame:
    """Nested records as columns: ``{"a": {"b": 1}}`` gives column ``a.b`` (lists stay lists)."""
    import polars as pl

    while True:
        schema = plan.collect_schema()
        structs = [c for c, t in schema.items() if isinstance(t, pl.Struct)]
        if not structs:
            return plan
        plan = plan.unnest(structs, separator=separator)


def _read_parquet(
    files: list[str], options: dict[str, Any], root: str | None, source_column: str | None
) -> pl.LazyFrame:
    import polars as pl

    check_options(options, set(), pl.scan_parquet, "Parquet files")
    if root is not None:
        options.setdefault("hive_partitioning", True)  # a folder is a (maybe partitioned) dataset
    source: Any = files[0] if len(files) == 1 else files
    return pl.scan_parquet(source, include_file_paths=source_column, glob=False, **options)


def _read_excel(
    files: list[str], options: dict[str, Any], root: str | None, source_column: str | None
) -> pl.LazyFrame:
    import polars as pl

    check_options(options, {"sheet", "header_row", "cell_range"}, pl.read_excel, "Excel files")
    arguments = excel_arguments(
        options.pop("sheet", None),
        options.pop("header_row", None),
        options.pop("cell_range", None),
        has_header=options.get("has_header", True),
    )
    read_options = {**arguments.pop("read_options"), **options.pop("read_options", {})}

    def scan(path: str) -> pl.LazyFrame:
        frame = pl.read_excel(path, **arguments, **options, read_options=read_options)
        return frame.lazy()

    return per_file(files, scan, hive_columns(files, root), source_column)


_CELL_RANGE = re.compile(r"^\s*([A-Za-z]{1,3})(\d+)?(?::([A-Za-z]{1,3})(\d+)?)?\s*$")


def excel_arguments(
    sheet: str | int | None,
    header_row: int | None = None,
    cell_range: str | None = None,
    *,
    has_header: bool = True,
) -> dict[str, Any]:
    """``pl.read_excel`` arguments for a sheet (name, or 0-based position), header row, range.

    ``cell_range`` is an Excel range such as ``B3:F200`` (its first row is the header when
    the sheet has one), ``B3:F`` (to the last row) or ``B:F`` (columns only).
    """
    arguments: dict[str, Any] = {"engine": "calamine"}
    if isinstance(sheet, str):
        arguments["sheet_name"] = sheet
    else:
        if sheet is not None and sheet < 0:
            raise ConnectorError(f"sheet={sheet}: a sheet position counts from 0")
        arguments["sheet_id"] = (sheet or 0) + 1  # polars counts sheets from 1
    read_options: dict[str, Any] = {}
    if header_row is not None:
        if cell_range is not None:
            raise ConnectorError(
                "give header_row or cell_range, not both (a range starts at its header row)"
            )
        read_options["header_row"] = header_row
    if cell_range is not None:
        match = _CELL_RANGE.match(cell_range)
        if match is None:
            raise ConnectorError(
                f"cell_range {cell_range!r} is not an Excel range", hint="e.g. B3:F200, B3:F or B:F"
            )
        first_col, first_row, last_col, last_row = match.groups()
        read_options["use_columns"] = f"{first_col.upper()}:{(last_col or first_col).upper()}"
        top = int(first_row) - 1 if first_row else 0
        if has_header:
            read_options["header_row"] = top
        elif top:
            read_options["skip_rows"] = top
        if last_row is not None:
            read_options["n_rows"] = int(last_row) - top - (1 if has_header else 0)
    arguments["read_options"] = read_options
    return arguments
