"""The polars code a component stands for, ready to paste: ``:name`` rendered as its value.

A component's SQL keeps ``:name`` for pipeline parameter ``name`` until it runs; pasted as is,
polars refuses it (``Placeholder(":min_qty") is not a supported literal type``). Every string
literal of the generated code that uses ``:name`` gets each reference replaced by the SQL
literal of the parameter's value, exactly as a run binds it.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from pipeline_lab.components._expressions import bind_parameters, parameter_references
from pipeline_lab.context import RunContext, running


def code_with_parameters(
    code: str, params: Mapping[str, Any], *, component: str, node: str | None = None
) -> str:
    """``code`` with ``:name`` in its string literals bound to the values in ``params``."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code  # not ours to fix: show it as the component wrote it
    spans: list[tuple[int, int, int, str]] = []
    with running(RunContext(params=dict(params))):
        for found in ast.walk(tree):
            if not (isinstance(found, ast.Constant) and isinstance(found.value, str)):
                continue
            if found.lineno != found.end_lineno or not parameter_references(found.value):
                continue
            bound = bind_parameters(found.value, param="code", component=component, node=node)
            assert found.end_col_offset is not None
            spans.append((found.lineno, found.col_offset, found.end_col_offset, repr(bound)))
    lines = code.splitlines(keepends=True)
    for line, start, end, text in sorted(spans, reverse=True):
        raw = lines[line - 1].encode()
        lines[line - 1] = (raw[:start] + text.encode() + raw[end:]).decode()
    return "".join(lines)
