"""Transforms over groups and several inputs: aggregate, join, union."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from pipeline_lab.components import component
from pipeline_lab.components._base import (
    ColumnLineage,
    ColumnList,
    Component,
    ComponentError,
    ComponentParams,
    NodeInput,
    checking_plans,
    code_list,
)
from pipeline_lab.components._expressions import checked_expression, require_columns, sql_expr
from pipeline_lab.components.library.sql import aggregate_sql

if TYPE_CHECKING:
    import polars as pl


# -- aggregate -------------------------------------------------------------------------------
class AggregateParams(ComponentParams):
    input: str = NodeInput()
    by: ColumnList = Field(default_factory=list, description="group keys (none: whole frame)")
    aggs: dict[str, str] = Field(
        min_length=1, description="output column -> SQL aggregate, e.g. sum(amount)"
    )
    maintain_order: bool = Field(
        False, description="groups in order of first appearance (default: sorted by the keys)"
    )

    @model_validator(mode="after")
    def _distinct_names(self) -> AggregateParams:
        clash = [name for name in self.aggs if name in self.by]
        if clash:
            raise ValueError(f"aggs output(s) {clash} would overwrite group key(s) of that name")
        return self


@component
class Aggregate(Component[AggregateParams]):
    """Group by keys and compute SQL aggregates (sum, avg, count, min, max, median, ...)."""

    name = "aggregate"
    category = "transform"
    description = "Group rows by keys and compute SQL aggregates such as sum(amount)"
    Params = AggregateParams

    def check_parameters(self) -> None:
        self._checked()

    def _checked(self) -> dict[str, str]:
        """Each aggregate in polars' SQL spelling, as polars runs it (the SQL policy's text)."""
        return {
            output: checked_expression(
                aggregate_sql(text), param=f"aggs.{output}", component=self.name, node=self.node
            )
            for output, text in self.params.aggs.items()
        }

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        params = self.params
        frame = inputs[params.input]
        names = frame.collect_schema().names()
        self._require(names, params.by, "by")
        exprs = []
        for output, text in params.aggs.items():
            param = f"aggs.{output}"
            expr = sql_expr(aggregate_sql(text), param=param, component=self.name, node=self.node)
            self._require(names, expr.meta.root_names(), param)
            if not _is_aggregate(expr):
                raise ComponentError(
                    f"aggregate: '{output}: {text}' is not an aggregate, so it has no single "
                    "value per group",
                    node=self.node,
                    hint="wrap the column in an aggregate: sum(x), avg(x), count(*), min(x), "
                    "max(x), first(x), last(x), median(x), count(DISTINCT x), stddev(x)",
                )
            exprs.append(expr.alias(output))
        if not params.by:
            return frame.select(exprs)
        grouped = frame.group_by(params.by, maintain_order=params.maintain_order).agg(exprs)
        # Sorting the (small) result is as deterministic as maintain_order, and much cheaper
        # after an order-keeping join.
        return grouped if params.maintain_order else grouped.sort(params.by, nulls_last=True)

    def _require(self, names: list[str], wanted: list[str], param: str) -> None:
        require_columns(
            names,
            wanted,
            param=param,
            component=self.name,
            node=self.node,
            input_name=self.params.input,
        )

    def columns(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> list[ColumnLineage]:
        source = self.params.input
        lineage = [ColumnLineage(key, ((source, key),), "direct") for key in self.params.by]
        for output, text in self.params.aggs.items():
            param = f"aggs.{output}"
            expr = sql_expr(aggregate_sql(text), param=param, component=self.name, node=self.node)
            roots = dict.fromkeys(expr.meta.root_names())
            lineage.append(ColumnLineage(output, tuple((source, r) for r in roots), "aggregated"))
        return lineage

    def to_code(self) -> str:
        params = self.params
        aggs = ",\n    ".join(
            f"pl.sql_expr({text!r}).alias({name!r})" for name, text in self._checked().items()
        )
        if not params.by:
            return f"{params.input}.select(\n    {aggs},\n)"
        code = (
            f"{params.input}.group_by({code_list(params.by)}, "
            f"maintain_order={params.maintain_order}).agg(\n    {aggs},\n)"
        )
        return (
            code
            if params.maintain_order
            else f"{code}.sort({code_list(params.by)}, nulls_last=True)"
        )


def _is_aggregate(expr: pl.Expr) -> bool:
    try:
        return bool(expr.meta.is_scalar())
    except Exception:  # polars cannot always tell without a schema: let the plan decide
        return True


# -- join ------------------------------------------------------------------------------------
JoinHow = Literal["inner", "left", "right", "full", "semi", "anti", "cross"]
_JOIN_ORDER = {"right": "right", "full": "left_right", "cross": "left_right"}


class JoinParams(ComponentParams):
    left: str = NodeInput("the left node")
    right: str = NodeInput("the right node")
    on: ColumnList | None = Field(None, description="key columns named the same on both sides")
    left_on: ColumnList | None = Field(None, description="left key columns (with right_on)")
    right_on: ColumnList | None = Field(None, description="right key columns (with left_on)")
    how: JoinHow = "inner"
    suffix: str = Field("_right", description="appended to right column names that clash")
    coalesce: bool = Field(True, description="one column per key pair, as SQL USING")
    maintain_order: bool = Field(True, description="keep the input row order (deterministic)")

    @model_validator(mode="after")
    def _keys_fit_how(self) -> JoinParams:
        sided = self.left_on is not None or self.right_on is not None
        if self.how == "cross":
            if self.on or sided:
                raise ValueError("a cross join takes no keys: drop 'on'/'left_on'/'right_on'")
            return self
        if self.on is not None and sided:
            raise ValueError("give either 'on' or 'left_on' with 'right_on', not both")
        if self.on is None and not sided:
            raise ValueError(f"how: {self.how} needs keys: 'on', or 'left_on' with 'right_on'")
        if sided and (not self.left_on or not self.right_on):
            raise ValueError("'left_on' and 'right_on' go together")
        if sided and len(self.left_on or ()) != len(self.right_on or ()):
            raise ValueError("'left_on' and 'right_on' need the same number of columns")
        if self.on is not None and not self.on:
            raise ValueError("'on' names no column")
        return self

    def key_pairs(self) -> list[tuple[str, str]]:
        if self.on is not None:
            return [(k, k) for k in self.on]
        return list(zip(self.left_on or (), self.right_on or (), strict=True))


def _keys_compatible(left: pl.DataType, right: pl.DataType) -> bool:
    return (
        left == right
        or (left.is_integer() and right.is_integer())
        or (left.is_float() and right.is_float())
    )


@component
class Join(Component[JoinParams]):
    """Join two inputs on keys (inner, left, right, full, semi, anti) or cross."""

    name = "join"
    category = "transform"
    description = "Join two inputs on key columns (inner, left, right, full, semi, anti, cross)"
    Params = JoinParams

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        params = self.params
        left, right = inputs[params.left], inputs[params.right]
        self._check_keys(left.collect_schema(), right.collect_schema())
        order = _JOIN_ORDER.get(params.how, "left") if params.maintain_order else "none"
        keys: dict[str, Any] = {}
        if params.on is not None:
            keys["on"] = params.on
        elif params.how != "cross":
            keys.update(left_on=params.left_on, right_on=params.right_on)
        return left.join(
            right,
            how=params.how,
            suffix=params.suffix,
            coalesce=params.coalesce,
            maintain_order=order,  # type: ignore[arg-type]
            **keys,
        )

    def _check_keys(self, left: pl.Schema, right: pl.Schema) -> None:
        import polars as pl

        params = self.params
        pairs = params.key_pairs()
        for side, schema, wanted in (
            ("left", left, [p[0] for p in pairs]),
            ("right", right, [p[1] for p in pairs]),
        ):
            node = getattr(params, side)
            require_columns(
                schema.names(),
                wanted,
                param="on" if params.on is not None else f"{side}_on",
                component=self.name,
                node=self.node,
                input_name=node,
            )
        for lkey, rkey in pairs:
            ltype, rtype = left[lkey], right[rkey]
            if not _keys_compatible(ltype, rtype):
                to_cast, column, target = (
                    (params.left, lkey, rtype)
                    if ltype == pl.String
                    else (params.right, rkey, ltype)
                )
                raise ComponentError(
                    f"join: key types do not match: left '{lkey}' ({params.left}) is {ltype} "
                    f"but right '{rkey}' ({params.right}) is {rtype}",
                    node=self.node,
                    hint=f"add a cast component before the join, e.g. cast '{column}' of "
                    f"'{to_cast}' to {target}, so both keys have the same type",
                )

    def columns(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> list[ColumnLineage]:
        import polars as pl

        params = self.params
        left_schema, right_schema = input_schemas[params.left], input_schemas[params.right]
        empty = {
            params.left: pl.LazyFrame(schema=dict(left_schema)),
            params.right: pl.LazyFrame(schema=dict(right_schema)),
        }
        keyed = params.coalesce and params.how not in ("semi", "anti", "cross")
        pairs: dict[str, tuple[tuple[str, str], ...]] = {}
        if keyed:
            for lkey, rkey in params.key_pairs():
                pairs[lkey] = pairs[rkey] = ((params.left, lkey), (params.right, rkey))
        lineage = []
        for column in self.apply(empty).collect_schema().names():
            if column in pairs:
                sources = pairs[column]
            elif column in left_schema:
                sources = ((params.left, column),)
            elif column in right_schema:
                sources = ((params.right, column),)
            else:
                sources = ((params.right, column.removesuffix(params.suffix)),)
            lineage.append(ColumnLineage(column, sources, "direct"))
        return lineage

    def to_code(self) -> str:
        params = self.params
        order = _JOIN_ORDER.get(params.how, "left") if params.maintain_order else "none"
        if params.how == "cross":
            keys = ""
        elif params.on is not None:
            keys = f"on={code_list(params.on)}, "
        else:
            keys = (
                f"left_on={code_list(params.left_on or [])}, "
                f"right_on={code_list(params.right_on or [])}, "
            )
        coalesce = "" if params.how == "cross" else f", coalesce={params.coalesce}"
        return (
            f"{params.left}.join({params.right}, {keys}how={params.how!r}, "
            f"suffix={params.suffix!r}{coalesce}, maintain_order={order!r})"
        )


# -- union -----------------------------------------------------------------------------------
class UnionParams(ComponentParams):
    inputs: list[str] = NodeInput("the nodes to stack, in order", min_length=1)
    how: Literal["by_name", "by_position"] = Field(
        "by_name", description="match columns by name (missing ones null) or by position"
    )
    source_column: str | None = Field(None, description="a column naming each row's input")
    distinct: bool = Field(False, description="drop duplicate rows (SQL UNION, not UNION ALL)")


@component
class Union(Component[UnionParams]):
    """Stack inputs by column name (missing columns null) or by position."""

    name = "union"
    category = "transform"
    description = "Stack inputs by column name, filling missing columns with nulls"
    Params = UnionParams

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        import polars as pl

        params = self.params
        frames = [inputs[name] for name in params.inputs]
        schemas = [frame.collect_schema() for frame in frames]
        if params.how == "by_position":
            frames = self._align(frames, schemas)
        if params.source_column is not None:
            for name, schema in zip(params.inputs, schemas, strict=True):
                if params.source_column in schema:
                    raise ComponentError(
                        f"union: source_column '{params.source_column}' is already a column "
                        f"of '{name}'",
                        node=self.node,
                        hint="choose another source_column name",
                    )
            frames = [
                frame.select(pl.lit(name).alias(params.source_column), pl.all())
                for name, frame in zip(params.inputs, frames, strict=True)
            ]
        plan = pl.concat(frames, how="diagonal_relaxed")
        if checking_plans():
            try:
                plan.collect_schema()
            except Exception as exc:
                raise self._type_error(schemas, exc) from None
        return plan.unique(maintain_order=True) if params.distinct else plan

    def _align(self, frames: list[pl.LazyFrame], schemas: list[pl.Schema]) -> list[pl.LazyFrame]:
        names = schemas[0].names()
        widths = {n: len(s) for n, s in zip(self.params.inputs, schemas, strict=True)}
        if len(set(widths.values())) > 1:
            raise ComponentError(
                f"union by position needs inputs of equal width, got {widths}",
                node=self.node,
                hint="select the same number of columns from each input, or use how: by_name",
            )
        return [
            frame.rename(dict(zip(schema.names(), names, strict=True)))
            for frame, schema in zip(frames, schemas, strict=True)
        ]

    def _type_error(self, schemas: list[pl.Schema], exc: Exception) -> ComponentError:
        types: dict[str, dict[str, str]] = {}
        for name, schema in zip(self.params.inputs, schemas, strict=True):
            for column, dtype in schema.items():
                types.setdefault(column, {})[name] = str(dtype)
        clashes = [
            f"'{column}' ({', '.join(f'{n}: {t}' for n, t in by_input.items())})"
            for column, by_input in types.items()
            if len(set(by_input.values())) > 1
        ]
        return ComponentError(
            "union: columns have types that do not combine: " + ("; ".join(clashes) or str(exc)),
            node=self.node,
            hint="add a cast component on an input so each column has one type",
        )

    def columns(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> list[ColumnLineage]:
        params = self.params
        first = list(input_schemas[params.inputs[0]])
        lineage: dict[str, list[tuple[str, str]]] = {}
        for name in params.inputs:
            for position, column in enumerate(input_schemas[name]):
                output = first[position] if params.how == "by_position" else column
                lineage.setdefault(output, []).append((name, column))
        result = [ColumnLineage(c, tuple(dict.fromkeys(s)), "direct") for c, s in lineage.items()]
        if params.source_column is not None:
            result.insert(0, ColumnLineage(params.source_column, (), "derived"))
        return result

    def to_code(self) -> str:
        params = self.params
        frames = []
        first = params.inputs[0]
        for name in params.inputs:
            code = name
            if params.how == "by_position" and name != first:
                code += f".rename(dict(zip({name}.collect_schema().names(), {first}.collect_schema().names())))"
            if params.source_column is not None:
                code += f".select(pl.lit({name!r}).alias({params.source_column!r}), pl.all())"
            frames.append(code)
        code = "pl.concat([" + ", ".join(frames) + '], how="diagonal_relaxed")'
        return code + (".unique(maintain_order=True)" if params.distinct else "")
