"""A component node's input parameters (``NodeInput``): which they are, and edits of them.

The builder connects nodes and renames them by editing these parameters: ``input: orders``
becomes ``input: paid``, ``inputs: [a, b]`` gains ``c``.
"""

from __future__ import annotations

import typing
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pipeline_lab.components._base import NODE_INPUT
from pipeline_lab.errors import PipelineDefinitionError

if TYPE_CHECKING:
    from pipeline_lab.graph import Node


def input_fields(kind: str) -> dict[str, bool]:
    """Component ``kind``'s node-input parameters, each with whether it takes a list."""
    from pipeline_lab.components import get_component

    fields: dict[str, bool] = {}
    for key, info in get_component(kind).Params.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get(NODE_INPUT):
            fields[key] = _takes_list(info.annotation)
    return fields


def _takes_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list:
        return True
    return any(_takes_list(arg) for arg in typing.get_args(annotation))


def with_input(node: Node, source: str, parameter: str | None = None) -> Node:
    """``node`` reading ``source`` through ``parameter`` (by default the first input
    parameter that reads nothing yet, else the first); a list parameter gains ``source``."""
    if node.component is None:
        raise PipelineDefinitionError(
            f"node '{node.name}' is code: it reads what its code names",
            node=node.name,
            hint=f"edit its cell to read '{source}' (then re-run the cell)",
        )
    fields = input_fields(node.component)
    if not fields:
        raise PipelineDefinitionError(
            f"node '{node.name}' ({node.component}) reads no other node",
            node=node.name,
            hint="connect it to a transform or a sink instead",
        )
    if parameter is None:
        empty = [key for key in fields if not node.params.get(key)]
        parameter = (empty or list(fields))[0]
    if parameter not in fields:
        raise PipelineDefinitionError(
            f"'{parameter}' is not an input of component {node.component}",
            node=node.name,
            hint=f"its inputs: {', '.join(fields)}",
        )
    params = dict(node.params)
    if fields[parameter]:
        current = params.get(parameter) or []
        current = [current] if isinstance(current, str) else list(current)
        params[parameter] = current if source in current else [*current, source]
    else:
        params[parameter] = source
    return replace(node, params=params)


def with_renamed_input(node: Node, old: str, new: str) -> Node:
    """``node`` reading ``new`` wherever its input parameters read ``old``."""
    if node.component is None:
        return node
    params = dict(node.params)
    for key in input_fields(node.component):
        value = params.get(key)
        if value == old:
            params[key] = new
        elif isinstance(value, list):
            params[key] = [new if v == old else v for v in value]
    return replace(node, params=params)
