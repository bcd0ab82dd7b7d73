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
from pipeline_lab.graph._header import USAGE as HEADER_USAGE
from pipeline_lab.graph._header import CellHeader, cell_source, format_header, parse_header
from pipeline_lab.graph._issue import InvalidPipeline, Issue
from pipeline_lab.graph._node import Node, RetryPolicy
from pipeline_lab.graph._notebook import notebook_parameters, read_notebook, write_notebook
from pipeline_lab.graph._patch import (
    CellEdit,
    InsertCell,
    RemoveCell,
    ReplaceCell,
    patch_notebook,
)
from pipeline_lab.graph._pipeline import Cell, Pipeline
from pipeline_lab.graph._validate import MAX_NAME_LENGTH, pipeline_name_problem

__all__ = [
    "COMPONENT_CATALOGS",
    "HEADER_USAGE",
    "MAX_NAME_LENGTH",
    "NODE_LINTERS",
    "Cell",
    "CellAnalysis",
    "CellEdit",
    "CellHeader",
    "ComponentCatalog",
    "FrozenMapping",
    "InsertCell",
    "InvalidPipeline",
    "Issue",
    "Node",
    "NodeLinter",
    "Pipeline",
    "RemoveCell",
    "ReplaceCell",
    "RetryPolicy",
    "analyze_cell",
    "cell_source",
    "format_header",
    "notebook_parameters",
    "parse_header",
    "patch_notebook",
    "pipeline_name_problem",
    "read_notebook",
    "write_notebook",
]
