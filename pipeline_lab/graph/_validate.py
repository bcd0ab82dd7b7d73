"""Every problem of a pipeline at once, each with its node and a fix hint."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from pipeline_lab.errors import PipelineDefinitionError
from pipeline_lab.graph._analysis import BUILTIN_NAMES, PARAMS_NAME
from pipeline_lab.graph._extensions import lint
from pipeline_lab.graph._issue import Issue
from pipeline_lab.suggest import did_you_mean

if TYPE_CHECKING:
    from pipeline_lab.graph._pipeline import Cell, Pipeline


MAX_NAME_LENGTH = 255
"""The longest pipeline or node name: what the store's name columns hold."""


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
    if any(ord(c) < 32 or ord(c) == 127 for c in name) or any(c in name for c in "/\\"):
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
    for name in pipeline.duplicates:
        issues.append(
            Issue(
                "duplicate-node",
                f"node '{name}' is defined by more than one cell",
                name,
                "rename one of the cells or delete the older one",
            )
        )
    node_names = set(pipeline.nodes)
    defined = node_names | set(pipeline.params) | {PARAMS_NAME}
    outside = set(BUILTIN_NAMES) | pipeline.setup_names() | set(known or ())
    check_free_names = known is not None or not pipeline.has_star_import()
    for node in pipeline.nodes.values():
        issues.extend(
            _node_issues(pipeline, node.name, node_names, defined, outside, check_free_names)
        )
    # A bad setup cell stops every headless run; a bad report cell is only reported by the run.
    issues.extend(_cell_issues(pipeline.setup, "error"))
    issues.extend(_cell_issues(pipeline.reports, "warning"))
    issues.extend(_cycle_issues(pipeline))
    return issues


def _cell_issues(cells: Iterable[Cell], severity: Literal["error", "warning"]) -> list[Issue]:
    issues = []
    for cell in cells:
        try:
            cell.analysis  # noqa: B018
        except PipelineDefinitionError as exc:
            issues.append(Issue("syntax", exc.message, None, exc.hint, severity))
    return issues


def _node_issues(
    pipeline: Pipeline,
    name: str,
    node_names: set[str],
    defined: set[str],
    outside: set[str],
    check_free_names: bool,
) -> list[Issue]:
    node = pipeline.nodes[name]
    issues: list[Issue] = []
    if not node.is_valid_name:
        issues.append(
            Issue(
                "bad-name",
                f"'{name}' is not a valid Python identifier",
                name,
                "use letters, digits and underscores, not starting with a digit",
            )
        )
    elif len(name) > MAX_NAME_LENGTH:  # a run record could not keep it
        issues.append(
            Issue(
                "bad-name",
                f"the name is {len(name)} characters long, more than the {MAX_NAME_LENGTH} a "
                "run record keeps",
                name[:40] + "...",
                "give the node a shorter name",
            )
        )
    elif name == PARAMS_NAME:  # its output would hide the parameters from every other node
        issues.append(
            Issue(
                "bad-name",
                f"'{name}' is reserved for the pipeline parameters",
                name,
                "give the node another name",
            )
        )
    elif name in pipeline.params:  # reads of the name would be ambiguous: node or parameter?
        issues.append(
            Issue(
                "bad-name",
                f"node '{name}' has the name of a pipeline parameter",
                name,
                "rename the node (or the parameter)",
            )
        )
    issues.extend(lint(node, pipeline))  # components, --check syntax, plug-ins
    try:
        analysis = node.analysis
    except PipelineDefinitionError as exc:
        return [*issues, Issue("syntax", exc.message, name, exc.hint)]
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
    if node.code is not None and node.inputs is None and check_free_names:
        for missing in sorted(analysis.reads - defined - outside):
            issues.append(
                Issue(
                    "missing-input",
                    f"reads '{missing}', which no node, parameter or setup cell defines",
                    name,
                    did_you_mean(missing, (defined | outside) - BUILTIN_NAMES - {name})
                    or f"add a node or setup cell that defines '{missing}'",
                    subject=missing,
                )
            )
    for reference in sorted(node.sql_parameters() - pipeline.params.keys()):
        issues.append(
            Issue(
                "unknown-parameter",
                f"uses :{reference} in its SQL, which is not a pipeline parameter",
                name,
                did_you_mean(reference, pipeline.params)
                or f"add '{reference} = ...' to the parameters cell",
            )
        )
    for attribute in sorted(analysis.param_attributes - pipeline.params.keys()):
        issues.append(
            Issue(
                "unknown-parameter",
                f"reads params.{attribute}, which is not a pipeline parameter",
                name,
                did_you_mean(attribute, pipeline.params)
                or f"add '{attribute} = ...' to the parameters cell",
            )
        )
    for other in sorted((analysis.assigns & node_names) - {name}):
        issues.append(
            Issue(
                "duplicate-output",
                f"assigns '{other}', the output of node '{other}'",
                name,
                f"rename the variable, or read '{other}' without assigning it",
            )
        )
    return issues


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
