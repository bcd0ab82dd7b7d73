"""Notebook <-> pipeline: read ``%%pipeline`` cells, parameters, setup and report cells; write them back."""

from __future__ import annotations

import ast
import json
import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

from pipeline_lab.errors import PipelineDefinitionError, PipelineLabWarning
from pipeline_lab.graph._header import CELL_MAGIC, cell_source, parse_header
from pipeline_lab.graph._pipeline import Cell, Pipeline

PARAMETERS_TAG = "parameters"
# Line magics that only matter in a live kernel; a headless run skips them silently.
_SILENT_MAGICS = re.compile(
    r"^%(load_ext|reload_ext|pipeline|matplotlib|config|autoreload|aimport|precision|pprint)\b"
)
_MAGIC_LINE = re.compile(r"^(\s*)(%|!)")


def read_notebook(path: str | Path) -> Pipeline:
    """Build the pipeline a notebook defines (see DESIGN.md §2 for the cell roles)."""
    path = Path(path)
    cells = _load_cells(path)
    pipeline = Pipeline(path.stem)
    ordinary: list[Cell] = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        if not source.strip():
            continue
        where = f"{path.name}, cell {index + 1}"
        if PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            _read_parameters(pipeline, _strip_magics(source, where), where)
        elif source.lstrip().startswith(CELL_MAGIC):
            _read_node(pipeline, source.lstrip(), where)
        elif source.lstrip().startswith("%%"):
            magic = source.lstrip().split(None, 1)[0]
            _notice(pipeline, f"{where}: skipped in headless runs (cell magic {magic})")
        else:
            code = _strip_magics(source, where, pipeline)
            if _has_python(source):
                ordinary.append(Cell(code=code, index=index))
    # A cell that reads what a report cell made (``fig`` of ``fig = plot(orders)``) is a report too.
    report_names = set(pipeline.nodes)
    for plain in ordinary:
        try:
            is_report = bool(plain.analysis.reads & report_names)
        except PipelineDefinitionError as exc:
            raise PipelineDefinitionError(f"{path.name}: {exc.message}", hint=exc.hint) from None
        if is_report:
            report_names |= plain.analysis.assigns
        (pipeline.reports if is_report else pipeline.setup).append(plain)
    return pipeline


def _has_python(source: str) -> bool:
    """Whether a cell holds more than magics and shell escapes (``%load_ext`` alone is no setup)."""
    return any(line.strip() and not _MAGIC_LINE.match(line) for line in source.splitlines())


def notebook_parameters(path: str | Path) -> tuple[dict[str, Any], str | None]:
    """The names and literal defaults of a notebook's ``parameters`` cell, and its code."""
    pipeline = Pipeline(Path(path).stem)
    for index, cell in enumerate(_load_cells(Path(path))):
        if cell.get("cell_type") == "code" and PARAMETERS_TAG in cell.get("metadata", {}).get(
            "tags", []
        ):
            where = f"{Path(path).name}, cell {index + 1}"
            _read_parameters(pipeline, _strip_magics(_source(cell), where), where)
    return pipeline.params, pipeline.param_code


def _load_cells(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise PipelineDefinitionError(
            f"notebook '{path}' does not exist",
            hint="check the path (it is relative to the current directory)",
        )
    if path.is_dir():
        raise PipelineDefinitionError(
            f"'{path}' is a directory, not a notebook", hint="pass a .ipynb file"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PipelineDefinitionError(
            f"'{path}' is not a Jupyter notebook (not valid notebook JSON: {exc})",
            hint="pass a .ipynb file saved by Jupyter",
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise PipelineDefinitionError(
            f"'{path}' is not a Jupyter notebook (no 'cells' list)",
            hint="pass a .ipynb file saved by Jupyter",
        )
    if data.get("nbformat", 4) < 4:
        raise PipelineDefinitionError(
            f"'{path}' is an nbformat {data.get('nbformat')} notebook; version 4 is needed",
            hint=f"convert it: jupyter nbconvert --to notebook --nbformat 4 {path}",
        )
    return data["cells"]


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


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


def _read_parameters(pipeline: Pipeline, code: str, where: str) -> None:
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise PipelineDefinitionError(
            f"syntax error in the parameters cell ({where}), line {exc.lineno}: {exc.msg}"
        ) from None
    pipeline.param_code = code
    for stmt in tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
        value = getattr(stmt, "value", None)
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    pipeline.params[target.id] = ast.literal_eval(value) if value else None
                except ValueError:
                    pipeline.params[target.id] = None  # computed when the cell runs


def _read_node(pipeline: Pipeline, source: str, where: str) -> None:
    header, _, body = source.partition("\n")
    line = header[len(CELL_MAGIC) :]
    try:
        node = parse_header(line, body).node
    except PipelineDefinitionError as exc:
        raise PipelineDefinitionError(
            f"{where}: {exc.message}", node=exc.node, hint=exc.hint
        ) from None
    if node.name in pipeline.nodes:
        pipeline.duplicates.append(node.name)
    pipeline.add(node)


def write_notebook(pipeline: Pipeline, path: str | Path) -> Path:
    """Write ``pipeline`` as a notebook that :func:`read_notebook` reads back the same."""
    path = Path(path)
    cells = [
        _markdown(
            f"# {pipeline.name}\n\nA Pipeline Lab pipeline: run it with "
            f"`pipeline-lab run {path.name}`."
        )
    ]
    param_code = pipeline.param_code
    if param_code is None and pipeline.params:
        param_code = "\n".join(f"{k} = {v!r}" for k, v in pipeline.params.items())
    if param_code is not None:
        cells.append(_code(param_code, tags=[PARAMETERS_TAG]))
    cells.append(_code("%load_ext pipeline_lab"))
    cells += [_code(cell.code) for cell in pipeline.setup]
    for name in pipeline.order():
        node = pipeline.nodes[name]
        if node.func is not None:
            raise PipelineDefinitionError(
                "a function node cannot be written to a notebook",
                node=name,
                hint="define the node as a %%pipeline cell instead",
            )
        cells.append(_code(cell_source(node)))
    cells += [_code(cell.code) for cell in pipeline.reports]
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    _atomic_write(path, json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    return path


def _code(source: str, tags: list[str] | None = None) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": source.splitlines(keepends=True),
    }
    if tags:
        cell["metadata"]["tags"] = tags
    return _with_id(cell)


def _markdown(source: str) -> dict[str, Any]:
    return _with_id(
        {"cell_type": "markdown", "metadata": {}, "source": source.splitlines(keepends=True)}
    )


def _with_id(cell: dict[str, Any]) -> dict[str, Any]:
    import uuid

    cell["id"] = uuid.uuid4().hex[:8]
    return cell


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        # mkstemp makes the file private (0600); give it the mode a plain write would.
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
