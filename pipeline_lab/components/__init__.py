"""The component library: ready-made sources, transforms, sinks and checks.

Components register in :data:`COMPONENTS`; other packages add theirs through the
``pipeline_lab.components`` entry-point group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline_lab.registry import Registry

if TYPE_CHECKING:
    from pipeline_lab.graph import Issue, Node

COMPONENTS: Registry[Any] = Registry("component", entry_point_group="pipeline_lab.components")


def component_issues(node: Node) -> list[Issue]:
    """Problems with a component node: unknown component, bad parameters."""
    from pipeline_lab.graph import Issue
    from pipeline_lab.graph._validate import did_you_mean

    if node.component not in COMPONENTS:
        known = ", ".join(COMPONENTS.names()) or "none are installed yet"
        return [
            Issue(
                "unknown-component",
                f"unknown component '{node.component}' (known: {known})",
                node.name,
                did_you_mean(node.component or "", COMPONENTS.names()),
            )
        ]
    return []


__all__ = ["COMPONENTS", "component_issues"]
