"""The pipeline model: nodes, edges from the names cells read, validation, notebooks."""

from __future__ import annotations

from pipeline_lab.graph._analysis import CellAnalysis, analyze_cell
from pipeline_lab.graph._extensions import (
    COMPONENT_CATALOGS,
    NODE_LINTERS,
    ComponentCatalog,
    NodeLinter,
)
from pipeline_lab.graph._frozen import FrozenMapping
from pipeline_lab.graph._header import CellHeader, format_header, parse_header
from pipeline_lab.graph._issue import Issue
from pipeline_lab.graph._node import Node, RetryPolicy
from pipeline_lab.graph._pipeline import Cell, Pipeline

__all__ = [
    "COMPONENT_CATALOGS",
    "NODE_LINTERS",
    "Cell",
    "CellAnalysis",
    "CellHeader",
    "ComponentCatalog",
    "FrozenMapping",
    "Issue",
    "Node",
    "NodeLinter",
    "Pipeline",
    "RetryPolicy",
    "analyze_cell",
    "format_header",
    "parse_header",
]
