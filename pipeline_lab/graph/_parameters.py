"""How nodes use the pipeline's parameters: the problems :func:`validate` finds there.

Two mistakes a run would only meet late, or never explain: a parameters cell that is not
tagged ``parameters`` (papermill's most common one), and a component parameter written as
``:name`` where the component takes a number, a flag or a list (``:name`` is a pipeline
parameter only inside SQL text).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from pipeline_lab.errors import PipelineLabError
from pipeline_lab.graph._analysis import PARAMETERS_TAG
from pipeline_lab.graph._extensions import component_catalog
from pipeline_lab.graph._issue import Issue

if TYPE_CHECKING:
    from pipeline_lab.graph._node import Node
    from pipeline_lab.graph._pipeline import Cell, Pipeline

TAG_HOW = (
    f"in JupyterLab select the cell, open the Property Inspector (the gear icon in the right "
    f"sidebar) and add the tag '{PARAMETERS_TAG}' under Common Tools > Cell Tags"
)
"""How to tag a cell, for hints."""

_REFERENCE = re.compile(r":([A-Za-z_]\w*)")


def untagged_parameters(pipeline: Pipeline) -> tuple[Issue, frozenset[str]] | None:
    """The issue of a parameters cell nobody tagged, and the names it sets; ``None`` if the
    notebook has a tagged cell or no such cell.

    Such a cell is the first setup cell, above every node, made only of literal assignments
    (``top_n = 3``) whose names nodes read (``top_n``, ``params.top_n`` or SQL ``:top_n``).
    Reads through ``params`` and ``:name`` fail the run; bare reads work, but ``-p`` cannot
    set the values.
    """
    if pipeline.param_code is not None or not pipeline.setup:
        return None
    cell = min(pipeline.setup, key=lambda c: c.index)
    if pipeline.node_cells and cell.number > min(pipeline.node_cells.values()):
        return None
    names = _literal_assignments(cell)
    if not names:
        return None
    failing: list[str] = []  # reads that fail without the tag
    working: list[str] = []
    read: set[str] = set()
    for node in pipeline.nodes.values():
        attributes, references, bare = (found & set(names) for found in _parameter_reads(node))
        failing += [f"{node.name} reads params.{n}" for n in sorted(attributes)]
        failing += [f"{node.name} uses :{n}" for n in sorted(references)]
        working += [f"{node.name} reads {n}" for n in sorted(bare)]
        read |= attributes | references | bare
    if not read:
        return None
    shown = _and([n for n in names if n in read])
    severity: Literal["error", "warning"] = "error" if failing else "warning"
    if failing:
        message = (
            f"sets {shown} like a parameters cell, but is not tagged '{PARAMETERS_TAG}', so "
            f"{_not_parameters(read)}: {', '.join(failing)}"
        )
    else:
        message = (
            f"sets {shown} like a parameters cell, but is not tagged '{PARAMETERS_TAG}': "
            f"nodes read {'it' if len(read) == 1 else 'them'} ({', '.join(working)}), but "
            f"{_not_parameters(read)} and -p cannot set {'it' if len(read) == 1 else 'them'}"
        )
    hint = f"tag cell {cell.number} '{PARAMETERS_TAG}': {TAG_HOW}"
    issue = Issue("untagged-parameters", message, None, hint, severity, cell=cell.number)
    return issue, frozenset(names)


def _literal_assignments(cell: Cell) -> list[str]:
    """The names a cell of only ``name = literal`` statements sets, in order; else none."""
    try:
        tree = ast.parse(cell.code)
    except SyntaxError:
        return []
    names: list[str] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            return []
        if not all(isinstance(t, ast.Name) for t in targets):
            return []
        try:
            ast.literal_eval(value)
        except ValueError:
            return []
        names += [t.id for t in targets if isinstance(t, ast.Name) and t.id not in names]
    return names


def _parameter_reads(node: Node) -> tuple[set[str], set[str], set[str]]:
    """What ``node`` reads as ``params.X``, as SQL ``:X`` and as bare names."""
    try:
        analysis = node.analysis
        references = set(node.sql_parameters())
    except PipelineLabError:  # reported by validate() on its own
        return set(), set(), set()
    bare = set(analysis.reads) if node.code is not None and node.inputs is None else set()
    return set(analysis.param_attributes), references, bare


def _not_parameters(names: set[str]) -> str:
    return (
        "it is not a pipeline parameter" if len(names) == 1 else "they are not pipeline parameters"
    )


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def reference_issues(pipeline: Pipeline, node: Node, issues: list[Issue]) -> list[Issue]:
    """``issues`` of component ``node``, where a ``:name`` parameter explains them.

    ``n: :top_n`` gives the component the text ":top_n": a ``:name`` is replaced by its
    value only inside SQL text. Where the component refuses that text but takes the
    parameter's default, say so (and drop the component's own message when that was its
    only complaint).
    """
    references = {
        key: match[1]
        for key, value in node.params.items()
        if isinstance(value, str)
        and (match := _REFERENCE.fullmatch(value.strip()))
        and match[1] in pipeline.params
    }
    if not references or not any(i.code == "bad-parameters" for i in issues):
        return issues
    original = _refusal(node, node.params)
    if original is None:
        return issues
    defaults = {key: pipeline.params[name] for key, name in references.items()}
    found: list[Issue] = []
    for key, name in references.items():
        if _refusal(node, {**node.params, key: defaults[key]}) == original:
            continue  # the text ':name' is not what the component refuses
        value = defaults[key]
        fits = _refusal(node, {**node.params, **defaults}) is None
        write = f"{key}: {value!r}" if fits and value is not None else f"{key}: VALUE"
        found.append(
            Issue(
                "bad-parameters",
                f"parameter '{key}' is ':{name}', but '{node.component}' takes a value there, "
                f"not the text ':{name}': a :name stands for a pipeline parameter only inside "
                "SQL text (conditions, expressions, queries)",
                node.name,
                f"write the value ({write}); to set it per run, compute it in a code node "
                f"that reads {name}",
                subject=name,
            )
        )
    if not found:
        return issues
    if _refusal(node, {**node.params, **defaults}) is None:  # nothing else is wrong
        issues = [i for i in issues if i.code != "bad-parameters"]
    return [*issues, *found]


def _refusal(node: Node, params: Mapping[str, Any]) -> str | None:
    """What the component says of ``params`` (``None``: it takes them)."""
    try:
        component_catalog().instantiate(replace(node, params=params))
    except PipelineLabError as exc:
        return exc.message
    return None
