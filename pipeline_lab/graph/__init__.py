"""The pipeline model: nodes, edges from the names cells read, validation, notebooks."""

from __future__ import annotations

from pipeline_lab.graph._analysis import CellAnalysis, analyze_cell
from pipeline_lab.graph._header import CellHeader, format_header, parse_header
from pipeline_lab.graph._node import Node, RetryPolicy
from pipeline_lab.graph._pipeline import Cell, Pipeline
from pipeline_lab.graph._validate import Issue

__all__ = [
    "Cell",
    "CellAnalysis",
    "CellHeader",
    "Issue",
    "Node",
    "Pipeline",
    "RetryPolicy",
    "analyze_cell",
    "format_header",
    "parse_header",
]
