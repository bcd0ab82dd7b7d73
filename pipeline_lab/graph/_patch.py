"""Edit a notebook cell by cell, by id: every other cell stays exactly as it was."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

from pipeline_lab.errors import PipelineDefinitionError
from pipeline_lab.graph._ipynb import (
    CELL_ID,
    METADATA_KEY,
    NotebookFile,
    fresh_id,
    new_cell,
    put,
    source_lines,
)

CellType = Literal["code", "markdown", "raw"]


@dataclass(frozen=True)
class InsertCell:
    """Insert a new cell right after the cell ``after`` or before the cell ``before``
    (ids; give at most one), else at the end of the notebook.

    ``pipeline_lab`` becomes the new cell's ``metadata.pipeline_lab`` (builder state, such
    as ``{"position": [x, y]}``). ``cell_id`` is the new cell's id; ``None`` makes a fresh one.
    """

    source: str
    after: str | None = None
    before: str | None = None
    cell_type: CellType = "code"
    pipeline_lab: Mapping[str, Any] | None = None
    cell_id: str | None = None

    def __post_init__(self) -> None:
        if self.after is not None and self.before is not None:
            raise PipelineDefinitionError(
                f"InsertCell got after='{self.after}' and before='{self.before}'",
                hint="give one of them, or neither to insert at the end",
            )
        if self.cell_type not in ("code", "markdown", "raw"):
            raise PipelineDefinitionError(
                f"InsertCell got cell_type={self.cell_type!r}",
                hint="use 'code', 'markdown' or 'raw'",
            )
        if self.cell_id is not None:
            _check_id(self.cell_id)
        _check_source(self.source, "InsertCell")
        _check_json(self.pipeline_lab)


@dataclass(frozen=True)
class ReplaceCell:
    """Replace the source of cell ``cell_id`` and/or update its ``metadata.pipeline_lab``.

    ``pipeline_lab`` is merged into what the cell has: a key set to ``None`` is removed,
    keys not given stay. Outputs, attachments and other metadata are kept, as when a
    cell is edited in Jupyter.
    """

    cell_id: str
    source: str | None = None
    pipeline_lab: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.source is None and self.pipeline_lab is None:
            raise PipelineDefinitionError(
                f"ReplaceCell('{self.cell_id}') has nothing to replace",
                hint="give source=, pipeline_lab= or both",
            )
        if self.source is not None:
            _check_source(self.source, f"ReplaceCell('{self.cell_id}')")
        _check_json(self.pipeline_lab)


@dataclass(frozen=True)
class RemoveCell:
    """Remove the cell ``cell_id``."""

    cell_id: str


CellEdit: TypeAlias = InsertCell | ReplaceCell | RemoveCell


def patch_notebook(path: str | Path, edits: Iterable[CellEdit]) -> tuple[str, ...]:
    """Apply ``edits`` to the notebook at ``path``, in order; return the ids of new cells.

    Every cell an edit does not name is kept as the same JSON values (markdown, outputs,
    attachments, metadata, order), and so are the notebook's metadata and version. The file
    is replaced atomically and keeps its mode; if nothing changes, it is not written. An
    edit that names an unknown id fails before anything is written.

    A notebook older than nbformat 4.5 has no cell ids: it is upgraded to 4.5 as Jupyter
    does when it saves one (every cell gets a fresh id), so ``patch_notebook(path, [])``
    just gives every cell an id.

    Examples
    --------
    >>> patch_notebook("sales.ipynb", [
    ...     ReplaceCell("a1b2c3d4", pipeline_lab={"position": [120, 40]}),
    ...     InsertCell("%%pipeline total\\nsum(paid)", after="a1b2c3d4"),
    ...     RemoveCell("e5f6a7b8"),
    ... ])
    ('0f1e2d3c',)
    """
    notebook = NotebookFile.load(path)
    notebook.give_cells_ids()
    new_ids = [apply_edit(notebook, edit) for edit in edits]
    notebook.save()
    return tuple(cell_id for cell_id in new_ids if cell_id is not None)


def apply_edit(notebook: NotebookFile, edit: CellEdit) -> str | None:
    """Apply one edit to ``notebook`` in memory; return the id of a new cell."""
    if isinstance(edit, InsertCell):
        return _insert(notebook, edit)
    if isinstance(edit, ReplaceCell):
        _replace(notebook.cells[notebook.index(edit.cell_id)], edit)
    elif isinstance(edit, RemoveCell):
        del notebook.cells[notebook.index(edit.cell_id)]
    else:
        raise PipelineDefinitionError(
            f"{edit!r} is not a cell edit", hint="use InsertCell, ReplaceCell or RemoveCell"
        )
    return None


def _insert(notebook: NotebookFile, edit: InsertCell) -> str:
    taken = notebook.ids()
    if edit.cell_id in taken:
        raise PipelineDefinitionError(
            f"{notebook.path.name}: a cell already has the id '{edit.cell_id}'",
            hint="leave cell_id out to get a fresh id",
        )
    cell_id = edit.cell_id or fresh_id(taken)
    if edit.after is not None:
        at = notebook.index(edit.after) + 1
    elif edit.before is not None:
        at = notebook.index(edit.before)
    else:
        at = len(notebook.cells)
    state = {k: _json(v) for k, v in (edit.pipeline_lab or {}).items() if v is not None}
    cell = new_cell(edit.source, cell_id, edit.cell_type, {METADATA_KEY: state or None})
    notebook.cells.insert(at, cell)
    return cell_id


def _replace(cell: dict[str, Any], edit: ReplaceCell) -> None:
    if edit.source is not None:
        # A cell stored as one string stays one string; Jupyter's list of lines stays a list.
        stored = cell.get("source")
        put(cell, "source", edit.source if isinstance(stored, str) else source_lines(edit.source))
    if edit.pipeline_lab is None:
        return
    metadata = cell.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
        put(cell, "metadata", metadata)
    current = metadata.get(METADATA_KEY)
    state = dict(current) if isinstance(current, dict) else {}
    for key, value in edit.pipeline_lab.items():
        if value is None:
            state.pop(key, None)
        else:
            state[key] = _json(value)
    if state:
        put(metadata, METADATA_KEY, state)
    else:
        metadata.pop(METADATA_KEY, None)


def _json(value: Any) -> Any:
    """``value`` as the notebook will hold it (a tuple becomes a list)."""
    return json.loads(json.dumps(value))


def _check_id(cell_id: str) -> None:
    if not isinstance(cell_id, str) or not CELL_ID.match(cell_id):
        raise PipelineDefinitionError(
            f"{cell_id!r} is not a valid cell id",
            hint="a cell id is 1 to 64 letters, digits, '-' or '_'; leave it out for a fresh one",
        )


def _check_source(source: Any, edit: str) -> None:
    if not isinstance(source, str):
        raise PipelineDefinitionError(
            f"{edit} got a source of type {type(source).__name__}; a cell's source is text",
            hint="pass the cell's code (or markdown) as one string",
        )


def _check_json(state: Mapping[str, Any] | None) -> None:
    """Builder state is stored in the notebook: it must be strict JSON (no NaN, which
    JupyterLab refuses to open)."""
    for key, value in (state or {}).items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            raise PipelineDefinitionError(
                f"metadata.pipeline_lab['{key}'] = {value!r} cannot be stored in a notebook",
                hint="use JSON values: finite numbers, strings, booleans, lists and dicts",
            ) from None
