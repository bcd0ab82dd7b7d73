"""What the graph asks of the packages beside it, through registries they fill.

The graph imports (and names) none of its domain siblings: they are plug-ins, declared as
entry points in Pipeline Lab's own ``pyproject.toml``. ``pipeline_lab.components`` provides
the component catalog (what a component node reads and instantiates) and a linter for
component parameters; ``pipeline_lab.quality`` the linter of ``--check`` conditions. Other
packages add theirs through the same entry-point groups.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from pipeline_lab.graph._issue import Issue
from pipeline_lab.registry import Registry

if TYPE_CHECKING:
    from pipeline_lab.graph._node import Node
    from pipeline_lab.graph._pipeline import Pipeline

LIBRARY = "components"
"""The name of the component catalog the graph asks (the component library's)."""


class ComponentCatalog(Protocol):
    """What the graph needs to know about the component a node names.

    Each method may raise :class:`~pipeline_lab.errors.PipelineLabError` for an unknown
    component or bad parameters.
    """

    def instantiate(self, node: Node) -> Any:
        """The component ``node`` runs, with its validated parameters."""

    def input_names(self, node: Node) -> tuple[str, ...]:
        """The nodes the component reads (its node-input parameters), in order."""

    def sql_parameters(self, node: Node) -> frozenset[str]:
        """The pipeline parameters the component's SQL uses as ``:name``."""


class NodeLinter(Protocol):
    """Validation another package contributes: the problems of one node of a pipeline."""

    def __call__(self, node: Node, pipeline: Pipeline, /) -> Iterable[Issue]: ...


COMPONENT_CATALOGS: Registry[ComponentCatalog] = Registry(
    "component catalog", entry_point_group="pipeline_lab.component_catalogs"
)
NODE_LINTERS: Registry[NodeLinter] = Registry(
    "node linter", entry_point_group="pipeline_lab.node_linters"
)

GRAPH_VIEWS: Registry[Any] = Registry("graph view", entry_point_group="pipeline_lab.graph_views")
"""Ways to draw a pipeline: ``widget`` (``pipeline_lab.widgets``) makes the interactive graph
that ``Pipeline.widget()`` returns: ``view(pipeline, result, direction)``."""


def component_catalog() -> ComponentCatalog:
    return COMPONENT_CATALOGS.get(LIBRARY)


def lint(node: Node, pipeline: Pipeline) -> list[Issue]:
    """The issues every registered linter finds in ``node``, linters in name order."""
    issues: list[Issue] = []
    for name in NODE_LINTERS.names():
        try:
            issues.extend(NODE_LINTERS.get(name)(node, pipeline))
        except Exception as exc:  # a broken plug-in must not hide every other problem
            issues.append(
                Issue(
                    "linter-failed",
                    f"the '{name}' node linter failed: {type(exc).__name__}: {exc}",
                    node.name,
                    f"this is a bug in the package that registers the '{name}' linter; "
                    f"unregister it (NODE_LINTERS.unregister({name!r})) until it is fixed",
                    "warning",
                )
            )
    return issues
