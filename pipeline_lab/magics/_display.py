"""Text and HTML views of nodes and runs for the notebook (every data value is escaped)."""

from __future__ import annotations

from html import escape
from typing import Literal

from pipeline_lab.engine import NodeRun, NodeStatus, RunResult
from pipeline_lab.graph import Pipeline

_MARK = {
    NodeStatus.SUCCEEDED: "✓", NodeStatus.CACHED: "✓", NodeStatus.FAILED: "✗",
    NodeStatus.SKIPPED: "–", NodeStatus.PENDING: "·", NodeStatus.RUNNING: "…",
    NodeStatus.RETRYING: "↻",
}
_COLOR = {NodeStatus.SUCCEEDED: "#1a7f37", NodeStatus.FAILED: "#cf222e", NodeStatus.SKIPPED: "#6e7781"}


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s" if seconds < 60 else f"{seconds // 60:.0f} min {seconds % 60:.0f} s"


def format_shape(run: NodeRun) -> str:
    if run.rows is None:
        return ""
    return f"{run.rows:,} rows × {run.columns} columns"


def node_summary(run: NodeRun) -> str:
    """One line per node: ``✓ orders: 2,000 rows × 5 columns in 31 ms · 1 check passed``."""
    parts = [f"{_MARK[run.status]} {run.name}: {run.status.value}"]
    if run.status.ok:
        parts = [f"{_MARK[run.status]} {run.name}:"]
        parts.append(format_shape(run) or type(run.output).__name__)
        parts.append(f"in {format_duration(run.duration_s)}")
        if run.checks:
            parts.append(f"· {len(run.checks)} check{'s' if len(run.checks) > 1 else ''} passed")
    elif run.status is NodeStatus.FAILED and run.duration_s is not None:
        parts.append(f"after {format_duration(run.duration_s)}")
    if run.attempts > 1:
        parts.append(f"({run.attempts} attempts)")
    if run.status is NodeStatus.SKIPPED and run.error:
        parts.append(f"({run.error.removeprefix('skipped: ')})")
    return " ".join(parts)


def run_summary(result: RunResult) -> str:
    lines = [str(result)]
    if result.setup_error:
        lines.append(f"setup failed: {result.setup_error.splitlines()[0]}")
    for name in result.failed:
        error = result.node_runs[name].error or ""
        lines.append(f"  {name}: {error.splitlines()[0] if error else 'failed'}")
    for index, error in result.report_errors.items():
        lines.append(f"  report cell {index}: {error.splitlines()[-1] if error else 'failed'}")
    for error in result.hook_errors:
        lines.append(f"  hook: {error}")
    return "\n".join(lines)


class NodeTable:
    """The pipeline's nodes with their inputs and last run, as text or as an HTML table."""

    def __init__(
        self, pipeline: Pipeline, runs: dict[str, NodeRun],
        view: Literal["show", "status", "nodes"] = "show",
    ) -> None:
        self.pipeline = pipeline
        self.runs = runs
        self.view = view

    def _rows(self) -> list[dict[str, str]]:
        rows = []
        try:
            order = self.pipeline.order()
        except Exception:
            order = list(self.pipeline.nodes)
        for name in order:
            node = self.pipeline.nodes[name]
            run = self.runs.get(name)
            status = run.status if run else NodeStatus.PENDING
            rows.append({
                "node": name,
                "kind": node.kind if not node.component else f"component:{node.component}",
                "inputs": ", ".join([*self.pipeline.dependencies(name), *self.pipeline.parameters_of(name)]),
                "status": f"{_MARK[status]} {status.value}",
                "rows": f"{run.rows:,}" if run and run.rows is not None else "",
                "time": format_duration(run.duration_s) if run else "",
                "checks": str(len(node.checks)) if node.checks else "",
                "error": (run.error or "").splitlines()[0] if run and run.error else "",
                "_status": status.value,
            })
        return rows

    def _columns(self) -> list[str]:
        if self.view == "nodes":
            return ["node", "kind", "inputs", "checks"]
        if self.view == "status":
            return ["node", "status", "rows", "time", "error"]
        return ["node", "inputs", "status", "rows", "time", "checks"]

    def __repr__(self) -> str:
        rows = self._rows()
        if not rows:
            return f"pipeline '{self.pipeline.name}' has no nodes yet; define one with %%pipeline NAME"
        columns = self._columns()
        widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
        lines = [f"pipeline '{self.pipeline.name}' ({len(rows)} nodes)"]
        lines.append("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
        lines += ["  ".join(r[c].ljust(widths[c]) for c in columns).rstrip() for r in rows]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = self._rows()
        title = f"<strong>pipeline {escape(self.pipeline.name)}</strong> ({len(rows)} nodes)"
        if not rows:
            return f"<div>{title}: no nodes yet; define one with <code>%%pipeline NAME</code></div>"
        columns = self._columns()
        head = "".join(f"<th style='text-align:left'>{escape(c)}</th>" for c in columns)
        body = []
        for r in rows:
            color = _COLOR.get(NodeStatus(r["_status"]), "inherit")
            cells = "".join(
                f"<td style='text-align:left;color:{color if c == 'status' else 'inherit'}'>{escape(r[c])}</td>"
                for c in columns
            )
            body.append(f"<tr>{cells}</tr>")
        return f"<div class='pipeline-lab-table'>{title}<table><tr>{head}</tr>{''.join(body)}</table></div>"
