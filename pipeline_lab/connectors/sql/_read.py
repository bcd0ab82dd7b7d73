"""Reading a table or a query straight into polars.

A read is planned once (:class:`ReadPlan`): the SQL, bound to the user's parameters or fully
literal, and the polars schema the result should have, as the database describes it. It then
runs through one of three readers (``reader="auto"`` picks the first that applies):

* **connectorx** (Rust, Arrow): PostgreSQL and MySQL reads without bound parameters whose
  column types it reads without loss. The fast path for big reads.
* **copy** (PostgreSQL through psycopg): ``COPY (query) TO STDOUT`` in CSV that polars
  parses, with psycopg binding the parameters: parameterized queries at nearly the same speed.
* **cursor** (SQLAlchemy, a server-side cursor fetching ``chunk_size`` rows at a time):
  everything else, on every database.

Partitioned reads split the result on a numeric or date key into ranges read in parallel.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from pipeline_lab._deps import install_command
from pipeline_lab.connectors.sql._copy import Unparsable, copies, copy_out, readable
from pipeline_lab.connectors.sql._engine import JSON_AS_TEXT
from pipeline_lab.connectors.sql._plan import DESCRIBED, ReadPlan, run, statement
from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy.engine import Engine

Reader = Literal["auto", "connectorx", "copy", "cursor"]
READ_OPTIONS = ("columns", "limit", "offset", "chunk_size", "partition_on", "partitions", "reader")
_DEFAULT_CHUNK = 50_000
_MAX_WORKERS = 8  # partitions read at once (each holds a pooled connection)


def frames(
    engine: Engine,
    read: ReadPlan,
    *,
    connectorx_url: Any,
    limit: int | None = None,
    offset: int | None = None,
    chunk_size: int | None = None,
    partition_on: str | None = None,
    partitions: int = 4,
    reader: Reader = "auto",
) -> Iterator[pl.DataFrame]:
    """The result, in chunks of at most ``chunk_size`` rows (one chunk without it)."""
    if chunk_size is not None and chunk_size < 1:
        raise ConnectorError(f"chunk_size must be at least 1, not {chunk_size}")
    fast = _use_connectorx(engine, read, reader)
    wheres: list[Any] = [None]
    if partition_on is not None:
        if limit is not None or offset:
            raise ConnectorError(
                "partition_on= reads everything; it cannot be combined with limit=/offset="
            )
        wheres = _partitions(engine, read, partition_on, partitions)
    if fast:
        sqls = [
            statement(read, engine.dialect, where=w, limit=limit, offset=offset) for w in wheres
        ]
        yield from _connectorx(connectorx_url(), sqls, read.schema, chunk_size)
        return
    if len(wheres) == 1:
        yield from _driver(engine, read, wheres[0], limit, offset, chunk_size, reader)
        return
    workers = min(len(wheres), _MAX_WORKERS)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sql-partition") as pool:
        parts = pool.map(
            lambda w: list(_driver(engine, read, w, None, None, chunk_size, reader)), wheres
        )
        for part in parts:
            yield from part


def _use_connectorx(engine: Engine, read: ReadPlan, reader: Reader) -> bool:
    if reader not in ("auto", "connectorx", "copy", "cursor"):
        raise ConnectorError(
            f"unknown reader {reader!r}", hint="use 'auto', 'connectorx', 'copy' or 'cursor'"
        )
    if reader in ("copy", "cursor"):
        return False
    dialect = engine.dialect.name
    why = None
    if dialect not in DESCRIBED:
        why = f"connectorx does not read {dialect} here"
    elif read.bound:
        why = "connectorx cannot bind parameters"
    elif not read.connectorx:
        why = "a result column has a type connectorx would not read without loss"
    elif importlib.util.find_spec("connectorx") is None:
        why = f"connectorx is not installed ({install_command('connectorx')})"
    if why is not None and reader == "connectorx":
        raise ConnectorError(
            f"reader='connectorx' is not possible: {why}", hint="use reader='auto'"
        )
    return why is None


def connectorx_url(url: Any) -> str:
    """The URL connectorx connects with (it holds the password: keep it only in memory)."""
    scheme = DESCRIBED[url.get_backend_name()]
    return str(url.set(drivername=scheme).render_as_string(hide_password=False))


def _connectorx(
    url: str, sqls: list[str], schema: Mapping[str, Any], chunk_size: int | None
) -> Iterator[pl.DataFrame]:
    import connectorx as cx
    import polars as pl

    query: str | list[str] = sqls[0] if len(sqls) == 1 else sqls
    if chunk_size is None or len(sqls) > 1:
        table = cx.read_sql(url, query, return_type="arrow")
        yield conform(pl.from_arrow(table), schema)  # type: ignore[arg-type]
        return
    reader = cx.read_sql(url, query, return_type="arrow_stream", batch_size=chunk_size)
    empty = True
    for batch in reader:
        if batch.num_rows or empty:
            empty = False
            yield conform(pl.from_arrow(batch), schema)  # type: ignore[arg-type]


def _driver(
    engine: Engine,
    read: ReadPlan,
    where: Any,
    limit: int | None,
    offset: int | None,
    chunk_size: int | None,
    reader: Reader,
) -> Iterator[pl.DataFrame]:
    """Through the driver: PostgreSQL's COPY where it can, else a server-side cursor."""
    stmt = statement(read, engine.dialect, where=where, limit=limit, offset=offset)
    copy = copies(engine.dialect) and readable(read.schema)
    if reader == "copy" and not copy:
        raise ConnectorError(
            "reader='copy' needs PostgreSQL through psycopg, and result columns of types "
            "it parses (not intervals, arrays or unconstrained numerics)",
            hint="use reader='auto'",
        )
    if copy and reader != "cursor":
        given = False
        try:
            for frame in copy_out(engine, stmt, read.schema, chunk_size):
                given = True
                yield frame
            return
        except Unparsable as exc:
            if given or reader == "copy":
                raise ConnectorError(
                    f"a value of the result cannot be read from COPY: {exc}",
                    hint="read it with reader='cursor'",
                ) from None
    # A statement the server could not describe (SHOW, EXPLAIN) cannot open a cursor either.
    stream = bool(read.schema) or read.guessed
    yield from _cursor(engine, stmt, read.schema, chunk_size, guessed=read.guessed, stream=stream)


def _cursor(
    engine: Engine,
    stmt: Any,
    schema: Mapping[str, Any],
    chunk_size: int | None,
    *,
    guessed: bool = False,
    stream: bool = True,
) -> Iterator[pl.DataFrame]:
    """Rows from a server-side cursor (``stream``), ``chunk_size`` at a time."""
    size = chunk_size or _DEFAULT_CHUNK
    with engine.connect() as connection:
        streaming = connection.execution_options(
            stream_results=stream, max_row_buffer=size, **{JSON_AS_TEXT: True}
        )
        result = run(streaming, stmt)
        names = list(result.keys())
        empty = True
        while True:
            rows = result.fetchmany(size)
            if not rows and not empty:
                break
            empty = False
            yield conform(rows_frame(names, rows, schema), schema, strict=not guessed)
            if len(rows) < size:
                break
        result.close()


def rows_frame(
    names: Sequence[str], rows: Sequence[Any], schema: Mapping[str, Any]
) -> pl.DataFrame:
    """A frame of driver rows, each column built with its described dtype when it fits."""
    import polars as pl

    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    series = []
    for name, values in zip(names, columns, strict=True):
        dtype = schema.get(name)
        plain = _plain(values)
        built = None
        if dtype is not None:
            try:
                built = pl.Series(name, plain, dtype=dtype, strict=True)
            except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
                built = None  # e.g. 0/1 for a boolean: built as integers, cast in conform()
        if built is None:
            built = pl.Series(name, plain, strict=False)
        series.append(built)
    return pl.DataFrame(series)


def _plain(values: Sequence[Any]) -> Sequence[Any]:
    """Driver values polars cannot take as they are (UUIDs, JSON objects, buffers) as text."""
    import json
    import uuid

    first = next((v for v in values if v is not None), None)
    if first is None or isinstance(first, (str, int, float, bytes, bool)):
        return values
    if isinstance(first, uuid.UUID):
        return [None if v is None else str(v) for v in values]
    if isinstance(first, (dict, list)):
        return [None if v is None else json.dumps(v) for v in values]
    if isinstance(first, memoryview):
        return [None if v is None else bytes(v) for v in values]
    return values


def conform(frame: pl.DataFrame, schema: Mapping[str, Any], *, strict: bool = True) -> pl.DataFrame:
    """``frame`` with every column cast to its described dtype (where one is known); a
    guessed dtype (``strict=False``) that does not fit leaves its column as it is."""
    import polars as pl

    if not strict:
        for name, dtype in schema.items():
            if name in frame.columns:
                try:
                    frame = conform(frame, {name: dtype})
                except pl.exceptions.PolarsError:
                    continue
        return frame
    casts = []
    for name, dtype in schema.items():
        if dtype is None or name not in frame.columns or frame.schema[name] == dtype:
            continue
        column = pl.col(name)
        if frame.schema[name] == pl.String and dtype == pl.Boolean:
            column = column.cast(pl.Int8)  # SQLite and MySQL store booleans as 0/1
        elif frame.schema[name].is_float() and isinstance(dtype, pl.Decimal):
            column = column.round(dtype.scale or 0)
        casts.append(column.cast(dtype))
    return frame.with_columns(casts) if casts else frame


def _partitions(engine: Engine, read: ReadPlan, key: str, count: int) -> list[Any]:
    """WHERE clauses that split the result on ``key`` into ``count`` ranges (and its nulls)."""
    import datetime as dt
    import decimal

    from sqlalchemy import and_, bindparam, column, func, select

    if count < 1:
        raise ConnectorError(f"partitions must be at least 1, not {count}")
    if read.schema and not read.guessed and key not in read.schema:
        raise ConnectorError(
            f"partition_on='{key}' is not a column of the result; its columns: "
            f"{', '.join(read.schema)}"
        )
    target = read.base.selected_columns[key] if read.table else column(key)
    bounds = select(func.min(target), func.max(target))
    if not read.table:
        bounds = bounds.select_from(read.base.columns().subquery("q"))
    if not read.bound:
        bounds = statement(replace(read, base=bounds, table=True), engine.dialect)
    with engine.connect() as connection:
        low, high = run(connection, bounds).one()
    low, high = (_as_declared(v, read.schema.get(key)) for v in (low, high))
    nulls = target.is_(None)
    if low is None:
        return [nulls]
    if isinstance(low, bool) or not isinstance(
        low, (int, float, decimal.Decimal, dt.date, dt.datetime)
    ):
        raise ConnectorError(
            f"partition_on='{key}' must be a numeric or date column (it holds {type(low).__name__})"
        )
    edges = _edges(low, high, count)
    wheres: list[Any] = []
    for i, (start, end) in enumerate(itertools.pairwise(edges)):
        lower = target >= bindparam(None, start, unique=True)
        last = i == len(edges) - 2
        upper = (
            (target <= bindparam(None, end, unique=True))
            if last
            else (target < bindparam(None, end, unique=True))
        )
        wheres.append(and_(lower, upper))
    wheres[0] = wheres[0] | nulls
    return wheres


def _as_declared(value: Any, dtype: Any) -> Any:
    """A date or timestamp that SQLite returns as text, as the date its column declares."""
    import datetime as dt

    import polars as pl

    if isinstance(value, str) and dtype == pl.Date:
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, str) and isinstance(dtype, pl.Datetime):
        return dt.datetime.fromisoformat(value)
    return value


def _edges(low: Any, high: Any, count: int) -> list[Any]:
    """``count`` + 1 increasing range edges from ``low`` to ``high`` (fewer if they repeat)."""
    import datetime as dt

    span = high - low
    edges = [low]
    for i in range(1, count):
        if isinstance(low, int):
            edge = low + span * i // count
        elif isinstance(low, dt.date) and not isinstance(low, dt.datetime):
            edge = low + dt.timedelta(days=span.days * i // count)
        else:
            edge = low + span * i / count
        if edge > edges[-1]:
            edges.append(edge)
    if high > edges[-1] or len(edges) == 1:
        edges.append(high)
    return edges
