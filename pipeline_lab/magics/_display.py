"""Text and HTML views of nodes and runs for the notebook (every data value is escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Literal

from pipeline_lab.engine import COLOR, MARK, NodeRun, NodeStatus, format_duration
from pipeline_lab.graph import Pipeline

if TYPE_CHECKING:
    from pipeline_lab.connectors import DataSourceConfig


class NodeTable:
    """The pipeline's nodes with their inputs and last run, as text or as an HTML table."""

    def __init__(
        self,
        pipeline: Pipeline,
        runs: dict[str, NodeRun],
        view: Literal["show", "status", "nodes"] = "show",
        *,
        stale: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        self.pipeline = pipeline
        self.runs = runs
        self.view = view
        self.stale = stale

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
                    "status": f"{MARK[status]} {status.value}"
                    + (" (stale: an upstream node ran since)" if name in self.stale else ""),
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


class ComponentTable:
    """The component library by category, with each component's parameters."""

    def _rows(self) -> list[dict[str, str]]:
        from pipeline_lab.components import components_by_category

        rows = []
        for category, classes in sorted(components_by_category().items()):
            for cls in classes:
                fields = cls.Params.model_fields
                params = ", ".join(
                    k if info.is_required() else f"[{k}]" for k, info in fields.items()
                )
                rows.append(
                    {
                        "component": cls.name,
                        "category": category,
                        "description": cls.description,
                        "parameters": params,
                    }
                )
        return rows

    def __repr__(self) -> str:
        rows = self._rows()
        lines = [f"{len(rows)} components (use: %%pipeline NAME --component KIND, YAML parameters)"]
        for r in rows:
            lines.append(f"  {r['component']:<14} {r['category']:<10} {r['description']}")
            lines.append(f"  {'':<14} {'':<10} parameters: {r['parameters']}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = self._rows()
        head = "".join(
            f"<th style='text-align:left'>{c}</th>"
            for c in ("component", "category", "description", "parameters")
        )
        body = "".join(
            "<tr>"
            + "".join(
                f"<td style='text-align:left'>{escape(r[c])}</td>"
                for c in ("component", "category", "description", "parameters")
            )
            + "</tr>"
            for r in rows
        )
        note = "<code>%%pipeline NAME --component KIND</code> with YAML parameters; [optional]"
        return f"<div class='pipeline-lab-table'><table><tr>{head}</tr>{body}</table>{note}</div>"


class SourceTable:
    """The managed data sources: name, kind, URL without password, secret references."""

    columns = ("name", "kind", "url", "options", "secrets")

    def __init__(self, sources: Sequence[DataSourceConfig]) -> None:
        self.sources = sources

    def _rows(self) -> list[dict[str, str]]:
        from pipeline_lab.connectors import safe_url

        return [
            {
                "name": source.name or "",
                "kind": source.kind,
                "url": safe_url(source.url),
                "options": ", ".join(f"{k}={v!r}" for k, v in source.options.items()),
                # References only (env:NAME): the values are resolved when connecting, never here.
                "secrets": ", ".join(f"{k}: {ref}" for k, ref in source.secrets.items()),
            }
            for source in self.sources
        ]

    def __repr__(self) -> str:
        rows = self._rows()
        if not rows:
            return _NO_SOURCES
        widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in self.columns}
        lines = [f"{len(rows)} data source(s); read one with pipeline_lab.read('NAME', ...)"]
        lines.append("  ".join(c.ljust(widths[c]) for c in self.columns).rstrip())
        lines += ["  ".join(r[c].ljust(widths[c]) for c in self.columns).rstrip() for r in rows]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = self._rows()
        if not rows:
            return f"<div>{escape(_NO_SOURCES)}</div>"
        head = "".join(f"<th style='text-align:left'>{escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>"
            + "".join(f"<td style='text-align:left'>{escape(r[c])}</td>" for c in self.columns)
            + "</tr>"
            for r in rows
        )
        title = (
            f"<strong>{len(rows)} data source(s)</strong>; read one with "
            "<code>pipeline_lab.read('NAME', ...)</code>"
        )
        return f"<div class='pipeline-lab-table'>{title}<table><tr>{head}</tr>{body}</table></div>"


_NO_SOURCES = "no data sources yet; add one with: pipeline-lab sources add NAME URL"
