"""Notebook <-> pipeline: read ``%%pipeline`` cells, parameters, setup and report cells; write them back."""

from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipeline_lab.errors import PipelineDefinitionError, PipelineLabWarning
from pipeline_lab.graph._analysis import PARAMETERS_TAG
from pipeline_lab.graph._header import CELL_MAGIC, cell_source, parse_header
from pipeline_lab.graph._ipynb import (
    CELL_ID,
    METADATA_KEY,
    NotebookFile,
    cell_metadata,
    fresh_id,
    new_cell,
    source_text,
    write_atomically,
)
from pipeline_lab.graph._issue import InvalidPipeline, Issue
from pipeline_lab.graph._node import Node
from pipeline_lab.graph._pipeline import Cell, Pipeline

# Line magics that only matter in a live kernel; a headless run skips them silently.
_SILENT_MAGICS = re.compile(
    r"^%(load_ext|reload_ext|pipeline|matplotlib|config|autoreload|aimport|precision|pprint)\b"
)
_MAGIC_LINE = re.compile(r"^(\s*)(%|!)")


def read_notebook(path: str | Path, *, strict: bool = True) -> Pipeline:
    """Build the pipeline a notebook defines (cell roles: README, "The notebook is the pipeline").

    A cell that cannot be read (a bad ``%%pipeline`` line, YAML that does not parse, a
    syntax error) raises a ``PipelineDefinitionError`` naming every such cell. With
    ``strict=False`` they become issues that the pipeline's :meth:`~Pipeline.validate`
    reports with its other problems, so one bad cell hides nothing. A file that is not a
    notebook raises either way.
    """
    path = Path(path)
    cells = _load_cells(path)
    pipeline = Pipeline(path.stem)
    ordinary: list[Cell] = []
    problems = pipeline.cell_issues
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = source_text(cell)
        if not source.strip():
            continue
        number = index + 1
        where = f"{path.name}, cell {number}"
        cell_id = cell.get("id") if isinstance(cell.get("id"), str) else None
        if PARAMETERS_TAG in cell_metadata(cell).get("tags", []):
            try:
                _read_parameters(pipeline, _strip_magics(source, where))
            except PipelineDefinitionError as exc:
                problems.append(_issue("syntax", exc, number, subject=PARAMETERS_TAG))
        elif source.lstrip().startswith(CELL_MAGIC):
            try:
                node = _read_node(source.lstrip())
            except PipelineDefinitionError as exc:
                name = exc.node or _header_name(source.lstrip())
                problems.append(_issue("bad-cell", exc, number, node=name))
                continue
            position = _position(pipeline, cell, where)
            if node.name in pipeline.nodes:
                pipeline.duplicates.append(node.name)
            pipeline.add(replace(node, cell_id=cell_id, position=position))
            pipeline.node_cells[node.name] = number
        elif source.lstrip().startswith("%%"):
            magic = source.lstrip().split(None, 1)[0]
            _notice(pipeline, f"{where}: skipped in headless runs (cell magic {magic})")
        else:
            code = _strip_magics(source, where, pipeline)
            if not _has_python(source):
                continue
            plain = Cell(code=code, index=index, cell_id=cell_id)
            try:
                plain.analysis  # noqa: B018
            except PipelineDefinitionError as exc:
                problems.append(_issue("syntax", exc, number))
                continue
            ordinary.append(plain)
    if strict and problems:
        raise _unreadable(path, problems)
    # A cell that reads what a report cell made (``fig`` of ``fig = plot(orders)``) is a report too.
    report_names = set(pipeline.nodes)
    for plain in ordinary:
        is_report = bool(plain.analysis.reads & report_names)
        if is_report:
            report_names |= plain.analysis.assigns
        (pipeline.reports if is_report else pipeline.setup).append(plain)
    return pipeline


def _issue(
    code: str,
    error: PipelineDefinitionError,
    cell: int,
    *,
    node: str | None = None,
    subject: str | None = None,
) -> Issue:
    return Issue(code, error.message, node, error.hint, subject=subject, cell=cell)


def _header_name(source: str) -> str | None:
    """The node name of a ``%%pipeline`` line that does not parse, if it has one."""
    words = source.partition("\n")[0][len(CELL_MAGIC) :].split()
    return words[0] if words and words[0].isidentifier() else None


def _unreadable(path: Path, issues: list[Issue]) -> InvalidPipeline:
    """One error for the cells of ``path`` that cannot be read, each with its cell number."""
    if len(issues) == 1:
        (issue,) = issues
        return InvalidPipeline(
            f"{path.name}, cell {issue.cell}: {issue.message}",
            issues,
            node=issue.node,
            hint=issue.hint,
        )
    lines = "\n".join(f"  - {issue}" for issue in issues)
    return InvalidPipeline(
        f"{path.name}: {len(issues)} cells cannot be read:\n{lines}",
        issues,
        hint=f"fix them; 'pipeline-lab validate {path.name}' lists every problem of the pipeline",
    )


def _has_python(source: str) -> bool:
    """Whether a cell holds more than magics and shell escapes (``%load_ext`` alone is no setup)."""
    return any(line.strip() and not _MAGIC_LINE.match(line) for line in source.splitlines())


def notebook_parameters(path: str | Path) -> tuple[dict[str, Any], str | None]:
    """The names and literal defaults of a notebook's ``parameters`` cell, and its code."""
    pipeline = Pipeline(Path(path).stem)
    for index, cell in enumerate(_load_cells(Path(path))):
        if cell.get("cell_type") == "code" and PARAMETERS_TAG in cell_metadata(cell).get(
            "tags", []
        ):
            where = f"{Path(path).name}, cell {index + 1}"
            try:
                _read_parameters(pipeline, _strip_magics(source_text(cell), where))
            except PipelineDefinitionError as exc:
                raise PipelineDefinitionError(f"{where}: {exc.message}", hint=exc.hint) from None
    return pipeline.params, pipeline.param_code


def _load_cells(path: Path) -> list[dict[str, Any]]:
    return NotebookFile.load(path).cells


def _position(pipeline: Pipeline, cell: dict[str, Any], where: str) -> tuple[float, float] | None:
    """The node's position on the builder's canvas, from ``metadata.pipeline_lab``."""
    state = cell_metadata(cell).get(METADATA_KEY)
    value = state.get("position") if isinstance(state, dict) else None
    if value is None:
        return None
    ok = isinstance(value, list) and len(value) == 2
    if ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return (float(value[0]), float(value[1]))
    # Builder state must never stop a run: the builder lays the node out again.
    _notice(
        pipeline,
        f"{where}: ignored metadata.{METADATA_KEY}.position {json.dumps(value)} (not [x, y])",
    )
    return None


def _notice(pipeline: Pipeline, message: str) -> None:
    pipeline.notices.append(message)
    warnings.warn(message, PipelineLabWarning, stacklevel=3)


def _strip_magics(source: str, where: str, pipeline: Pipeline | None = None) -> str:
    """Replace IPython line magics and shell escapes by ``pass`` (line numbers stay right)."""
    lines = source.splitlines()
    try:
        ast.parse(source)
    except SyntaxError:
        pass
    else:  # plain Python: a line starting with "%" or "!" is inside a string or an expression
        return "\n".join(lines)
    for i, line in enumerate(lines):
        match = _MAGIC_LINE.match(line)
        if not match:
            continue
        if not _SILENT_MAGICS.match(line.strip()) and pipeline is not None:
            _notice(
                pipeline, f"{where}: skipped '{line.strip()}' in headless runs (IPython syntax)"
            )
        lines[i] = f"{match.group(1)}pass"
    return "\n".join(lines)


def _read_parameters(pipeline: Pipeline, code: str) -> None:
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise PipelineDefinitionError(
            f"syntax error in the parameters cell, line {exc.lineno}: {exc.msg}",
            hint="the parameters cell holds plain assignments, e.g. orders_csv = 'data/orders.csv'",
        ) from None
    pipeline.param_code = code
    for stmt in tree.body:
        for name, value in _parameters_bound(stmt):
            try:  # a literal is the default shown; anything else is computed when the cell runs
                pipeline.params[name] = ast.literal_eval(value) if value else None
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                pipeline.params[name] = None


def _parameters_bound(stmt: ast.stmt) -> list[tuple[str, ast.expr | None]]:
    """The names a parameters-cell statement binds, each with its literal value if it has one.

    ``n = 2`` binds n to 2; ``a, b = n, 10`` and ``first, *rest = xs`` bind their names to
    computed values, as does ``n += 1`` and a walrus (``if (m := n * 3) > 0:``). Imports,
    functions and classes are the cell's tools, not parameters.
    """
    bound: list[tuple[str, ast.expr | None]] = []
    if (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
    ):
        return [(stmt.targets[0].id, stmt.value)]
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return [(stmt.target.id, stmt.value)]
    if isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        for target in targets:
            bound += [(name, None) for name in _target_names(target)]
    if not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        walrus = [n.target for n in ast.walk(stmt) if isinstance(n, ast.NamedExpr)]
        bound += [(t.id, None) for t in walrus]
    return bound


def _target_names(target: ast.expr) -> list[str]:
    """The names an assignment target binds (``a``, ``a, *b``), not ``x[0]`` nor ``x.y``."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [name for element in target.elts for name in _target_names(element)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _read_node(source: str) -> Node:
    header, _, body = source.partition("\n")
    return parse_header(header[len(CELL_MAGIC) :], body).node


def write_notebook(pipeline: Pipeline, path: str | Path) -> Path:
    """Write ``pipeline`` as a new notebook that :func:`read_notebook` reads back the same.

    Refuses to replace an existing file: :meth:`Pipeline.to_notebook` updates one in place.
    Cells keep the ids of the nodes and cells that have one (a pipeline read from another
    notebook); node positions go to each cell's ``metadata.pipeline_lab``.
    """
    path = Path(path)
    refuse_function_nodes(pipeline)
    if path.exists():
        raise _exists(path)
    taken: set[str] = set()

    def cell_id(wanted: str | None) -> str:
        chosen = wanted if wanted and CELL_ID.match(wanted) and wanted not in taken else None
        chosen = chosen or fresh_id(taken)
        taken.add(chosen)
        return chosen

    title = (
        f"# {pipeline.name}\n\nA Pipeline Lab pipeline: run it with `pipeline-lab run {path.name}`."
    )
    cells = [new_cell(title, cell_id(None), "markdown")]
    param_code = pipeline.param_code
    if param_code is None and pipeline.params:
        param_code = "\n".join(f"{k} = {v!r}" for k, v in pipeline.params.items())
    if param_code is not None:
        cells.append(new_cell(param_code, cell_id(None), metadata={"tags": [PARAMETERS_TAG]}))
    cells.append(new_cell("%load_ext pipeline_lab", cell_id(None)))
    cells += [new_cell(cell.code, cell_id(cell.cell_id)) for cell in pipeline.setup]
    for name in pipeline.order():
        node = pipeline.nodes[name]
        state = {"position": list(node.position)} if node.position is not None else None
        metadata = {METADATA_KEY: state}
        cells.append(new_cell(cell_source(node), cell_id(node.cell_id), metadata=metadata))
    cells += [new_cell(cell.code, cell_id(cell.cell_id)) for cell in pipeline.reports]
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    try:
        write_atomically(
            path, json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", create=True
        )
    except FileExistsError:
        raise _exists(path) from None
    return path


def refuse_function_nodes(pipeline: Pipeline) -> None:
    """A notebook holds cells: a node that is a Python function cannot be written to one."""
    for node in pipeline.nodes.values():
        if node.func is not None:
            raise PipelineDefinitionError(
                "a function node cannot be written to a notebook",
                node=node.name,
                hint="define the node as a %%pipeline cell instead",
            )


def _exists(path: Path) -> PipelineDefinitionError:
    return PipelineDefinitionError(
        f"'{path}' already exists; write_notebook only creates new notebooks",
        hint="update it in place with pipeline.to_notebook(path), which patches the cells "
        "of its nodes by id and keeps markdown, outputs and order",
    )
