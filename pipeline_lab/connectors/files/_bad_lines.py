"""Malformed lines in text files: find them (file and line number), then fail or skip them.

The fast path is polars' own reader. Only when it fails do we read the failing file again
in Python, record by record, to say which line is bad and why (more fields than the
header, a value that is not of its column's type, invalid JSON) — then raise, or drop the
bad lines and read the rest with polars. A plan's reader fails only when it is collected,
so :func:`guarded` wraps a plan in a polars IO source that keeps projection, predicate and
row-limit pushdown and recovers when the inner plan fails.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    import polars as pl

logger = logging.getLogger("pipeline_lab.connectors")

BAD_LINES = ("error", "skip", "null")
_NATIVE = {"utf8": "utf8", "utf-8": "utf8", "utf_8": "utf8", "utf8-lossy": "utf8-lossy"}
_HINT = (
    "fix the file, or read it with bad_lines='skip' (drop bad lines) or "
    "bad_lines='null' (keep them: bad values become nulls, extra fields are dropped)"
)
_SHOWN = 5


def guarded(plan: pl.LazyFrame, recover: Callable[[Exception], pl.DataFrame]) -> pl.LazyFrame:
    """``plan`` as a lazy source whose read failures go to ``recover`` (which may raise)."""
    import polars as pl
    from polars.io.plugins import register_io_source

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        def shaped(frame: pl.LazyFrame) -> pl.LazyFrame:
            if predicate is not None:
                frame = frame.filter(predicate)
            if with_columns:  # an empty list would also drop the row count
                frame = frame.select(with_columns)
            return frame if n_rows is None else frame.head(n_rows)

        try:
            result = shaped(plan).collect()
        except pl.exceptions.PolarsError as exc:
            result = shaped(recover(exc).lazy()).collect()
        yield result

    return register_io_source(source, schema=plan.collect_schema())


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV file is written, and what to do with its bad lines."""

    separator: str = ","
    quote_char: str | None = '"'
    has_header: bool = True
    skip_rows: int = 0
    comment_prefix: str | None = None
    encoding: str = "utf8"
    bad_lines: str = "error"
    extra: Mapping[str, Any] = field(default_factory=dict)  # other scan_csv keywords

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> CsvDialect:
        names = ("separator", "quote_char", "has_header", "skip_rows", "comment_prefix")
        known = {k: options.pop(k) for k in names if k in options}
        encoding = str(options.pop("encoding", "utf8"))
        policy = options.pop("bad_lines", "error")
        if policy not in BAD_LINES:
            raise ConnectorError(
                f"bad_lines={policy!r} is not a policy", hint=f"use one of {', '.join(BAD_LINES)}"
            )
        if encoding.lower() not in _NATIVE:
            try:
                "".encode(encoding)
            except LookupError:
                raise ConnectorError(
                    f"unknown encoding {encoding!r}", hint="e.g. utf8, latin-1, cp1252, utf-16"
                ) from None
        return cls(**known, encoding=encoding, bad_lines=policy, extra=dict(options))

    @property
    def native(self) -> bool:
        """Whether polars decodes this encoding itself (else Python transcodes to UTF-8)."""
        return self.encoding.lower() in _NATIVE

    @property
    def polars(self) -> dict[str, Any]:
        """``pl.scan_csv`` keywords."""
        options: dict[str, Any] = {
            "separator": self.separator,
            "quote_char": self.quote_char,
            "has_header": self.has_header,
            "skip_rows": self.skip_rows,
            "comment_prefix": self.comment_prefix,
            **self.extra,
        }
        if self.native:
            options["encoding"] = _NATIVE[self.encoding.lower()]
        if self.bad_lines == "null":
            options |= {"ignore_errors": True, "truncate_ragged_lines": True}
        return options

    def scan(self, path: str, **overrides: Any) -> pl.LazyFrame:
        import polars as pl

        if self.native:
            return pl.scan_csv(path, glob=False, **{**self.polars, **overrides})
        with self.text(path) as handle:
            data = handle.read().encode("utf-8")
        return pl.scan_csv(data, **{**self.polars, **overrides})

    def text(self, path: str) -> IO[str]:
        """The file as text, decoded as polars would (lossy: bad bytes become U+FFFD)."""
        encoding = "utf-8-sig" if self.native else self.encoding
        errors = "replace" if self.encoding.lower() == "utf8-lossy" else "strict"
        if path.lower().endswith(".gz"):
            return gzip.open(path, "rt", encoding=encoding, errors=errors, newline="")
        return open(path, encoding=encoding, errors=errors, newline="")


def _records(path: str, dialect: CsvDialect) -> Iterator[tuple[int, list[str]]]:
    """Each record with the file line it starts on (1-based), blank and comment lines skipped."""
    with dialect.text(path) as handle:
        for _ in range(dialect.skip_rows):
            handle.readline()
        reader = csv.reader(
            handle,
            delimiter=dialect.separator,
            quotechar=dialect.quote_char or '"',
            quoting=csv.QUOTE_NONE if dialect.quote_char is None else csv.QUOTE_MINIMAL,
        )
        consumed = 0
        for fields in reader:
            start, consumed = dialect.skip_rows + consumed + 1, reader.line_num
            if not fields or (
                dialect.comment_prefix and fields[0].startswith(dialect.comment_prefix)
            ):
                continue
            yield start, fields


def recover_csv(
    path: str, dialect: CsvDialect, schema: Mapping[str, Any], error: Exception
) -> pl.DataFrame:
    """``path`` read without its bad lines, or an error naming the first one (and its line)."""
    import polars as pl

    records = list(_records(path, dialect))
    header = records.pop(0)[1] if dialect.has_header and records else None
    width = len(header) if header is not None else len(schema)
    bad: dict[int, str] = {}
    lines: list[int] = []
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=dialect.separator, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    for line, fields in records:
        if len(fields) > width:
            bad[line] = f"{len(fields)} fields where the header has {width}"
        else:
            lines.append(line)
            writer.writerow(fields)
    clean = buffer.getvalue().encode("utf-8")
    options = {
        **dialect.polars,
        "quote_char": '"',
        "skip_rows": 0,
        "comment_prefix": None,
        "encoding": "utf8",
        "truncate_ragged_lines": False,
    }
    try:
        typed = pl.read_csv(
            clean, **{**options, "schema_overrides": dict(schema)}, ignore_errors=True
        )
        untyped = {k: v for k, v in options.items() if k not in ("schema", "schema_overrides")}
        raw = pl.read_csv(clean, **untyped, infer_schema=False, try_parse_dates=False)
    except pl.exceptions.PolarsError as exc:
        raise ConnectorError(
            f"{path}: {_first_line(error)}", dataset=path, hint=_first_line(exc)
        ) from error
    if typed.height != len(lines):  # the records did not map to rows one to one: do not guess
        raise ConnectorError(f"{path}: {_first_line(error)}", dataset=path) from error
    unparsed = pl.Series("bad", [False] * typed.height, dtype=pl.Boolean)
    for name, dtype in typed.schema.items():
        if dtype == pl.String or name not in raw.columns:
            continue
        lost = raw[name].is_not_null() & typed[name].is_null()
        if lost.any():
            unparsed = unparsed | lost
            for row in lost.arg_true().head(_SHOWN).to_list():
                reason = f"{raw[name][row]!r} in column {name!r} does not parse as {dtype}"
                bad.setdefault(lines[row], reason)
    for row in unparsed.arg_true().to_list():
        bad.setdefault(lines[row], "a value of the wrong type")
    return _resolve(path, bad, error, dialect.bad_lines, lambda: typed.filter(~unparsed), _HINT)


def recover_ndjson(
    path: str,
    schema: Mapping[str, Any] | None,
    error: Exception,
    *,
    policy: str,
    options: Mapping[str, Any],
) -> pl.DataFrame:
    """``path`` read without its invalid lines, or an error naming the first one."""
    import polars as pl

    bad: dict[int, str] = {}
    good: list[tuple[int, str]] = []
    opener = gzip.open if path.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                bad[number] = f"invalid JSON ({exc.msg}, column {exc.colno})"
                continue
            if not isinstance(value, dict):
                bad[number] = f"a JSON {type(value).__name__}, not a record (an object)"
                continue
            good.append((number, line if line.endswith("\n") else line + "\n"))

    def read(rows: list[tuple[int, str]]) -> pl.DataFrame:
        data = "".join(text for _, text in rows).encode("utf-8")
        return pl.read_ndjson(
            data, **(options if schema is None else {**options, "schema": schema})
        )

    try:
        frame = read(good)
    except pl.exceptions.PolarsError as exc:
        # A value polars cannot take (a type mismatch): bisect to the first line that fails.
        low, high = 0, len(good)
        while high - low > 1:
            middle = (low + high) // 2
            try:
                read(good[:middle])
                low = middle
            except pl.exceptions.PolarsError:
                high = middle
        bad[good[high - 1][0]] = f"{_first_line(exc)} (with the types of the first lines)"
        # Skipping would take one bisection per such line: a type mismatch is a schema
        # problem, so say where it is instead.
        policy, frame = "error", pl.DataFrame()
    hint = "fix the file, or read it with bad_lines='skip' (drop lines that are not JSON records)"
    if bad and not any(r.startswith(("invalid JSON", "a JSON")) for r in bad.values()):
        hint = "give the column types with schema_overrides={...}, or infer_schema_length=None"
    return _resolve(path, bad, error, policy, lambda: frame, hint)


def _resolve(
    path: str,
    bad: Mapping[int, str],
    error: Exception,
    policy: str,
    kept: Callable[[], pl.DataFrame],
    hint: str,
) -> pl.DataFrame:
    if not bad:
        raise ConnectorError(
            f"{path}: {_first_line(error)}", dataset=path, hint="no bad line found; see the message"
        ) from error
    lines = sorted(bad)
    if policy != "skip":
        first = lines[0]
        more = ""
        if len(lines) > 1:
            shown = ", ".join(map(str, lines[1 : 1 + _SHOWN]))
            more = f" ({len(lines) - 1} more bad line{'s' * (len(lines) > 2)}: {shown}"
            more += ", ...)" if len(lines) > 1 + _SHOWN else ")"
        raise ConnectorError(
            f"{path}, line {first}: {bad[first]}{more}", dataset=path, hint=hint
        ) from error
    logger.warning(
        "skipped %d bad line(s) of %s: lines %s%s",
        len(lines),
        path,
        ", ".join(map(str, lines[:_SHOWN])),
        ", ..." if len(lines) > _SHOWN else "",
    )
    return kept()
