"""The component library: ready-made sources, transforms, sinks and checks.

Components register in :data:`COMPONENTS` with :func:`component`; other packages add theirs
through the ``pipeline_lab.components`` entry-point group.

Importing this package is light (no pydantic, no polars): the graph asks it about every
pipeline it validates, most of which have no component node. The component base classes
load on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from pipeline_lab.errors import PipelineDefinitionError
from pipeline_lab.graph import Issue
from pipeline_lab.registry import Registry

if TYPE_CHECKING:
    from pipeline_lab.components._base import (
        ColumnLineage,
        Component,
        ComponentError,
        ComponentParams,
        NodeInput,
    )
    from pipeline_lab.components._code import code_with_parameters
    from pipeline_lab.components._expressions import (
        parameter_references,
        require_columns,
        sql_expr,
    )
    from pipeline_lab.components._inputs import input_fields, with_input, with_renamed_input
    from pipeline_lab.graph import Node, Pipeline

_LAZY = {
    "ColumnLineage": "_base",
    "Component": "_base",
    "ComponentError": "_base",
    "ComponentParams": "_base",
    "NodeInput": "_base",
    "code_with_parameters": "_code",
    "input_fields": "_inputs",
    "with_input": "_inputs",
    "with_renamed_input": "_inputs",
    "parameter_references": "_expressions",
    "require_columns": "_expressions",
    "sql_expr": "_expressions",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pipeline_lab.components' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"pipeline_lab.components.{module}"), name)
    globals()[name] = value
    return value


C = TypeVar("C", bound="type[Component]")

COMPONENTS: Registry[type[Component]] = Registry(
    "component",
    entry_point_group="pipeline_lab.components",
    builtins=("pipeline_lab.components.library",),
)


def component(cls: C) -> C:
    """Class decorator: register a :class:`Component` subclass under its ``name``."""
    COMPONENTS.register(cls.name, cls)
    return cls


def get_component(kind: str) -> type[Component]:
    return COMPONENTS.get(kind)


def component_names() -> list[str]:
    return COMPONENTS.names()


def instantiate(node: Node) -> Component:
    """The component a node runs, with its validated parameters."""
    cls = get_component(node.component or "")
    return cls(node.params, node=node.name)


def component_issues(node: Node) -> list[Issue]:
    """Problems with a component node: unknown component, bad parameters."""
    from pipeline_lab.suggest import did_you_mean

    names = component_names()
    if node.component not in names:
        return [
            Issue(
                "unknown-component",
                f"unknown component '{node.component}' (known: {', '.join(names)})",
                node.name,
                did_you_mean(node.component or "", names) or "see %pipeline components",
            )
        ]
    try:
        instantiate(node)
    except PipelineDefinitionError as exc:
        return [Issue("bad-parameters", exc.message, node.name, exc.hint)]
    return []


class _Catalog:
    """The library as the graph sees it (the ``pipeline_lab.component_catalogs`` entry point)."""

    def instantiate(self, node: Node) -> Component:
        return instantiate(node)

    def input_names(self, node: Node) -> tuple[str, ...]:
        component: Component = node.instance  # cached on the node
        return component.input_names()

    def sql_parameters(self, node: Node) -> frozenset[str]:
        # A component's own ``params`` mapping (``read_sql``) binds the names it lists:
        # those are not pipeline parameters.
        from pipeline_lab.components._expressions import parameter_references

        own = node.params.get("params")
        bound = set(own) if isinstance(own, Mapping) else set()
        return frozenset(
            ref
            for text in _strings(node.params)
            for ref in parameter_references(text)
            if ref not in bound
        )


def _strings(value: Any) -> Iterator[str]:
    """Every string inside ``value`` (nested mappings and lists included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def lint(node: Node, pipeline: Pipeline) -> list[Issue]:
    """Component problems for ``Pipeline.validate()`` (a ``pipeline_lab.node_linters`` entry
    point)."""
    if node.component is None:
        return []
    issues = component_issues(node)
    if node.component in pipeline.setup_transforms():
        # A setup cell registers it when the pipeline runs: it is not unknown.
        issues = [i for i in issues if i.code != "unknown-component"]
    return issues


CATALOG = _Catalog()
"""The component library as the graph's ``COMPONENT_CATALOGS`` know it (an entry point)."""


def infer_types(frame: Any, sample: int = 10_000, min_confidence: float = 0.5) -> list[Any]:
    """Advice for string columns that look numeric, boolean or temporal (see ``schema``)."""
    from pipeline_lab.components._inference import infer_types as infer

    return infer(frame, sample=sample, min_confidence=min_confidence)


def schema_suggestion(frame: Any, min_confidence: float = 1.0) -> dict[str, Any]:
    """A ``columns:`` mapping for the ``schema`` component that converts ``frame`` cleanly."""
    from pipeline_lab.components._inference import schema_suggestion as suggest

    return suggest(frame, min_confidence=min_confidence)


def components_by_category() -> dict[str, list[type[Component]]]:
    grouped: dict[str, list[type[Component]]] = {}
    for name in component_names():
        cls = COMPONENTS.get(name)
        grouped.setdefault(cls.category, []).append(cls)
    return grouped


__all__ = [
    "COMPONENTS",
    "ColumnLineage",
    "Component",
    "ComponentError",
    "ComponentParams",
    "NodeInput",
    "code_with_parameters",
    "component",
    "component_issues",
    "component_names",
    "components_by_category",
    "get_component",
    "infer_types",
    "input_fields",
    "instantiate",
    "parameter_references",
    "require_columns",
    "schema_suggestion",
    "sql_expr",
    "with_input",
    "with_renamed_input",
]
