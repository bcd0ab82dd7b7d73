"""Every problem of a pipeline at once, each with its node and a fix hint."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from pipeline_lab.errors import PipelineDefinitionError
from pipeline_lab.graph._analysis import BUILTIN_NAMES, PARAMETERS_TAG, PARAMS_NAME
from pipeline_lab.graph._extensions import lint
from pipeline_lab.graph._issue import Issue
from pipeline_lab.graph._node import policy_problems
from pipeline_lab.graph._parameters import TAG_HOW, reference_issues, untagged_parameters
from pipeline_lab.suggest import did_you_mean

if TYPE_CHECKING:
    from pipeline_lab.graph._pipeline import Cell, Pipeline


MAX_NAME_LENGTH = 255
"""The longest pipeline or node name: what the store's name columns hold."""


_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Direction overrides: text after them reads reversed wherever the name is shown."""


def _control(c: str) -> bool:
    return ord(c) < 32 or 127 <= ord(c) < 160 or c in _BIDI


def pipeline_name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a pipeline name, or ``None``.

    A pipeline is named after its notebook (``sales-2025``, ``Revenue report``), so more than
    identifiers are fine; what a record, a file name or a terminal cannot hold is not.
    """
    if not name.strip():
        return "the pipeline's name is empty"
    if len(name) > MAX_NAME_LENGTH:
        return (
            f"the pipeline's name is {len(name)} characters long, more than the "
            f"{MAX_NAME_LENGTH} a run record keeps ('{name[:40]}...')"
        )
    if name != name.strip():
        return f"the pipeline's name {name!r} starts or ends with spaces"
    if any(_control(c) for c in name) or any(c in name for c in "/\\"):
        return f"the pipeline's name {name!r} holds a control character or a slash"
    return None


def validate(pipeline: Pipeline, known: Iterable[str] | None = None) -> list[Issue]:
    """Find every problem; ``known`` are names defined outside the pipeline (the kernel's)."""
    issues: list[Issue] = []
    problem = pipeline_name_problem(pipeline.name)
    if problem is not None:
        issues.append(
            Issue(
                "bad-name",
                problem,
                None,
                "rename the pipeline (%pipeline new NAME) or its notebook file",
            )
        )
    issues.extend(pipeline.cell_issues)  # cells of its notebook that could not be read
    # Nodes whose cells could not be read: what reads them is not missing an input too.
    unread = {i.node for i in pipeline.cell_issues if i.node}
    for name in pipeline.duplicates:
        issues.append(
            Issue(
                "duplicate-node",
                f"node '{name}' is defined by more than one cell",
                name,
                "rename one of the cells or delete the older one",
            )
        )
    untagged = untagged_parameters(pipeline)
    params_read = not any(i.subject == PARAMETERS_TAG for i in pipeline.cell_issues)
    context = _Context(
        node_names=set(pipeline.nodes),
        defined=set(pipeline.nodes) | set(pipeline.params) | {PARAMS_NAME} | unread,
        outside=set(BUILTIN_NAMES) | pipeline.setup_names() | set(known or ()),
        # A star import, or a parameters cell that does not parse, may define any name.
        check_free_names=(known is not None or not pipeline.has_star_import()) and params_read,
        params_read=params_read,
        untagged=untagged[1] if untagged else frozenset(),
    )
    for node in pipeline.nodes.values():
        issues.extend(_node_issues(pipeline, node.name, context))
    # A bad setup cell stops every headless run; a bad report cell is only reported by the run.
    issues.extend(_cell_issues(pipeline.setup, "error"))
    issues.extend(_cell_issues(pipeline.reports, "warning"))
    issues.extend(_cycle_issues(pipeline))
    if untagged:
        issues.append(untagged[0])
    if not pipeline.nodes and not any(i.code == "bad-cell" for i in pipeline.cell_issues):
        issues.append(
            Issue(
                "no-nodes",
                f"pipeline '{pipeline.name}' has no nodes (no %%pipeline cells): a run would "
                "do nothing",
                None,
                "make a cell a node: start it with '%%pipeline NAME' (in the Python API, "
                "pipeline.add(Node(...)))",
            )
        )
    cells = pipeline.node_cells
    return [
        replace(i, cell=cells[i.node]) if i.cell is None and i.node in cells else i for i in issues
    ]


@dataclass(frozen=True)
class _Context:
    """What every node's checks need to know about the whole pipeline."""

    node_names: set[str]
    defined: set[str]
    """Names a node may read: nodes, parameters, ``params``."""
    outside: set[str]
    """Names defined outside nodes: builtins, setup cells, the kernel's."""
    check_free_names: bool
    params_read: bool
    """Whether the parameters cell could be read (else any parameter may exist)."""
    untagged: frozenset[str]
    """Names an untagged parameters cell sets (reported once, for the cell)."""


def _cell_issues(cells: Iterable[Cell], severity: Literal["error", "warning"]) -> list[Issue]:
    issues = []
    for cell in cells:
        try:
            cell.analysis  # noqa: B018
        except PipelineDefinitionError as exc:
            issues.append(Issue("syntax", exc.message, None, exc.hint, severity, cell=cell.number))
    return issues


def _node_issues(pipeline: Pipeline, name: str, context: _Context) -> list[Issue]:
    node = pipeline.nodes[name]
    issues = _name_issues(pipeline, name)
    for message, hint in policy_problems(node.retry, node.timeout):
        issues.append(Issue("bad-option", message, name, hint))
    found = lint(node, pipeline)  # components, --check syntax, plug-ins
    if node.component is not None:
        found = reference_issues(pipeline, node, found)
    issues.extend(found)
    try:
        analysis = node.analysis
    except PipelineDefinitionError as exc:
        return [*issues, Issue("syntax", exc.message, name, exc.hint)]
    defined = context.defined
    declared = set(node.inputs or ())
    if node.component is not None and node.inputs is None:
        declared = set(node.candidate_inputs())  # the component's input parameters
    for missing in sorted(declared - defined - {name}):
        issues.append(
            Issue(
                "missing-input",
                f"input '{missing}' is not a node or parameter",
                name,
                did_you_mean(missing, defined) or "define that node first",
                subject=missing,
            )
        )
    if node.code is not None and node.inputs is None and context.check_free_names:
        for missing in sorted(analysis.reads - defined - context.outside):
            issues.append(
                Issue(
                    "missing-input",
                    f"reads '{missing}', which no node, parameter or setup cell defines",
                    name,
                    did_you_mean(missing, (defined | context.outside) - BUILTIN_NAMES - {name})
                    or f"add a node or setup cell that defines '{missing}'",
                    subject=missing,
                )
            )
    known_params = pipeline.params.keys() | context.untagged
    unknown = [
        (reference, f"uses :{reference} in its SQL")
        for reference in sorted(node.sql_parameters() - known_params)
    ]
    if context.params_read:
        unknown += [
            (attribute, f"reads params.{attribute}")
            for attribute in sorted(analysis.param_attributes - known_params)
        ]
    for parameter, use in unknown:
        issues.append(
            Issue(
                "unknown-parameter",
                f"{use}, which is not a pipeline parameter",
                name,
                did_you_mean(parameter, pipeline.params) or _add_parameter(pipeline, parameter),
            )
        )
    for other in sorted((analysis.assigns & context.node_names) - {name}):
        issues.append(
            Issue(
                "duplicate-output",
                f"assigns '{other}', the output of node '{other}'",
                name,
                f"rename the variable, or read '{other}' without assigning it",
            )
        )
    issues.extend(_output_issues(pipeline, name))
    return issues


def _add_parameter(pipeline: Pipeline, name: str) -> str:
    if pipeline.param_code is not None:
        return f"add '{name} = ...' to the parameters cell"
    return (
        f"add a parameters cell: a code cell with '{name} = ...', tagged '{PARAMETERS_TAG}' "
        f"({TAG_HOW})"
    )


def _name_issues(pipeline: Pipeline, name: str) -> list[Issue]:
    node = pipeline.nodes[name]
    if not node.is_valid_name:
        return [
            Issue(
                "bad-name",
                f"'{name}' is not a valid Python identifier",
                name,
                "use letters, digits and underscores, not starting with a digit",
            )
        ]
    if len(name) > MAX_NAME_LENGTH:  # a run record could not keep it
        return [
            Issue(
                "bad-name",
                f"the name is {len(name)} characters long, more than the {MAX_NAME_LENGTH} a "
                "run record keeps",
                name[:40] + "...",
                "give the node a shorter name",
            )
        ]
    if name == PARAMS_NAME:  # its output would hide the parameters from every other node
        return [
            Issue(
                "bad-name",
                f"'{name}' is reserved for the pipeline parameters",
                name,
                "give the node another name",
            )
        ]
    if name in pipeline.params:  # reads of the name would be ambiguous: node or parameter?
        return [
            Issue(
                "bad-name",
                f"node '{name}' has the name of a pipeline parameter",
                name,
                "rename the node (or the parameter)",
            )
        ]
    for cell in pipeline.setup:
        try:
            binds = name in cell.analysis.assigns
        except PipelineDefinitionError:
            continue  # reported as the cell's syntax error
        if binds:
            # `%%pipeline pl` under `import polars as pl`: every node reading `pl` would get
            # the node's output instead of the module.
            statement = _binding(cell.code, name)
            return [
                Issue(
                    "bad-name",
                    f"is named like what setup cell {cell.number} binds"
                    + (f" ({statement})" if statement else "")
                    + f": nodes reading '{name}' would get this node's output instead",
                    name,
                    f"rename the node (e.g. %%pipeline {name}_data), or the name in cell "
                    f"{cell.number}",
                    subject=name,
                )
            ]
    return []


def _binding(code: str, name: str) -> str | None:
    """The first line of the top-level statement of ``code`` that binds ``name``."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for stmt in tree.body:
        if name in _bound_by(stmt):
            segment = ast.get_source_segment(code, stmt) or ""
            return segment.splitlines()[0] if segment else None
    return None


def _bound_by(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {alias.asname or alias.name.split(".")[0] for alias in stmt.names}
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    return {
        sub.id
        for sub in ast.walk(stmt)
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store)
    }


def _output_issues(pipeline: Pipeline, name: str) -> list[Issue]:
    """A code node whose cell neither assigns its name nor ends with an expression makes no
    output: an error if nodes read it (they would get ``None``), else a warning (it may
    only write a file)."""
    node = pipeline.nodes[name]
    if node.code is None or node.func is not None:
        return []
    analysis = node.analysis
    if analysis.last_is_expression or name in analysis.assigns:
        return []
    body = ast.parse(node.code).body
    if body and isinstance(body[-1], ast.Raise):
        return []  # it never ends well: there is no output to miss
    assigned = _assigned_variables(body)
    detail = f" (it assigns {_quoted(assigned)})" if assigned else ""
    message = (
        f"produces no output: the cell neither assigns '{name}' nor ends with an expression{detail}"
    )
    fix = (
        f"rename '{assigned[0]}' to '{name}'" if len(assigned) == 1 else f"assign '{name} = ...'"
    ) + ", or end the cell with the value to output"
    readers = pipeline.dependents(name)
    if readers:
        return [
            Issue(
                "no-output",
                f"{message}; {_quoted(list(readers))} read{'s' if len(readers) == 1 else ''} it "
                "and would get None",
                name,
                fix,
            )
        ]
    return [
        Issue(
            "no-output",
            message,
            name,
            f"a node that only writes a file or a table can stay as it is; to give it an "
            f"output, {fix}",
            "warning",
        )
    ]


def _assigned_variables(body: list[ast.stmt]) -> list[str]:
    """Variables these top-level statements assign (``df = ...``), in order; not imports."""
    names: list[str] = []
    for stmt in body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            names += [n for n in sorted(_bound_by(stmt)) if n not in names]
    return names


def _quoted(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _cycle_issues(pipeline: Pipeline) -> list[Issue]:
    """One issue per cycle, with its path; found by depth-first search."""
    issues: list[Issue] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []
    seen_cycles: set[frozenset[str]] = set()

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for dep in pipeline.dependencies(name):
            if state.get(dep) == 1:
                cycle = [*path[path.index(dep) :], dep]
                key = frozenset(cycle)
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    issues.append(
                        Issue(
                            "cycle",
                            f"cycle: {' -> '.join(cycle)}",
                            dep,
                            "a node cannot depend on its own output; break the cycle by renaming "
                            "one variable or setting --inputs",
                        )
                    )
            elif dep not in state:
                visit(dep)
        path.pop()
        state[name] = 2

    for name in pipeline.nodes:
        if name not in state:
            visit(name)
    return issues
