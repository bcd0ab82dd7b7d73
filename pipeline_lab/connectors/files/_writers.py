"""Writing a frame to one local file, or to a folder of hive partitions.

The connector stages the file (or folder) and publishes it atomically; these functions
only write the bytes. Options are any keyword of the polars writer (Excel: ``sheet``).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pipeline_lab.connectors.files._datasets import HIVE_NULL
from pipeline_lab.connectors.files._formats import check_options
from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    import polars as pl

APPENDABLE = ("csv", "ndjson")


def hive_value(value: Any) -> str:
    """A partition value as a folder name segment (polars and Spark read it back)."""
    if value is None:
        return HIVE_NULL
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return quote(text, safe="")


def write_file(
    frame: pl.DataFrame, fmt: str, path: str, options: Mapping[str, Any], *, append: bool
) -> None:
    """Write ``frame`` to the local ``path`` (after what it holds, when ``append``)."""
    import polars as pl

    options = dict(options)
    if fmt == "csv":
        check_options(options, set(), pl.DataFrame.write_csv, "writing CSV files")
        if path.lower().endswith((".tsv", ".tab")):
            options.setdefault("separator", "\t")
        if "has_header" in options:
            options["include_header"] = options.pop("has_header")
        if append and os.path.getsize(path):
            _check_header(frame, path, options)
            with open(path, "ab") as handle:
                _end_line(path, handle)
                frame.write_csv(handle, **{**options, "include_header": False})
            return
        frame.write_csv(path, **options)
    elif fmt == "ndjson":
        check_options(options, set(), pl.DataFrame.write_ndjson, "writing NDJSON files")
        with open(path, "ab" if append else "wb") as handle:
            _end_line(path, handle)
            frame.write_ndjson(handle, **options)
    elif fmt == "json":
        check_options(options, set(), pl.DataFrame.write_json, "writing JSON files")
        frame.write_json(path)
    elif fmt == "parquet":
        check_options(options, set(), pl.DataFrame.write_parquet, "writing Parquet files")
        frame.write_parquet(path, **options)
    else:
        check_options(options, {"sheet"}, pl.DataFrame.write_excel, "writing Excel files")
        sheet = options.pop("sheet", None) or options.pop("worksheet", None)
        # Excel has no time zones: aware datetimes are written as UTC wall-clock times.
        aware = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime) and t.time_zone]
        if aware:
            frame = frame.with_columns(
                pl.col(aware).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            )
        frame.write_excel(path, worksheet=sheet, **options)


def _check_header(frame: pl.DataFrame, path: str, options: Mapping[str, Any]) -> None:
    if options.get("include_header") is False:
        return
    separator = options.get("separator", ",")
    expected = frame.head(0).write_csv(separator=separator, include_header=True).rstrip("\r\n")
    with open(path, encoding="utf-8", errors="replace") as handle:
        existing = handle.readline().rstrip("\r\n").lstrip("\ufeff")
    if existing != expected:
        raise ConnectorError(
            "cannot append: the frame's columns differ from the file's header",
            dataset=path,
            hint=f"file: {existing}\n  frame: {expected}\n  select the file's columns in "
            "its order, or write with mode='replace'",
        )


def _end_line(path: str, handle: Any) -> None:
    """Appending after a last line without its newline would glue two rows together."""
    if os.path.getsize(path):
        with open(path, "rb") as existing:
            existing.seek(-1, os.SEEK_END)
            if existing.read(1) not in (b"\n", b"\r"):
                handle.write(b"\n")


def write_partitions(
    frame: pl.DataFrame, fmt: str, folder: str, keys: list[str], options: Mapping[str, Any]
) -> int:
    """Hive layout: ``folder/key=value/.../part-<id>.<ext>``, key columns only in the names."""
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise ConnectorError(
            f"partition_by names no column {', '.join(map(repr, missing))}",
            hint=f"columns: {', '.join(frame.columns)}",
        )
    # A key names a folder level ("key=value"): a separator in it would climb out of the dataset.
    separators = {"/", os.sep, os.altsep or os.sep}
    unsafe = [k for k in keys if not k or any(sep in k for sep in separators)]
    if unsafe:
        raise ConnectorError(
            f"partition_by column(s) {', '.join(map(repr, unsafe))} cannot name a folder level "
            "(a partition folder is key=value, and a path separator would leave the dataset)",
            hint="rename the column(s) before writing, e.g. frame.rename({'a/b': 'a_b'})",
        )
    extension = {"csv": "csv", "ndjson": "ndjson", "json": "json", "parquet": "parquet"}.get(fmt)
    if extension is None:
        raise ConnectorError("partitioned writes take csv, ndjson, json or parquet, not excel")
    name = f"part-{uuid.uuid4().hex[:16]}.{extension}"
    parts = frame.partition_by(keys, as_dict=True, include_key=False, maintain_order=True)
    for values, part in parts.items():
        subfolder = os.path.join(
            folder, *(f"{k}={hive_value(v)}" for k, v in zip(keys, values, strict=True))
        )
        os.makedirs(subfolder, exist_ok=True)
        write_file(part, fmt, os.path.join(subfolder, name), options, append=False)
    return len(parts)
