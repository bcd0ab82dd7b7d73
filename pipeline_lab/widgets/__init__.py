"""The pipeline as a live graph in the notebook, and the visual builder (ipycytoscape).

``PipelineGraph`` draws a pipeline (nodes coloured by status, shaped by kind), follows its
runs live, and opens an inspector on a click; :func:`session_graph` makes one for the
kernel's pipeline, wired to the session. The element data is pinned (see ``_elements``).
"""

from __future__ import annotations

from pipeline_lab.widgets._elements import GraphState, NodeState, fused_chains, node_kind
from pipeline_lab.widgets._graph import PipelineGraph
from pipeline_lab.widgets._session import pipeline_graph, session_graph
from pipeline_lab.widgets._static import graph_html, graph_svg

__all__ = [
    "GraphState",
    "NodeState",
    "PipelineGraph",
    "fused_chains",
    "graph_html",
    "graph_svg",
    "node_kind",
    "pipeline_graph",
    "session_graph",
]
