"""The component contract: typed parameters, ``apply`` on LazyFrames, column lineage, code.

A component is a configurable node: ``%%pipeline paid --component filter`` with a YAML body
of its parameters. :meth:`Component.build` is the final template method every caller uses:
it turns inputs into LazyFrames, checks the parameters against the inputs' schemas, calls
the one abstract step :meth:`Component.apply`, and wraps polars errors so they name the node.

Building is incremental: the output's schema comes from applying the component to empty
frames of its inputs' schemas, which costs the same however long the upstream chain is, and
travels with the plan (``frames.with_schema``), so the next component reads it at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from pipeline_lab.errors import PipelineDefinitionError, PipelineLabError
from pipeline_lab.frames import to_lazy, with_schema

if TYPE_CHECKING:
    import polars as pl

Category = Literal["source", "transform", "sink", "check"]
Lineage = Literal["direct", "derived", "aggregated", "filtered"]
NODE_INPUT = "x-node-input"
HIDDEN_PREFIX = "__pipeline_lab_"
"""Columns a plan carries for its component's ``finish`` alone, which drops them."""

_CHECKED: ContextVar[bool] = ContextVar("pipeline_lab_component_checked", default=False)


def checking_plans() -> bool:
    """Whether ``apply`` should resolve the plans it builds, to report type errors there.

    :meth:`Component.build` first applies a component to empty frames of its inputs'
    schemas, which resolves cheaply and reports every error, then applies it to the real
    inputs with this False: resolving those plans again would cost time in proportion to
    the upstream chain, so a deep chain would build in quadratic time.
    """
    return not _CHECKED.get()


def visible(names: Iterable[str]) -> list[str]:
    """Column ``names`` without the hidden ones (see :data:`HIDDEN_PREFIX`)."""
    return [n for n in names if not n.startswith(HIDDEN_PREFIX)]


class ComponentError(PipelineDefinitionError):
    """A component's parameters or inputs are wrong (unknown column, bad expression, ...)."""


class ComponentParams(BaseModel):
    """Base of every component's parameter model: unknown keys are errors, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def NodeInput(description: str = "the node to read", **kwargs: Any) -> Any:
    """A parameter that names an input node (it makes an edge of the graph)."""
    return Field(description=description, json_schema_extra={NODE_INPUT: True}, **kwargs)


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


ColumnList = Annotated[list[str], BeforeValidator(_as_list)]
"""Column names; a single name stands for a list of one (``by: region``)."""


def code_list(values: Iterable[Any]) -> str:
    """``values`` as a Python list literal for generated code."""
    return "[" + ", ".join(repr(v) for v in values) + "]"


@dataclass(frozen=True)
class ColumnLineage:
    """Output column ``column`` comes from ``sources`` ((node, column) pairs), and how."""

    column: str
    sources: tuple[tuple[str, str], ...]
    how: Lineage


P = TypeVar("P", bound=ComponentParams)


def _refuse_credentials(params: Mapping[str, Any], component: str, node: str | None) -> None:
    """Refuse a literal credential among the parameters, before validation (whose errors
    quote the input): a URL with a password, or with a key or token in its query. Parameters
    are written into the notebook, the graph and exported cells; credentials belong in a
    managed source's secret reference."""
    from urllib.parse import parse_qsl, urlsplit

    from pipeline_lab.components import _strings
    from pipeline_lab.redact import secret_name, secret_value

    for key, value in params.items():
        for text in _strings(value):
            what = secret_value(text) if "://" in text else None
            if what is None and "://" in text and "?" in text:
                try:
                    query = parse_qsl(urlsplit(text).query, keep_blank_values=True)
                except ValueError:
                    query = []
                if any(secret_name(name) and given for name, given in query):
                    what = "a URL with a key or token in its query"
            if what is not None:
                raise ComponentError(
                    f"component '{component}': parameter '{key}' holds {what}; it would be "
                    "stored in the notebook and shown in the graph",
                    node=node,
                    hint="add a managed source with a secret reference (pipeline-lab sources "
                    "add NAME URL --secret password=env:DB_PASSWORD) and use its name",
                )


class Component(ABC, Generic[P]):
    """A library component; subclasses set the class variables and implement ``apply``.

    Examples
    --------
    >>> class FilterParams(ComponentParams):
    ...     input: str = NodeInput()
    ...     condition: str
    >>> @component
    ... class Filter(Component[FilterParams]):
    ...     name, category, description = "filter", "transform", "Keep rows where ..."
    ...     Params = FilterParams
    ...     def apply(self, inputs): ...
    ...     def to_code(self): ...
    """

    name: ClassVar[str]
    category: ClassVar[Category]
    description: ClassVar[str]
    Params: ClassVar[type[ComponentParams]]
    params: P

    def __init__(self, params: Mapping[str, Any] | P, *, node: str | None = None):
        self.node = node
        if not isinstance(params, ComponentParams):
            _refuse_credentials(params, self.name, node)
        if isinstance(params, ComponentParams):
            self.params = params
        else:
            try:
                self.params = self.Params.model_validate(dict(params))  # type: ignore[assignment]
            except ValidationError as exc:
                raise ComponentError(_describe(exc, self), node=node, hint=self.usage()) from None
        self.check_parameters()

    def check_parameters(self) -> None:
        """Check what the parameter types cannot, before anything runs; raise ComponentError.

        A component whose parameters hold SQL checks it here against the SQL policy
        (``pipeline_lab.sql_policy``), so ``Pipeline.validate()`` reports what a run would refuse.
        """

    # -- what the builder and the graph ask -----------------------------------------------
    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The parameter model as JSON schema (the builder turns it into a form)."""
        return cls.Params.model_json_schema()

    @classmethod
    def usage(cls) -> str:
        """The parameters, required first: ``filter parameters: input: str; condition: str``."""
        required: list[str] = []
        optional: list[str] = []
        for key, info in cls.Params.model_fields.items():
            text = _type_text(info.annotation)
            (required if info.is_required() else optional).append(f"{key}: {text}")
        shown = required + [f"[{o}]" for o in optional[: max(0, 8 - len(required))]]
        more = len(required) + len(optional) - len(shown)
        tail = f"; ... {more} more (see %pipeline components)" if more > 0 else ""
        return f"{cls.name} parameters: " + "; ".join(shown) + tail

    def input_names(self) -> tuple[str, ...]:
        """The nodes this component reads, from its node-input parameters, in order."""
        names: list[str] = []
        for key, info in type(self.params).model_fields.items():
            extra = info.json_schema_extra
            if isinstance(extra, dict) and extra.get(NODE_INPUT):
                value = getattr(self.params, key)
                if isinstance(value, str):
                    names.append(value)
                elif value:
                    names.extend(value)
        return tuple(dict.fromkeys(names))

    # -- running ---------------------------------------------------------------------------
    @property
    def must_collect(self) -> bool:
        """Whether the engine collects this component's output where it is, never fusing it
        into a plan downstream: a sink writes its frame, and a check reads its verdict, in
        :meth:`finish`."""
        return self.category == "sink"

    def build(self, inputs: Mapping[str, Any]) -> pl.LazyFrame:
        """The component's output plan over ``inputs`` (frames of any kind, by node name).

        Apart from a source's, the plan knows its schema (``collect_schema()`` is free).
        """
        # input_names() may over-approximate (the sql component lists every table its query
        # names); the graph passes only the names that are nodes.
        try:
            lazy = {
                n: _without_hidden(to_lazy(inputs[n])) for n in self.input_names() if n in inputs
            }
            if self.category == "source" or not lazy:
                return self.apply(lazy)  # its schema is the data's: polars asks the source
            schema = self.output_schema({n: f.collect_schema() for n, f in lazy.items()})
            if schema is None:
                plan = self.apply(lazy)
                return with_schema(plan, plan.collect_schema())
            checked = _CHECKED.set(True)
            try:
                plan = self.apply(lazy)
            finally:
                _CHECKED.reset(checked)
        except PipelineLabError:
            raise
        except Exception as exc:
            raise self.failure(exc) from exc
        return with_schema(plan, schema)

    def failure(self, exc: Exception) -> ComponentError:
        """``exc``, raised building or collecting this component's plan, as our error: the
        component and node named, polars' words kept, the usual fix as hint."""
        return ComponentError(
            f"{self.name} failed: {type(exc).__name__}: {exc}", node=self.node, hint=_fix_for(exc)
        )

    def output_schema(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> pl.Schema | None:
        """The output plan's schema over inputs of these schemas; ``None`` if it depends on
        the data (then :meth:`build` resolves the real plan).

        It applies the component to empty frames: that checks the parameters against the
        inputs as a run does, reads no data, and costs the same however deep the inputs'
        plans are.
        """
        import polars as pl

        empty = {n: pl.LazyFrame(schema=dict(s)) for n, s in input_schemas.items()}
        return self.apply(empty).collect_schema()

    @abstractmethod
    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        """The output plan; ``inputs`` holds one LazyFrame per input node."""

    def columns(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> list[ColumnLineage]:
        """Where each output column comes from; by default, same-named input columns."""
        import polars as pl

        empty = {n: pl.LazyFrame(schema=dict(s)) for n, s in input_schemas.items()}
        out = visible(self.apply(empty).collect_schema().names())
        lineage = []
        for column in out:
            sources = tuple((n, column) for n, s in input_schemas.items() if column in s)
            lineage.append(ColumnLineage(column, sources, "direct" if sources else "derived"))
        return lineage

    def finish(self, frame: pl.DataFrame) -> Any:
        """The node's output once its plan is collected; sinks write ``frame`` here.

        The engine calls it on every component output it collects, and always collects a
        component that :attr:`must_collect`: a sink writes here, a strict check raises here
        (reading hidden columns of ``frame`` and dropping them). Others return the frame.
        """
        return frame

    def run(self, inputs: Mapping[str, Any]) -> Any:
        """The node's output over ``inputs``, as the engine makes it: built, collected,
        finished (a sink writes, a check raises)."""
        return self.finish(self.build(inputs).collect())

    @abstractmethod
    def to_code(self) -> str:
        """Polars code a user could paste instead of this component."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"


def _without_hidden(frame: pl.LazyFrame) -> pl.LazyFrame:
    """``frame`` without hidden columns: those of an upstream check that was not finished
    (the engine never fuses one, but a plan explained as a whole does)."""
    schema = frame.collect_schema()
    hidden = [n for n in schema.names() if n.startswith(HIDDEN_PREFIX)]
    if not hidden:
        return frame
    kept = {n: t for n, t in schema.items() if n not in hidden}
    return with_schema(frame.drop(hidden), kept)


def _describe(exc: ValidationError, component: Component) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "(parameters)"
        kind = error["type"]
        if kind == "missing":
            problems.append(f"parameter '{where}' is required")
        elif kind == "extra_forbidden":
            fields = list(type(component).Params.model_fields)
            meant = _meant(str(error["loc"][-1]), fields)
            also = f"; did you mean '{meant}'?" if meant else ""
            problems.append(f"unknown parameter '{where}' (known: {', '.join(fields)}{also})")
        else:
            problems.append(
                f"parameter '{where}': {error['msg']} ({_shown(where, error.get('input'))})"
            )
    return f"component '{component.name}': " + "; ".join(problems)


def _fix_for(exc: Exception) -> str | None:
    """The usual fix for a polars error a component's parameters caused, if there is one."""
    text = str(exc)
    if "dtype `str`" in text and ("date" in text or "temporal" in text):
        # A date function on text: CSV dates arrive as text unless they are parsed.
        return (
            "the column holds text, not dates: parse it when reading (pipeline_lab.read(path, "
            "try_parse_dates=True), or try_parse_dates: true in read_csv), or convert it first "
            "with a cast or schema component (column: date)"
        )
    return None


# What people write from other tools, and what it is called here.
_SYNONYMS = {
    "group_by": "by",
    "groupby": "by",
    "partition_by": "by",
    "agg": "aggs",
    "aggregations": "aggs",
    "aggregate": "aggs",
    "where": "condition",
    "filter": "condition",
    "predicate": "condition",
    "cols": "columns",
    "fields": "columns",
    "sql": "query",
    "table_name": "table",
    "file": "path",
    "filename": "path",
}


def _meant(unknown: str, fields: list[str]) -> str | None:
    """The parameter ``unknown`` (another tool's name, or a typo) most likely stands for."""
    from pipeline_lab.suggest import did_you_mean

    synonym = _SYNONYMS.get(unknown.lower())
    if synonym in fields:
        return synonym
    close = did_you_mean(unknown, fields)
    return close.split("'")[1] if close else None


def _shown(where: str, value: Any) -> str:
    """What a refused value may show: nothing of a credential, little of a long text."""
    from pipeline_lab.connectors import looks_secret

    if any(looks_secret(part) for part in where.split(".")):
        return "value not shown: it may be a secret"
    text = repr(value)
    return f"got {text if len(text) <= 80 else text[:77] + '...'}"


def _type_text(kind: Any) -> str:
    """A parameter type as a user reads it: ``list[str] | None``, ``'inner' | 'left'``."""
    import types
    import typing

    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Annotated:
        return _type_text(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_text(a) for a in args)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin is not None:
        return f"{getattr(origin, '__name__', origin)}[{', '.join(_type_text(a) for a in args)}]"
    if kind is type(None):
        return "None"
    return getattr(kind, "__name__", str(kind))
