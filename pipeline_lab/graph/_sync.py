"""Bring an existing notebook up to date with a pipeline by patching its node cells by id."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline_lab.errors import PipelineDefinitionError
from pipeline_lab.graph._header import CELL_MAGIC, cell_source, parse_header
from pipeline_lab.graph._ipynb import (
    CELL_ID,
    METADATA_KEY,
    NotebookFile,
    cell_metadata,
    source_text,
)
from pipeline_lab.graph._node import Node
from pipeline_lab.graph._notebook import PARAMETERS_TAG, refuse_function_nodes
from pipeline_lab.graph._patch import CellEdit, InsertCell, RemoveCell, ReplaceCell, apply_edit
from pipeline_lab.graph._pipeline import Pipeline


@dataclass(frozen=True)
class _NodeCell:
    """A ``%%pipeline`` cell of the notebook, as found before any edit."""

    cell_id: str
    name: str
    node: Node | None
    """The node the cell defines; ``None`` if its header does not parse (it is rewritten)."""
    run: bool
    position: Any


def update_notebook(pipeline: Pipeline, path: str | Path) -> Path:
    """Patch the notebook at ``path`` so that it defines ``pipeline``'s nodes.

    Node cells are matched by ``Node.cell_id``, else by node name (the last cell of that
    name, the one a reader keeps). A matched cell is rewritten only if its node changed
    (its ``--no-run`` stays), and its position only if the node has one. Unmatched
    ``%%pipeline`` cells of names the pipeline no longer has are removed; any other cell,
    including the parameters, setup and report cells, is left as it is.
    """
    path = Path(path)
    refuse_function_nodes(pipeline)
    notebook = NotebookFile.load(path)
    notebook.give_cells_ids()
    found = _node_cells(notebook)
    cells = {cell.cell_id: cell for cell in found}
    claims = _claim(pipeline, found)
    edits: list[CellEdit] = []
    for name, cell_id in claims.items():
        replacement = _replace(pipeline.nodes[name], cells[cell_id])
        if replacement is not None:
            edits.append(replacement)
    claimed = set(claims.values())
    edits += [
        RemoveCell(cell.cell_id)
        for cell in found
        if cell.cell_id not in claimed and cell.name not in pipeline.nodes
    ]
    for edit in edits:
        apply_edit(notebook, edit)
    for name in _order(pipeline):
        if name in claims:
            continue
        node = pipeline.nodes[name]
        upstream = [claims[d] for d in pipeline.dependencies(name) if d in claims]
        wanted = node.cell_id if node.cell_id and CELL_ID.match(node.cell_id) else None
        insert = InsertCell(
            cell_source(node),
            after=max(upstream, key=notebook.index) if upstream else None,
            pipeline_lab=_state(node),
            cell_id=wanted if wanted not in notebook.ids() else None,
        )
        new_id = apply_edit(notebook, insert)
        assert new_id is not None
        claims[name] = new_id
    notebook.save()
    return path


def _node_cells(notebook: NotebookFile) -> list[_NodeCell]:
    found = []
    for cell in notebook.cells:
        metadata = cell_metadata(cell)
        if cell.get("cell_type") != "code" or PARAMETERS_TAG in metadata.get("tags", []):
            continue
        source = source_text(cell).lstrip()
        if not source.startswith(CELL_MAGIC):
            continue
        line, _, body = source.partition("\n")
        line = line[len(CELL_MAGIC) :]
        state = metadata.get(METADATA_KEY)
        position = state.get("position") if isinstance(state, dict) else None
        try:
            header = parse_header(line, body)
        except PipelineDefinitionError:
            name = _name(line)
            if name is not None:
                found.append(_NodeCell(cell["id"], name, None, True, position))
            continue
        found.append(_NodeCell(cell["id"], header.node.name, header.node, header.run, position))
    return found


def _name(line: str) -> str | None:
    """The node name of a header that does not parse, if it still has one."""
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    return words[0] if words and not words[0].startswith("-") else None


def _claim(pipeline: Pipeline, found: list[_NodeCell]) -> dict[str, str]:
    """Node name -> id of the cell that defines it: by cell id first, then by name."""
    claims: dict[str, str] = {}
    ids = {cell.cell_id for cell in found}
    for name, node in pipeline.nodes.items():
        if node.cell_id in ids and node.cell_id not in claims.values():
            claims[name] = node.cell_id
    taken = set(claims.values())
    for name in pipeline.nodes:
        if name in claims:
            continue
        named = [c.cell_id for c in found if c.name == name and c.cell_id not in taken]
        if named:
            claims[name] = named[-1]
            taken.add(named[-1])
    return claims


def _replace(node: Node, cell: _NodeCell) -> ReplaceCell | None:
    source = None
    if cell.node is None or _definition(cell.node) != _definition(node):
        source = cell_source(node, run=cell.run)
    # A node without a position (made in a kernel, say) leaves the builder's layout alone.
    state = _state(node) if node.position is not None else None
    if state is not None and state["position"] == cell.position:
        state = None
    if source is None and state is None:
        return None
    return ReplaceCell(cell.cell_id, source=source, pipeline_lab=state)


def _definition(node: Node) -> Node:
    """What the cell's text says of ``node`` (not where it is, nor where it is drawn)."""
    return replace(node, cell_id=None, position=None)


def _state(node: Node) -> dict[str, Any] | None:
    return {"position": list(node.position)} if node.position is not None else None


def _order(pipeline: Pipeline) -> list[str]:
    """Upstream nodes first, so a new node can go after its new upstream node's cell."""
    try:
        return pipeline.order()
    except PipelineDefinitionError:  # a cycle: still write what there is
        return list(pipeline.nodes)
