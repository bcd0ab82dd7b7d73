"""The graph as static SVG (no JavaScript): what a notebook shows where no kernel runs.

An executed notebook read without a kernel (nbconvert HTML, a code-hosting site, a papermill
report) has no live widget; this drawing rides along in the widget's display data, with every
node's status, rows and time. Every name and message is escaped: text, never markup.
"""

from __future__ import annotations

import re
from html import escape as _escape_html
from typing import Literal

from pipeline_lab.widgets._elements import GraphState
from pipeline_lab.widgets._style import (
    INVALID,
    KIND_BORDER,
    NODE_HEIGHT,
    NODE_WIDTH,
    STATUS_FILL,
    STATUS_TEXT,
)

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 forbids (or that only control a terminal): the SVG must parse."""
LONGEST_TITLE = 1_000


def escape(text: str) -> str:
    """``text`` as SVG/HTML text: markup escaped, characters XML forbids shown as ``�``."""
    return _escape_html(_NOT_XML.sub("\ufffd", text))


GAP = 40
"""Space between nodes of one layer."""
LAYER_GAP = 60
"""Space between layers (where the edges run)."""
MARGIN = 16
BOLD = ' font-weight="600"'

Direction = Literal["TB", "LR"]


def layered_positions(state: GraphState) -> dict[str, tuple[int, int]]:
    """Layer and slot of every node: its depth (longest path from a source), then the mean
    slot of its inputs (fewer crossings), top-to-bottom. Worked out once per shape of the
    graph: a run redraws colours and labels, not the layout."""
    key = (tuple(state.order()), tuple(state.edges()))
    if state.drawn is not None and state.drawn[0] == key:
        return state.drawn[1]
    positions = _layered(state)
    state.drawn = (key, positions)
    return positions


def _layered(state: GraphState) -> dict[str, tuple[int, int]]:
    order = state.order()
    edges = state.edges()
    inputs: dict[str, list[str]] = {name: [] for name in order}
    for source, target in edges:
        inputs[target].append(source)
    layer: dict[str, int] = {}
    for name in order:  # topological: inputs first
        layer[name] = 1 + max((layer.get(i, 0) for i in inputs[name]), default=-1)
    layers: dict[int, list[str]] = {}
    for name in order:
        layers.setdefault(layer[name], []).append(name)
    slot: dict[str, float] = {}
    for depth in sorted(layers):
        members = layers[depth]
        if depth:

            def mean_input(name: str) -> float:
                known = [slot[i] for i in inputs[name] if i in slot]
                return sum(known) / len(known) if known else float("inf")

            members.sort(key=mean_input)
        for index, name in enumerate(members):
            slot[name] = index
    return {name: (layer[name], int(slot[name])) for name in order}


def graph_svg(state: GraphState, direction: Direction = "TB") -> str:
    """The pipeline drawn as an SVG element (nodes coloured by status, framed by kind)."""
    positions = layered_positions(state)
    if not positions:
        return ""
    widest = max(slot for _, slot in positions.values()) + 1
    deepest = max(layer for layer, _ in positions.values()) + 1
    if direction == "TB":
        width = MARGIN * 2 + widest * NODE_WIDTH + (widest - 1) * GAP
        height = MARGIN * 2 + deepest * NODE_HEIGHT + (deepest - 1) * LAYER_GAP
    else:
        width = MARGIN * 2 + deepest * NODE_WIDTH + (deepest - 1) * LAYER_GAP
        height = MARGIN * 2 + widest * NODE_HEIGHT + (widest - 1) * GAP

    def box(name: str) -> tuple[float, float]:
        layer, slot = positions[name]
        if direction == "TB":
            return MARGIN + slot * (NODE_WIDTH + GAP), MARGIN + layer * (NODE_HEIGHT + LAYER_GAP)
        return MARGIN + layer * (NODE_WIDTH + LAYER_GAP), MARGIN + slot * (NODE_HEIGHT + GAP)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pipeline-lab-graph-svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="system-ui, sans-serif" font-size="11" role="img" '
        f'aria-label="pipeline {escape(state.pipeline.name)}">',
        '<defs><marker id="pl-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#8c959f"/></marker></defs>',
    ]
    for source, target in state.edges():
        (sx, sy), (tx, ty) = box(source), box(target)
        if direction == "TB":
            x1, y1 = sx + NODE_WIDTH / 2, sy + NODE_HEIGHT
            x2, y2 = tx + NODE_WIDTH / 2, ty
            mid = (y1 + y2) / 2
            path = (
                f"M {x1:.0f} {y1:.0f} C {x1:.0f} {mid:.0f}, {x2:.0f} {mid:.0f}, {x2:.0f} {y2:.0f}"
            )
        else:
            x1, y1 = sx + NODE_WIDTH, sy + NODE_HEIGHT / 2
            x2, y2 = tx, ty + NODE_HEIGHT / 2
            mid = (x1 + x2) / 2
            path = (
                f"M {x1:.0f} {y1:.0f} C {mid:.0f} {y1:.0f}, {mid:.0f} {y2:.0f}, {x2:.0f} {y2:.0f}"
            )
        rows = state.edge_data(source, target)["rows"]
        title = f"{source} → {target}" + (f": {rows:,} rows" if rows is not None else "")
        parts.append(
            f'<path d="{path}" fill="none" stroke="#8c959f" stroke-width="1.5" '
            f'marker-end="url(#pl-arrow)"><title>{escape(title)}</title></path>'
        )
    for name in positions:
        x, y = box(name)
        data = state.node_data(name)
        fill = STATUS_FILL.get(data["status"], STATUS_FILL["pending"])
        stroke = INVALID if data["problem"] else KIND_BORDER.get(data["kind"], "#57606a")
        stroke_width = 3 if data["problem"] else 2
        dash = ' stroke-dasharray="4 3"' if data["fused_into"] else ""
        radius = 14 if data["kind"] == "source" else 6 if data["kind"] != "code" else 2
        tip = f"{name} ({data['kind']}, {data['status']})"
        if data["problem"]:
            tip += f"\nproblem: {data['problem']}"
        error = state.nodes[name].error if name in state.nodes else None
        if error:
            tip += f"\n{error}"
        if len(tip) > LONGEST_TITLE:  # the drawing is saved in the notebook: keep it small
            tip = tip[: LONGEST_TITLE - 1] + "…"
        color = STATUS_TEXT.get(data["status"], "#1f2328")
        lines = data["label"].split("\n")
        text_y = y + NODE_HEIGHT / 2 - (len(lines) - 1) * 7
        spans = "".join(
            f'<tspan x="{x + NODE_WIDTH / 2:.0f}" y="{text_y + i * 14:.0f}"'
            f"{BOLD if i == 0 else ''}>{escape(_fit(line))}</tspan>"
            for i, line in enumerate(lines)
        )
        parts.append(
            f'<g class="node {escape(data["kind"])} {escape(data["status"])}" '
            f'data-id="{escape(name)}"><title>{escape(tip)}</title>'
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" '
            f'rx="{radius}" fill="{fill}" stroke="{stroke}" stroke-width="{stroke_width}"{dash}/>'
            f'<text text-anchor="middle" dominant-baseline="middle" fill="{color}">{spans}</text>'
            "</g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _fit(line: str, limit: int = 26) -> str:
    """A label line cut to what fits the box (the full text is in the node's title)."""
    return line if len(line) <= limit else line[: limit - 1] + "…"


HIDE_BESIDE_LIVE_GRAPH = (
    "<style>.jp-OutputArea-child:has(.pipeline-lab-graph) + "
    ".jp-OutputArea-child:has(.pipeline-lab-graph-static) { display: none; }</style>"
)
"""Where the live widget rendered just above (JupyterLab with a kernel, or a viewer that
loads widgets), the static drawing below it hides itself; anywhere else it is the graph."""


def graph_html(
    state: GraphState, direction: Direction = "TB", *, note: str = "", beside_live: bool = False
) -> str:
    """The static view: a title, the SVG, and a legend line; ``beside_live``: displayed
    right after the live widget, which it gives way to where that renders."""
    summary = state.counts()
    title = (
        f"<strong>pipeline {escape(state.pipeline.name)}</strong> "
        f"({len(state.pipeline.nodes)} nodes{': ' + escape(summary) if summary else ''})"
    )
    if not state.pipeline.nodes:
        return (HIDE_BESIDE_LIVE_GRAPH if beside_live else "") + (
            f"<div class='pipeline-lab-graph-static'>{title}: no nodes yet</div>"
        )
    extra = f"<div style='color:#57606a'>{escape(note)}</div>" if note else ""
    return (
        (HIDE_BESIDE_LIVE_GRAPH if beside_live else "")
        + f"<div class='pipeline-lab-graph-static' style='overflow:auto;max-height:720px'>"
        f"<div>{title}</div>{graph_svg(state, direction)}{extra}</div>"
    )
