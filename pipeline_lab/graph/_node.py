"""A pipeline node: one cell (code or component) with its run policy."""

from __future__ import annotations

import inspect
import keyword
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pipeline_lab.errors import PipelineDefinitionError, PipelineLabError
from pipeline_lab.graph._analysis import CellAnalysis, CompiledCell, analyze_cell, compile_cell
from pipeline_lab.graph._extensions import component_catalog
from pipeline_lab.graph._frozen import FrozenMapping

CODE_FIRST_LINE = 2
"""A node's code starts on line 2 of its cell, under the ``%%pipeline`` line."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt k waits up to ``min(cap, delay*factor**(k-1))``."""

    retries: int = 0
    delay: float = 1.0
    factor: float = 2.0
    cap: float = 60.0


def policy_problems(retry: RetryPolicy, timeout: float | None) -> list[tuple[str, str]]:
    """What is wrong with a node's retry policy and timeout: ``(message, hint)`` pairs, in
    the words of the ``%%pipeline`` options (a run would fail on these, or wait forever)."""
    problems: list[tuple[str, str]] = []
    retries = retry.retries
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        problems.append(
            (
                f"--retries must be >= 0 (a whole number), got {retries!r}",
                "0 runs the node once; N retries a failed node up to N times",
            )
        )
    checks: list[tuple[str, float | None, float, bool, str]] = [
        ("--retry-delay", retry.delay, 0.0, False, "e.g. --retry-delay 1 (seconds)"),
        (
            "--retry-backoff",
            retry.factor,
            1.0,
            False,
            "1 waits the same before every retry; 2 doubles the wait each time",
        ),
        ("--retry-max-delay", retry.cap, 0.0, False, "e.g. --retry-max-delay 60 (seconds)"),
    ]
    if timeout is not None:
        checks.append(
            ("--timeout", timeout, 0.0, True, "e.g. --timeout 600; leave it out for no time limit")
        )
    for option, value, low, strict, hint in checks:
        problem = _number_problem(option, value, low, strict=strict)
        if problem:
            problems.append((problem, hint))
    return problems


def _number_problem(option: str, value: object, low: float, *, strict: bool) -> str | None:
    bound = f"{'>' if strict else '>='} {low:g}"
    unit = "" if option == "--retry-backoff" else " seconds"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return f"{option} must be a finite number {bound}{unit}, got {value}"
    if value < low or (strict and value == low):
        return f"{option} must be {bound}{unit}, got {value:g}"
    return None


@dataclass(frozen=True)
class Node:
    """One node: ``code`` (a cell body), ``component`` (a library component) or ``func``.

    ``inputs`` overrides the inputs found in the code (``--inputs``); ``None`` means "infer".
    A node is a value: equal to a node with equal fields and hashable (``params`` is kept as
    a read-only :class:`FrozenMapping`; a function node compares its ``func`` by identity).
    """

    name: str
    code: str | None = None
    component: str | None = None
    params: Mapping[str, Any] = field(default_factory=FrozenMapping)
    inputs: tuple[str, ...] | None = None
    checks: tuple[str, ...] = ()
    retry: RetryPolicy = RetryPolicy()
    timeout: float | None = None
    cache: bool = False
    tags: tuple[str, ...] = ()
    position: tuple[float, float] | None = None
    """Where the visual builder draws the node; kept in its cell's ``metadata.pipeline_lab``."""
    cell_id: str | None = None
    """The id of the notebook cell that defines the node (nbformat 4.5+), if it has one."""
    func: Callable[..., Any] | None = None

    def __post_init__(self) -> None:
        # Lists where tuples belong (a caller's ``inputs=["a"]``) would make the node unhashable.
        if not isinstance(self.params, FrozenMapping):
            object.__setattr__(self, "params", FrozenMapping(self.params))
        for name in ("inputs", "checks", "tags"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, (value,))
            elif value is not None and not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        if self.position is not None and not (
            isinstance(self.position, tuple) and all(type(v) is float for v in self.position)
        ):
            object.__setattr__(self, "position", _position(self.position, self.name))

    def __getstate__(self) -> dict[str, Any]:
        # Without what it computed: compiled code cannot be pickled, and a task that carries
        # the node to another process recomputes it there.
        return {k: v for k, v in self.__dict__.items() if k not in _CACHED}

    @classmethod
    def from_function(
        cls, func: Callable[..., Any], name: str | None = None, **options: Any
    ) -> Node:
        """A node that calls ``func``; its inputs are the function's parameter names."""
        return cls(name=name or func.__name__, func=func, **options)

    @property
    def kind(self) -> str:
        if self.func is not None:
            return "function"
        return "component" if self.component else "code"

    @property
    def filename(self) -> str:
        """The pseudo file name tracebacks show for this node's code."""
        return f"<pipeline node {self.name}>"

    @property
    def is_valid_name(self) -> bool:
        return self.name.isidentifier() and not keyword.iskeyword(self.name)

    @cached_property
    def analysis(self) -> CellAnalysis:
        """What the node reads and binds (raises ``PipelineDefinitionError`` on bad syntax)."""
        if self.func is not None:
            names = frozenset(inspect.signature(self.func).parameters)
            return CellAnalysis(names, frozenset(), frozenset(), True)
        if self.code is None:
            names = frozenset(self.inputs or ())
            return CellAnalysis(names, frozenset(), frozenset(), True)
        return analyze_cell(
            self.code, where=f"node '{self.name}'", node=self.name, first_line=CODE_FIRST_LINE
        )

    @cached_property
    def compiled(self) -> CompiledCell:
        return compile_cell(
            self.code or "", filename=self.filename, node=self.name, first_line=CODE_FIRST_LINE
        )

    @property
    def output_name(self) -> str | None:
        """``name`` if the cell assigns it (its output is that variable), else ``None``."""
        return self.name if self.name in self.analysis.assigns else None

    def candidate_inputs(self) -> frozenset[str]:
        """Names this node may take as inputs: explicit ``inputs`` or the free names it reads."""
        if self.inputs is not None:
            return frozenset(self.inputs)
        if self.component is not None:
            try:
                return frozenset(component_catalog().input_names(self))
            except PipelineLabError:
                # Not (yet) a known component, e.g. a custom transform that a setup cell
                # registers: its usual input parameters still give the graph its edges.
                # validate() reports the component if it stays unknown.
                return frozenset(_declared_inputs(self.params))
        return self.analysis.reads

    def sql_parameters(self) -> frozenset[str]:
        """Pipeline parameters a component's SQL uses as ``:name``."""
        if self.component is None:
            return frozenset()
        return component_catalog().sql_parameters(self)

    @cached_property
    def instance(self) -> Any:
        """The component this node runs, with validated parameters (from the component catalog)."""
        return component_catalog().instantiate(self)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.code is not None:
            data["code"] = self.code
        if self.component is not None:
            data["component"] = self.component
            data["params"] = dict(self.params)
        if self.inputs is not None:
            data["inputs"] = list(self.inputs)
        if self.checks:
            data["checks"] = list(self.checks)
        if self.retry != RetryPolicy():
            data["retry"] = vars(self.retry).copy()
        for key in ("timeout", "position"):
            value = getattr(self, key)
            if value is not None:
                data[key] = list(value) if key == "position" else value
        if self.cache:
            data["cache"] = True
        if self.tags:
            data["tags"] = list(self.tags)
        if self.cell_id is not None:
            data["cell_id"] = self.cell_id
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Node:
        inputs = data.get("inputs")
        position = data.get("position")
        return cls(
            name=data["name"],
            code=data.get("code"),
            component=data.get("component"),
            params=data.get("params") or {},
            inputs=tuple(inputs) if inputs is not None else None,
            checks=tuple(data.get("checks") or ()),
            retry=RetryPolicy(**data.get("retry", {})),
            timeout=data.get("timeout"),
            cache=bool(data.get("cache", False)),
            tags=tuple(data.get("tags") or ()),
            position=_position(position, data["name"]) if position else None,
            cell_id=data.get("cell_id"),
        )


_CACHED = ("analysis", "compiled", "instance")


def _position(value: Any, node: str) -> tuple[float, float]:
    """``value`` as an ``(x, y)`` pair of floats (the builder's canvas coordinates)."""
    try:
        x, y = value
        return (float(x), float(y))
    except (TypeError, ValueError):
        raise PipelineDefinitionError(
            f"position must be a pair of numbers (x, y), got {value!r}", node=node
        ) from None


_INPUT_PARAMS = ("input", "inputs", "left", "right")


def _declared_inputs(params: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    for key in _INPUT_PARAMS:
        value = params.get(key)
        if isinstance(value, str):
            names.append(value)
        elif isinstance(value, list):
            names.extend(v for v in value if isinstance(v, str))
    return names
