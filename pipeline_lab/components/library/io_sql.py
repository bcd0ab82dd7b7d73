"""Database sources and sinks: ``read_sql`` and ``write_sql``.

``source``/``target`` is a SQLAlchemy URL without a password, or the name of a managed data
source (which holds the password as a secret reference; names resolve through the catalog
the runner sets around each node). A query's ``:name`` placeholders bind the values in
``params``, else the pipeline parameter of that name, so ``WHERE day >= :since`` follows
``-p since=...``. Both run what their code says (``pipeline_lab.read(source, query=...,
params=...)``, ``pipeline_lab.write(frame, target, table=..., mode=..., key=...)``): a
component node and a code cell read and write alike, with the same lineage. A sink's plan is
collected by the engine and written in :meth:`WriteSql.finish`, which returns one summary row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from pipeline_lab.components import component
from pipeline_lab.components._base import (
    ColumnLineage,
    ColumnList,
    Component,
    ComponentError,
    ComponentParams,
    NodeInput,
)
from pipeline_lab.components.library.columns import require_input

if TYPE_CHECKING:
    import polars as pl

Scalar = str | int | float | bool | dt.datetime | dt.date | None
ParamValue = Scalar | list[str | int | float | dt.datetime | dt.date]

_WHERE = (
    "a SQLAlchemy URL without a password (postgresql+psycopg://me@host:5432/shop) or the "
    "name of a managed data source"
)


def _refuse_password(
    params: Mapping[str, Any] | ComponentParams, key: str, node: str | None, name: str
) -> None:
    """Refuse a URL holding a password before validation (whose errors quote the input)."""
    value = params.get(key) if isinstance(params, Mapping) else getattr(params, key, None)
    if isinstance(value, str) and "://" in value:
        try:
            password = urlsplit(value).password
        except ValueError:
            password = None
        if password:
            raise ComponentError(
                f"component '{name}': parameter '{key}' holds a password; it would be stored "
                "in the notebook",
                node=node,
                hint="add a managed source with a secret reference "
                "(pipeline-lab sources add NAME URL --secret password=env:DB_PASSWORD) and "
                "use its name",
            )


def _references(query: str) -> list[str]:
    from pipeline_lab.components import parameter_references

    return parameter_references(query)


def _call(function: str, first: list[str], options: Mapping[str, Any]) -> str:
    """``function(first..., key=value, ...)`` with the options as Python literals."""
    args = [*first, *(f"{k}={v!r}" for k, v in options.items())]
    return f"{function}({', '.join(args)})"


# -- read_sql ----------------------------------------------------------------------------------
class ReadSqlParams(ComponentParams):
    source: str = Field(min_length=1, description=_WHERE)
    table: str | None = Field(None, min_length=1, description="a table or view (schema.table)")
    query: str | None = Field(
        None, min_length=1, description="or a query; :name placeholders bind params"
    )
    params: dict[str, ParamValue] | None = Field(
        None, description="values of the query's :name placeholders (a list for IN :name)"
    )
    columns: ColumnList | None = Field(
        None, min_length=1, description="the table's columns to read"
    )
    limit: int | None = Field(None, ge=0, description="read at most this many rows")
    chunk_size: int | None = Field(None, ge=1, description="rows fetched at a time")
    partition_on: str | None = Field(
        None, description="a numeric or date column: read ranges of it in parallel"
    )
    partitions: int = Field(4, ge=1, le=64, description="how many ranges (with partition_on)")

    @model_validator(mode="after")
    def _table_or_query(self) -> ReadSqlParams:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of 'table' or 'query'")
        if self.params and self.query is None:
            raise ValueError("'params' bind to a query's :name placeholders; give 'query'")
        if self.columns and self.table is None:
            raise ValueError("'columns' picks a table's columns; a query selects its own")
        return self


@component
class ReadSql(Component[ReadSqlParams]):
    """Read a database table, or a parameterized query, into a frame."""

    name = "read_sql"
    category = "source"
    description = "Read a database table or a parameterized SQL query"
    Params = ReadSqlParams

    def __init__(self, params: Mapping[str, Any] | ReadSqlParams, *, node: str | None = None):
        _refuse_password(params, "source", node, self.name)
        super().__init__(params, node=node)

    def options(self) -> dict[str, Any]:
        """``pipeline_lab.read``'s keyword arguments, defaults left out."""
        return self.params.model_dump(exclude_none=True, exclude_defaults=True, exclude={"source"})

    def bound(self) -> dict[str, Any]:
        """The query's parameters: ``params``, then pipeline parameters for the other
        ``:name`` placeholders (bound as values, never pasted into the SQL)."""
        from pipeline_lab.context import current_run

        given = dict(self.params.params or {})
        if self.params.query is None:
            return given
        pipeline = current_run().params
        for name in _references(self.params.query):
            if name not in given and name in pipeline:
                given[name] = pipeline[name]
        return given

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        options = self.options()
        bound = self.bound()
        if bound:
            options["params"] = bound
        from pipeline_lab.connectors import read

        return read(self.params.source, **options).lazy()

    def columns(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> list[ColumnLineage]:
        # A source's columns are known only by reading it; it has no input columns to trace.
        return []

    def to_code(self) -> str:
        options = self.options()
        given = dict(self.params.params or {})
        from_pipeline = [
            name
            for name in dict.fromkeys(_references(self.params.query or ""))
            if name not in given
        ]
        if not from_pipeline:
            return _call("pipeline_lab.read", [repr(self.params.source)], options)
        # The other placeholders are pipeline parameters: names in a code cell.
        entries = [f"{k!r}: {v!r}" for k, v in given.items()]
        entries += [f"{name!r}: {name}" for name in from_pipeline]
        options.pop("params", None)
        args = [repr(self.params.source), *(f"{k}={v!r}" for k, v in options.items())]
        return f"pipeline_lab.read({', '.join(args)}, params={{{', '.join(entries)}}})"


# -- write_sql ---------------------------------------------------------------------------------
class WriteSqlParams(ComponentParams):
    input: str = NodeInput("the node whose rows to write")
    target: str = Field(min_length=1, description=_WHERE)
    table: str = Field(min_length=1, description="the table (schema.table); created if absent")
    mode: Literal["append", "replace", "upsert", "error"] = Field(
        "append",
        description="append rows, replace the table's rows, upsert on key, or error if it exists",
    )
    key: ColumnList | None = Field(
        None, min_length=1, description="the column(s) identifying a row (upsert; primary key)"
    )
    chunk_size: int | None = Field(None, ge=1, description="rows sent at a time")

    @model_validator(mode="after")
    def _upsert_needs_key(self) -> WriteSqlParams:
        if self.mode == "upsert" and not self.key:
            raise ValueError("mode 'upsert' needs 'key' (the column or columns of a row's key)")
        return self


@component
class WriteSql(Component[WriteSqlParams]):
    """Write the input into a database table in one transaction (all rows or none)."""

    name = "write_sql"
    category = "sink"
    description = "Write rows into a database table (append, replace or upsert)"
    Params = WriteSqlParams

    def __init__(self, params: Mapping[str, Any] | WriteSqlParams, *, node: str | None = None):
        _refuse_password(params, "target", node, self.name)
        super().__init__(params, node=node)

    def options(self) -> dict[str, Any]:
        """``pipeline_lab.write``'s keyword arguments after the target."""
        p = self.params
        options: dict[str, Any] = {"table": p.table, "mode": p.mode}
        if p.key:
            options["key"] = p.key[0] if len(p.key) == 1 else list(p.key)
        if p.chunk_size is not None:
            options["chunk_size"] = p.chunk_size
        return options

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        frame = inputs[self.params.input]
        require_input(self, frame, self.params.key or (), "key")
        return frame

    def columns(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> list[ColumnLineage]:
        # The output is a summary of the write; the rows went to the table (dataset lineage).
        return []

    def finish(self, frame: pl.DataFrame) -> pl.DataFrame:
        import polars as pl

        from pipeline_lab.connectors import write

        result = write(frame, self.params.target, **self.options())
        return pl.DataFrame(
            {
                "dataset": [str(result.dataset)],
                "rows": [result.rows],
                "mode": [result.mode],
                "seconds": [round(result.duration_s, 3)],
            },
            schema={
                "dataset": pl.String,
                "rows": pl.Int64,
                "mode": pl.String,
                "seconds": pl.Float64,
            },
        )

    def to_code(self) -> str:
        first = [f"{self.params.input}.collect()", repr(self.params.target)]
        return _call("pipeline_lab.write", first, self.options())
