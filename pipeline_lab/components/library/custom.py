"""Custom transforms: ``@pipeline_lab.transform`` functions, and the ``python`` component.

A custom transform is a Python function registered by the user's session or package (a
decorator runs on code the user wrote), never code read from a string. Its first positional
parameters are its input frames; its keyword parameters, with their type hints and defaults,
become the component's parameter model, so the builder's form and ``pipeline.validate()``
check them like any other component's.

A function that takes eager frames (polars or pandas ``DataFrame``) needs its inputs
materialized: the upstream plan is collected before the call, so a custom transform is a
fusion boundary of the engine's lazy chains. Annotate a parameter as ``pl.LazyFrame`` to
receive the plan itself and keep the chain fused.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, overload

import pydantic
from pydantic import Field

from pipeline_lab.components import COMPONENTS, component, component_names
from pipeline_lab.components._base import Component, ComponentError, ComponentParams, NodeInput
from pipeline_lab.errors import PipelineDefinitionError, PipelineLabError
from pipeline_lab.frames import to_lazy, to_pandas, to_polars
from pipeline_lab.suggest import did_you_mean

if TYPE_CHECKING:
    import polars as pl

FrameKind = Literal["polars", "lazy", "pandas"]
F = TypeVar("F", bound=Callable[..., Any])
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


class FunctionTransform(Component[ComponentParams]):
    """A component made by :func:`transform`; subclasses carry the function and its signature."""

    category = "transform"
    function: ClassVar[Callable[..., Any]]
    frame_kinds: ClassVar[tuple[FrameKind, ...]]  # one per fixed frame parameter
    variadic: ClassVar[FrameKind | None] = None  # the kind of ``*frames``, if any
    keywords: ClassVar[tuple[str, ...]]

    @classmethod
    def many(cls) -> bool:
        """Whether the function takes several frames (parameter ``inputs``, else ``input``)."""
        return len(cls.frame_kinds) != 1 or cls.variadic is not None

    def frame_names(self) -> list[str]:
        params = self.params
        return list(params.inputs) if self.many() else [params.input]  # type: ignore[attr-defined]

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        names = self.frame_names()
        kinds = [*self.frame_kinds, *[self.variadic] * (len(names) - len(self.frame_kinds))]
        frames = [_as_kind(inputs[n], k) for n, k in zip(names, kinds, strict=True)]  # type: ignore[arg-type]
        kwargs = {k: getattr(self.params, k) for k in self.keywords}
        result = type(self).function(*frames, **kwargs)
        try:
            return to_lazy(result)  # pandas and Arrow through Arrow; a LazyFrame as it is
        except PipelineLabError:
            raise ComponentError(
                f"custom transform '{self.name}' returned a {type(result).__name__}, not a frame",
                node=self.node,
                hint="return a polars or pandas DataFrame (or a polars LazyFrame)",
            ) from None

    def output_schema(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> pl.Schema | None:
        return None  # the user's function runs once, on the real inputs, never on empty ones

    def columns(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> list[Any]:
        try:  # the function runs on empty frames; lineage is best effort
            return super().columns(input_schemas)
        except Exception:
            return []

    def to_code(self) -> str:
        """The call, e.g. ``from shop.cleaning import scale`` then ``scale(orders, by=2.0)``."""
        func = type(self).function
        names = self.frame_names()
        options = [
            f"{k}={getattr(self.params, k)!r}"
            for k in self.keywords
            if k in self.params.model_fields_set
        ]
        call = f"{func.__qualname__}({', '.join([*names, *options])})"
        module = getattr(func, "__module__", None) or "__main__"
        if module == "__main__" or "<locals>" in func.__qualname__:
            return call  # defined in the notebook: its name is in the kernel
        return f"from {module} import {func.__qualname__.split('.')[0]}\n{call}"


def _as_kind(frame: pl.LazyFrame, kind: FrameKind) -> Any:
    if kind == "lazy":
        return frame
    return to_pandas(frame) if kind == "pandas" else to_polars(frame)


def _frame_kind(annotation: Any) -> FrameKind:
    """pandas for a pandas annotation, lazy for ``pl.LazyFrame``, else an eager polars frame."""
    if isinstance(annotation, str):
        text = annotation
    else:
        text = f"{getattr(annotation, '__module__', '')}.{getattr(annotation, '__qualname__', '')}"
    if text.startswith(("pandas", "pd.")):
        return "pandas"
    return "lazy" if "LazyFrame" in text else "polars"


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func)
    except Exception:  # a hint names something not importable here: fall back to the raw text
        return {}


def _make(func: Callable[..., Any], name: str, description: str | None) -> type[FunctionTransform]:
    """The component class of ``func``: frame parameters first, then typed keyword parameters."""
    hints = _hints(func)
    kinds: list[FrameKind] = []
    variadic: FrameKind | None = None
    fields: dict[str, Any] = {}
    where = f"@transform {func.__qualname__}"
    for param in inspect.signature(func).parameters.values():
        hint = hints.get(param.name, param.annotation)
        positional = param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD)
        if positional and param.default is param.empty and not fields:
            kinds.append(_frame_kind(hint))
        elif param.kind is param.VAR_POSITIONAL:
            variadic = _frame_kind(hint)
        elif param.kind is param.VAR_KEYWORD:
            raise TypeError(
                f"{where}: **{param.name} cannot become typed parameters; name each one"
            )
        elif param.name in ("input", "inputs"):
            raise TypeError(f"{where}: '{param.name}' names the input nodes; rename that parameter")
        else:
            if hint is param.empty or isinstance(hint, str):  # none, or not resolvable here
                hint = Any if param.default in (param.empty, None) else type(param.default)
            default = ... if param.default is param.empty else param.default
            fields[param.name] = (hint, default)
    if not kinds and variadic is None:
        raise TypeError(f"{where}: a transform takes its input frame(s) as first parameter(s)")
    count = len(kinds)
    if count == 1 and variadic is None:
        frames: dict[str, Any] = {"input": (str, NodeInput())}
    else:
        bounds = {"min_length": max(count, 1)} | ({} if variadic else {"max_length": count})
        frames = {"inputs": (list[str], NodeInput("the nodes to read, in order", **bounds))}
    fields = frames | fields  # the input node(s) first, as in every component's form
    title = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]", name) if part)
    model = pydantic.create_model(f"{title}Params", __base__=ComponentParams, **fields)
    doc = inspect.getdoc(func) or ""
    attributes = {
        "name": name,
        "description": description or (doc.splitlines()[0] if doc else f"custom transform {name}"),
        "Params": model,
        "function": staticmethod(func),
        "frame_kinds": tuple(kinds),
        "variadic": variadic,
        "keywords": tuple(k for k in fields if k not in ("input", "inputs")),
        "__module__": getattr(func, "__module__", __name__),
        "__doc__": doc or None,
    }
    return type(f"{title}Transform", (FunctionTransform,), attributes)


@overload
def transform(func: F, /) -> F: ...


@overload
def transform(*, name: str | None = None, description: str | None = None) -> Callable[[F], F]: ...


def transform(
    func: F | None = None, /, *, name: str | None = None, description: str | None = None
) -> F | Callable[[F], F]:
    """Register a function of frames as a component (it stays a plain function too).

    Parameters
    ----------
    name
        The component's name (default: the function's name).
    description
        One line for the palette (default: the first line of the docstring).

    Examples
    --------
    >>> @pipeline_lab.transform
    ... def top_customers(orders: pl.DataFrame, *, n: int = 10) -> pl.DataFrame:
    ...     '''The n customers who spent the most.'''
    ...     return orders.group_by("customer").agg(pl.sum("amount")).top_k(n, by="amount")

    Then ``%%pipeline best --component top_customers`` with ``input: orders`` and ``n: 5``.
    """

    def register(f: F) -> F:
        label: str = name or str(getattr(f, "__name__", ""))
        if not _NAME.fullmatch(label):
            raise TypeError(f"@transform: {label!r} is not a usable component name; pass name=...")
        component_names()  # load the built-ins first: a custom transform may not shadow one
        if label in COMPONENTS and not issubclass(COMPONENTS.get(label), FunctionTransform):
            raise PipelineDefinitionError(
                f"@transform: a component named '{label}' already exists",
                hint=f"give the transform another name: @transform(name='my_{label}')",
            )
        COMPONENTS.register(label, _make(f, label, description))  # a re-run cell replaces it
        return f

    return register(func) if func is not None else register


def custom_transforms() -> list[str]:
    """The names of the registered custom transforms."""
    return [n for n in component_names() if issubclass(COMPONENTS.get(n), FunctionTransform)]


class PythonParams(ComponentParams):
    input: str | None = NodeInput(default=None)
    inputs: list[str] | None = NodeInput("the nodes to read, in order", default=None)
    function: str = Field(description="the registered name of a @pipeline_lab.transform function")
    params: dict[str, Any] = Field(default_factory=dict, description="its keyword arguments")


@component
class Python(Component[PythonParams]):
    """Run a registered custom transform by name (never code from a string)."""

    name = "python"
    category = "transform"
    description = "Run a registered custom transform (@pipeline_lab.transform)"
    Params = PythonParams

    def __init__(self, params: Mapping[str, Any] | PythonParams, *, node: str | None = None):
        super().__init__(params, node=node)
        p = self.params
        known = custom_transforms()
        if p.function not in known:
            close = did_you_mean(p.function, known)
            raise ComponentError(
                f"python: no custom transform named '{p.function}' "
                f"(registered: {', '.join(known) or 'none yet'})",
                node=node,
                hint=close or "decorate a function with @pipeline_lab.transform, then name it here",
            )
        cls: type[FunctionTransform] = COMPONENTS.get(p.function)  # type: ignore[assignment]
        if (p.input is None) == (p.inputs is None):
            raise ComponentError(
                "python: give either 'input' (one node) or 'inputs' (a list of nodes)",
                node=node,
                hint=cls.usage(),
            )
        clash = {"input", "inputs"} & set(p.params)
        if clash:
            raise ComponentError(
                f"python: put {', '.join(sorted(clash))} beside 'params', not inside it", node=node
            )
        frames = [p.input] if p.input is not None else list(p.inputs or ())
        if not cls.many() and len(frames) == 1:
            call: dict[str, Any] = {"input": frames[0], **p.params}
        else:
            call = {"inputs": frames, **p.params}
        try:
            self.target = cls(call, node=node)
        except ComponentError as exc:
            raise ComponentError(
                f"python: function '{p.function}' rejects its arguments: {exc.message}",
                node=node,
                hint=exc.hint,
            ) from None

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        return self.target.apply(inputs)

    def output_schema(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> pl.Schema | None:
        return self.target.output_schema(input_schemas)

    def columns(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> list[Any]:
        return self.target.columns(input_schemas)

    def to_code(self) -> str:
        return self.target.to_code()
