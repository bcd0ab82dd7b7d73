"""PostgreSQL ``COPY`` both ways, in CSV that polars writes and parses (psycopg 3).

Writing, ``COPY table FROM STDIN`` takes CSV written by polars, a slice at a time. Reading,
``COPY (query) TO STDOUT`` gives a parameterized query's result as CSV that polars parses
into the described column types: several times faster than fetching Python row tuples.
In PostgreSQL's CSV an unquoted empty field is NULL and ``""`` an empty string, as in
polars; session settings that shape the text (date style, float digits, bytea format) are
fixed for the transaction only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pipeline_lab.connectors.sql._engine import literal_dialect, run_sql

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Engine

_SESSION = (
    "SET LOCAL DateStyle = 'ISO'",  # the output format only: the MDY/DMY order is kept
    "SET LOCAL extra_float_digits = 3",
    "SET LOCAL bytea_output = 'hex'",
)


def copies(dialect: Any) -> bool:
    """Whether ``COPY`` through psycopg 3 is available on this dialect."""
    return bool(dialect.name == "postgresql" and dialect.driver == "psycopg")


# -- writing ---------------------------------------------------------------------------------
def copy_in(connection: Connection, table: Table, frame: pl.DataFrame, chunk: int) -> None:
    """``COPY table (columns) FROM STDIN``, ``chunk`` rows of CSV at a time, in the
    connection's transaction."""
    preparer = literal_dialect(connection.dialect).identifier_preparer
    columns = ", ".join(preparer.quote(c) for c in frame.columns)
    sql = f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN (FORMAT csv)"
    raw: Any = connection.connection.dbapi_connection
    ready = _csv_ready(frame)
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for part in ready.iter_slices(chunk):
            copy.write(part.write_csv(include_header=False, quote_style="necessary"))


def _csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns PostgreSQL's CSV input reads as the right type: bytea as hex, JSON as text."""
    import polars as pl

    changes = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype == pl.Binary:
            changes.append((pl.lit("\\x") + column.bin.encode("hex")).alias(name))
        elif isinstance(dtype, (pl.Struct, pl.List, pl.Array)):
            changes.append(json_text(name, dtype))
        elif isinstance(dtype, (pl.Categorical, pl.Enum)):
            changes.append(column.cast(pl.String))
        elif isinstance(dtype, pl.Duration):
            changes.append(column.dt.total_microseconds().cast(pl.String) + " microseconds")
    return frame.with_columns(changes) if changes else frame


def json_text(name: str, dtype: Any) -> Any:
    """Column ``name`` (a struct or list) as JSON text."""
    import polars as pl

    column = pl.col(name)
    if isinstance(dtype, pl.Struct):
        return column.struct.json_encode()
    # A list is encoded as the only field of a struct, {"v":[...]}, then unwrapped.
    encoded = pl.struct(column.alias("v")).struct.json_encode()
    return pl.when(column.is_not_null()).then(encoded.str.slice(5).str.head(-1)).alias(name)


# -- reading ---------------------------------------------------------------------------------
def readable(schema: Mapping[str, Any]) -> bool:
    """Whether every column has a type this reader parses from CSV."""
    import polars as pl

    return bool(schema) and all(
        dtype is not None and not isinstance(dtype, pl.Duration) for dtype in schema.values()
    )


class Unparsable(Exception):
    """A value of the CSV did not parse as its column's type (the cursor reader can read it)."""


def copy_out(
    engine: Engine, stmt: Any, schema: Mapping[str, Any], chunk_size: int | None = None
) -> Iterator[pl.DataFrame]:
    """The result of ``stmt`` (SQL text, or a statement with bound parameters, which psycopg
    binds) through ``COPY (...) TO STDOUT``: one frame, or frames of ``chunk_size`` rows
    parsed as the data arrives. Raises :class:`Unparsable` for values polars cannot parse
    (infinite dates, years BC, time zone offsets with seconds)."""
    if isinstance(stmt, str):
        sql, params = stmt, None
    else:
        compiled = stmt.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
        sql, params = str(compiled), compiled.params
    pending = bytearray()
    rows = _Rows(schema, chunk_size)
    with engine.connect() as connection:
        for setting in _SESSION:
            run_sql(connection, setting)
        raw: Any = connection.connection.dbapi_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy,
        ):
            for data in copy:
                pending += data
                if chunk_size is not None and len(pending) >= _PIECE:
                    cut = _row_end(pending)
                    if cut:
                        yield from rows.add(_parse_csv(bytes(pending[:cut]), schema))
                        del pending[:cut]
    if pending:
        yield from rows.add(_parse_csv(bytes(pending), schema))
    yield from rows.rest()


_PIECE = 8 << 20  # bytes of CSV parsed at once in a chunked read


def _row_end(data: bytearray) -> int:
    """The end of the last complete CSV row in ``data`` (0: none): a newline outside quotes,
    where the quotes before it pair up (PostgreSQL doubles quotes inside quoted fields)."""
    end = data.rfind(b"\n")
    while end >= 0:
        if data.count(b'"', 0, end) % 2 == 0:
            return end + 1
        end = data.rfind(b"\n", 0, end)
    return 0


class _Rows:
    """Parsed frames, handed out in chunks of exactly ``size`` rows (the last one shorter)."""

    def __init__(self, schema: Mapping[str, Any], size: int | None) -> None:
        self.schema, self.size = schema, size
        self.held: list[pl.DataFrame] = []
        self.count = 0
        self.given = False

    def add(self, frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
        import polars as pl

        self.held.append(frame)
        self.count += frame.height
        while self.size is not None and self.count >= self.size:
            whole = pl.concat(self.held, rechunk=False)
            self.given = True
            yield whole.head(self.size).rechunk()
            rest = whole.slice(self.size)
            self.held, self.count = [rest], rest.height

    def rest(self) -> Iterator[pl.DataFrame]:
        import polars as pl

        if self.count or not self.given:
            frames = [f for f in self.held if f.height] or [_empty(self.schema)]
            yield pl.concat(frames).rechunk()


def _empty(schema: Mapping[str, Any]) -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(schema=dict(schema))


def _parse_csv(data: bytes, schema: Mapping[str, Any]) -> pl.DataFrame:
    import polars as pl

    names = list(schema)
    text = pl.read_csv(
        data, has_header=False, new_columns=names, schema={n: pl.String for n in names}
    )
    try:
        return text.select(_parse(name, dtype) for name, dtype in schema.items())
    except pl.exceptions.PolarsError as exc:
        raise Unparsable(str(exc).splitlines()[0]) from None


def _parse(name: str, dtype: Any) -> Any:
    import polars as pl

    column = pl.col(name)
    if dtype == pl.Boolean:
        return column == "t"
    if dtype == pl.Date:
        return column.str.to_date("%Y-%m-%d")
    if dtype == pl.Time:
        return column.str.to_time("%H:%M:%S%.f")
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone:
            return column.str.to_datetime(
                "%Y-%m-%d %H:%M:%S%.f%#z", time_unit="us", time_zone="UTC"
            )
        return column.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us")
    if dtype == pl.Binary:
        return column.str.strip_prefix("\\x").str.decode("hex")
    if dtype == pl.String:
        return column
    return column.cast(dtype)
