"""Colours and shapes of the graph, shared by the live widget and its static SVG."""

from __future__ import annotations

from typing import Any

STATUS_FILL = {
    "pending": "#f6f8fa",
    "running": "#ddf4ff",
    "retrying": "#fff8c5",
    "succeeded": "#dafbe1",
    "cached": "#d1f0e0",
    "failed": "#ffebe9",
    "skipped": "#eaeef2",
    "stale": "#fff1e5",
}
STATUS_TEXT = {"failed": "#a40e26", "skipped": "#6e7781", "running": "#0550ae"}
KIND_BORDER = {
    "source": "#0969da",
    "transform": "#8250df",
    "sink": "#bf3989",
    "check": "#9a6700",
    "code": "#57606a",
}
KIND_SHAPE = {
    "source": "barrel",
    "transform": "round-rectangle",
    "sink": "cut-rectangle",
    "check": "hexagon",
    "code": "rectangle",
}
INVALID = "#cf222e"
NODE_WIDTH = 170
NODE_HEIGHT = 46


def cytoscape_style() -> list[dict[str, Any]]:
    """The stylesheet: by kind (border, shape) and status (fill); problems outlined in red."""
    style: list[dict[str, Any]] = [
        {
            "selector": "node",
            "style": {
                "label": "data(label)",
                "text-wrap": "wrap",
                "text-valign": "center",
                "text-halign": "center",
                "font-size": "11px",
                "font-family": "system-ui, sans-serif",
                "width": NODE_WIDTH,
                "height": NODE_HEIGHT,
                "border-width": 2,
                "background-color": STATUS_FILL["pending"],
                "color": "#1f2328",
            },
        },
        {
            "selector": "edge",
            "style": {
                "width": 1.5,
                "line-color": "#8c959f",
                "target-arrow-color": "#8c959f",
                "target-arrow-shape": "triangle",
                "curve-style": "bezier",
            },
        },
        {
            "selector": "node.group",
            "style": {
                "label": "data(label)",
                "text-valign": "top",
                "text-halign": "center",
                "font-size": "10px",
                "color": "#57606a",
                "background-color": "#f3eefc",
                "background-opacity": 0.5,
                "border-style": "dashed",
                "border-width": 1,
                "border-color": KIND_BORDER["transform"],
                "shape": "round-rectangle",
                "padding": "12px",
            },
        },
    ]
    for kind, color in KIND_BORDER.items():
        style.append(
            {
                "selector": f"node.{kind}",
                "style": {"border-color": color, "shape": KIND_SHAPE[kind]},
            }
        )
    for status, fill in STATUS_FILL.items():
        css: dict[str, Any] = {"background-color": fill}
        if status in STATUS_TEXT:
            css["color"] = STATUS_TEXT[status]
        if status == "running":
            css["border-width"] = 3
        style.append({"selector": f"node.{status}", "style": css})
    style += [
        {"selector": "node.fused", "style": {"border-style": "dotted"}},
        {
            "selector": "node.invalid",
            "style": {"border-color": INVALID, "border-width": 4, "border-style": "double"},
        },
        {
            "selector": "node:selected",
            "style": {"overlay-color": "#0969da", "overlay-opacity": 0.15},
        },
        {
            "selector": "node.connect-from",
            "style": {"overlay-color": "#bf8700", "overlay-opacity": 0.25},
        },
    ]
    return style
