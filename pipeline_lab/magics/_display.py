"""Text and HTML views of nodes and runs for the notebook (every data value is escaped)."""

from __future__ import annotations

from html import escape
from typing import Literal

from pipeline_lab.engine import NodeRun, NodeStatus
from pipeline_lab.engine._summary import COLOR, MARK, format_duration
from pipeline_lab.graph import Pipeline


class NodeTable:
    """The pipeline's nodes with their inputs and last run, as text or as an HTML table."""

    def __init__(
        self,
        pipeline: Pipeline,
        runs: dict[str, NodeRun],
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
            rows.append(
                {
                    "node": name,
                    "kind": node.kind if not node.component else f"component:{node.component}",
                    "inputs": ", ".join(
                        [*self.pipeline.dependencies(name), *self.pipeline.parameters_of(name)]
                    ),
                    "status": f"{MARK[status]} {status.value}",
                    "rows": f"{run.rows:,}" if run and run.rows is not None else "",
                    "time": format_duration(run.duration_s) if run else "",
                    "checks": str(len(node.checks)) if node.checks else "",
                    "error": (run.error or "").splitlines()[0] if run and run.error else "",
                    "_status": status.value,
                }
            )
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
            return (
                f"pipeline '{self.pipeline.name}' has no nodes yet; define one with %%pipeline NAME"
            )
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
            color = COLOR.get(NodeStatus(r["_status"]), "inherit")
            cells = "".join(
                f"<td style='text-align:left;color:{color if c == 'status' else 'inherit'}'>{escape(r[c])}</td>"
                for c in columns
            )
            body.append(f"<tr>{cells}</tr>")
        return f"<div class='pipeline-lab-table'>{title}<table><tr>{head}</tr>{''.join(body)}</table></div>"
