"""The globals every node of a run starts from: parameters, then what the setup cells define.

Headless, they come from code (the parameters cell, then the setup cells), so a
:class:`Namespace` crosses a process boundary as that code and is rebuilt once per run in the
worker that receives it. In a kernel they are the kernel's live globals, which cannot leave
the kernel's process.
"""

from __future__ import annotations

import ast
import builtins
import copy
import linecache
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline_lab.engine._params import Params
from pipeline_lab.errors import PipelineLabError
from pipeline_lab.graph import Cell, Node, Pipeline


@dataclass(frozen=True)
class Recipe:
    """How to build a run's namespace from code (what a worker process needs)."""

    run_id: str
    param_code: str | None
    params: Mapping[str, Any]
    """Parameter values after the run's overrides."""
    setup: tuple[Cell, ...]
    overrides: Mapping[str, Any]


class Namespace:
    """A run's base globals (``values``) and its parameter values (``params``)."""

    __slots__ = ("_recipe", "params", "values")

    def __init__(
        self, values: dict[str, Any], params: Mapping[str, Any], recipe: Recipe | None = None
    ) -> None:
        self.values = values
        self.params = params
        self._recipe = recipe

    def parameters_of(self, node: Node) -> dict[str, Any]:
        """The parameters a function node takes by name."""
        wanted = node.candidate_inputs()
        return {name: self.values[name] for name in self.params if name in wanted}

    def __reduce__(self) -> tuple[Any, ...]:
        if self._recipe is None:
            raise PipelineLabError(
                "this run's nodes use the kernel's variables, which cannot leave the kernel's "
                "process",
                hint="run it with executor='threads' or 'sequential' in the kernel, or run the "
                "saved notebook headless (pipeline-lab run NOTEBOOK --executor ...)",
            )
        return (_rebuilt, (self._recipe,))


def kernel_namespace(
    pipeline: Pipeline, globals_: Mapping[str, Any], overrides: Mapping[str, Any]
) -> Namespace:
    """The kernel's globals, with the pipeline's parameters (overrides win)."""
    namespace = dict(globals_)
    values = {name: namespace.get(name, default) for name, default in pipeline.params.items()}
    values.update(overrides)
    namespace.update(values)
    namespace["params"] = Params(values)
    return Namespace(namespace, values)


def headless_namespace(pipeline: Pipeline, overrides: Mapping[str, Any], run_id: str) -> Namespace:
    """Run the parameters cell (the setup cells run later: :func:`run_setup`)."""
    __tracebackhide__ = True
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    overrides = {name: _own_copy(value) for name, value in overrides.items()}
    if pipeline.param_code:
        run_parameters(pipeline.param_code, namespace, overrides)
    values = {name: namespace.get(name, default) for name, default in pipeline.params.items()}
    values.update(overrides)
    namespace.update(values)
    namespace["params"] = Params(values)
    recipe = Recipe(
        run_id, pipeline.param_code, dict(values), tuple(pipeline.setup), dict(overrides)
    )
    return Namespace(namespace, values, recipe)


def run_setup(pipeline: Pipeline, namespace: Namespace) -> None:
    """The setup cells, in notebook order (headless runs only: a kernel already ran them)."""
    __tracebackhide__ = True
    for cell in pipeline.setup:
        exec_cell(cell, namespace.values, f"setup cell {cell.number}")


def run_parameters(code: str, namespace: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    """Run the parameters cell with ``overrides`` in place.

    A statement that only assigns overridden names is skipped (the override wins); every other
    statement runs, so a value derived from an overridden one (``out = f"out/{day}.csv"``)
    follows it instead of keeping the default's (papermill's trap: it appends the overrides
    after the cell, too late for what the cell derived).
    """
    __tracebackhide__ = True
    namespace.update(overrides)
    exec_cell(
        Cell(code, index=-1),
        namespace,
        "parameters cell",
        skip=lambda stmt: _assigns_only(stmt, overrides),
    )
    namespace.update(overrides)  # also over a name assigned with others (``a, b = ...``)


def _own_copy(value: Any) -> Any:
    """The run's own copy of an override, which the parameters cell or a node may change in
    place (``items.append(...)``) without touching the caller's object or the next run's; a
    value that cannot be copied is used as given."""
    try:
        return copy.deepcopy(value)
    except Exception:  # a handle, a lock, a module: nothing to protect by copying
        return value


def _assigns_only(stmt: ast.stmt, names: Mapping[str, Any]) -> bool:
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        targets = [stmt.target]
    else:
        return False
    return all(isinstance(t, ast.Name) and t.id in names for t in targets)


def exec_cell(
    cell: Cell,
    namespace: dict[str, Any],
    label: str,
    *,
    skip: Callable[[ast.stmt], bool] | None = None,
) -> None:
    __tracebackhide__ = True
    filename = cell.filename
    linecache.cache[filename] = (len(cell.code), None, cell.code.splitlines(True), filename)
    code: Any = cell.code
    if skip is not None:
        tree = ast.parse(cell.code, filename)
        tree.body = [stmt for stmt in tree.body if not skip(stmt)]
        code = tree
    try:
        exec(compile(code, filename, "exec"), namespace)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        exc._cell = filename  # type: ignore[attr-defined]
        if hasattr(exc, "add_note"):  # Python 3.11+
            exc.add_note(f"(in the {label})")
        raise


# A worker rebuilds a run's namespace once and keeps the last few (one per recent run).
_REBUILT: OrderedDict[str, Namespace] = OrderedDict()
_REBUILT_LOCK = threading.Lock()
_KEEP = 4


def _rebuilt(recipe: Recipe) -> Namespace:
    with _REBUILT_LOCK:
        cached = _REBUILT.get(recipe.run_id)
        if cached is not None:
            return cached
        namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        if recipe.param_code:
            run_parameters(recipe.param_code, namespace, recipe.overrides)
        namespace.update(recipe.params)
        namespace["params"] = Params(recipe.params)
        for cell in recipe.setup:
            exec_cell(cell, namespace, f"setup cell {cell.number}")
        rebuilt = Namespace(namespace, dict(recipe.params), recipe)
        _REBUILT[recipe.run_id] = rebuilt
        while len(_REBUILT) > _KEEP:
            _REBUILT.popitem(last=False)
        return rebuilt
