"""The panel beside the graph: what a clicked node holds, how it ran, what flows on an edge.

Everything shown comes from the kernel's values, the session's last runs and the store; every
name, value and message is escaped (an ``ipywidgets.HTML`` value is markup), and the preview
grid draws cells as text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

import ipywidgets as widgets

from pipeline_lab.engine import format_duration
from pipeline_lab.widgets._elements import GraphState

PREVIEW_ROWS = 1_000
"""Rows the preview grid shows (the frame itself is never converted whole)."""
HISTORY_RUNS = 10
MUTED = "color:#57606a"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f"<td style='text-align:left;padding:2px 8px'>{escape(str(c))}</td>" for c in r)
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def schema_rows(value: Any) -> list[tuple[str, str, str]] | None:
    """Column, type and null count of a polars or pandas frame; ``None`` for anything else."""
    kind = type(value).__module__.split(".")[0]
    if kind == "polars" and type(value).__name__ == "DataFrame":
        nulls = value.null_count().row(0) if value.width else ()
        return [
            (name, str(dtype), f"{count:,}")
            for (name, dtype), count in zip(value.schema.items(), nulls, strict=False)
        ]
    if kind == "polars" and type(value).__name__ == "LazyFrame":
        return [(name, str(dtype), "") for name, dtype in value.collect_schema().items()]
    if kind == "pandas" and type(value).__name__ == "DataFrame":
        nulls = value.isna().sum()
        return [
            (str(name), str(dtype), f"{int(nulls[name]):,}") for name, dtype in value.dtypes.items()
        ]
    return None


def preview_frame(value: Any) -> Any:
    """The first rows of a frame as pandas, for the grid (polars converted for display only)."""
    kind = type(value).__module__.split(".")[0]
    if kind == "polars" and type(value).__name__ == "DataFrame":
        return value.head(PREVIEW_ROWS).to_pandas()
    if kind == "pandas" and type(value).__name__ == "DataFrame":
        return value.head(PREVIEW_ROWS)
    return None


class Inspector(widgets.VBox):
    """What the user clicked: a node (preview, schema, code, runs, error) or an edge."""

    def __init__(
        self,
        state: Callable[[], GraphState],
        values: Callable[[str], Any],
        history: Callable[[str], list[tuple[str, str, Any]]] | None = None,
        code: Callable[[str], str] | None = None,
        traceback: Callable[[str], str | None] | None = None,
        shown: Callable[[bool], None] | None = None,
    ) -> None:
        self._state = state
        self._shown = shown
        self._values = values
        self._history = history
        self._code = code
        self._traceback = traceback
        self.title = widgets.HTML()
        self.tabs = widgets.Tab()
        self.selected: str | None = None
        super().__init__(
            [self.title, self.tabs],
            layout=widgets.Layout(
                flex="0 0 42%", min_width="320px", display="none", overflow="auto"
            ),
        )
        self.add_class("pipeline-lab-inspector")

    def hide(self) -> None:
        self.selected = None
        self._display(False)

    def _display(self, visible: bool) -> None:
        """Show or hide the panel; the graph beside it is told, to fit its new width."""
        display = "flex" if visible else "none"
        if self.layout.display != display:
            self.layout.display = display
            if self._shown is not None:
                self._shown(visible)

    def show_node(self, name: str) -> None:
        state = self._state()
        if name not in state.pipeline.nodes:
            self.hide()
            return
        self.selected = name
        data = state.node_data(name)
        title = (
            f"<b>{escape(name)}</b> <span style='{MUTED}'>{escape(data['kind'])} · "
            f"{escape(data['status'])}</span>"
        )
        if data["problem"]:
            title += f"<div style='color:#cf222e'>problem: {escape(data['problem'])}</div>"
        if data["fused_into"]:
            title += (
                f"<div style='{MUTED}'>runs fused into the plan of "
                f"{escape(data['fused_into'])} in a headless run</div>"
            )
        self.title.value = title
        pages: list[tuple[str, widgets.Widget]] = [
            ("Preview", _safely(self._preview, name)),
            ("Schema", _safely(self._schema, name)),
            ("Code", _safely(self._code_page, name)),
        ]
        if self._history is not None:
            pages.append(("Runs", _safely(self._runs, name)))
        error = self._error(name)
        if error is not None:
            pages.append(("Error", error))
        self.tabs.children = [page for _, page in pages]
        for index, (label, _) in enumerate(pages):
            self.tabs.set_title(index, label)
        self.tabs.selected_index = len(pages) - 1 if error is not None else 0
        self._display(True)

    def show_edge(self, source: str, target: str) -> None:
        self.selected = None
        value = self._values(source)
        try:
            rows = schema_rows(value)
        except Exception as exc:  # an odd frame (duplicate column names, ...): say so
            rows = [("(cannot read the columns)", type(exc).__name__, str(exc)[:200])]
        self.title.value = (
            f"<b>{escape(source)} → {escape(target)}</b> "
            f"<span style='{MUTED}'>the columns {escape(target)} gets from {escape(source)}</span>"
        )
        if rows is None:
            body = (
                f"<div style='{MUTED}'>run {escape(source)} to see what flows here</div>"
                if value is None
                else f"<div>a {escape(type(value).__name__)}, not a table</div>"
            )
        else:
            body = _table(["column", "type", "nulls"], rows)
        page = widgets.HTML(body)
        self.tabs.children = [page]
        self.tabs.set_title(0, "Columns")
        self.tabs.selected_index = 0
        self._display(True)

    # -- pages -----------------------------------------------------------------------------
    def _preview(self, name: str) -> widgets.Widget:
        value = self._values(name)
        if value is None:
            return widgets.HTML(f"<div style='{MUTED}'>no value yet: run the node</div>")
        frame = preview_frame(value)
        if frame is None:
            text = repr(value)
            text = text if len(text) <= 4_000 else text[:4_000] + "…"
            if type(value).__name__ == "LazyFrame":
                text = "a lazy plan (collected where a node needs its rows)"
            return widgets.HTML(f"<pre style='white-space:pre-wrap'>{escape(text)}</pre>")
        from ipydatagrid import DataGrid

        total = getattr(value, "shape", (len(frame),))[0]
        note = widgets.HTML(
            f"<div style='{MUTED}'>first {len(frame):,} of {total:,} rows</div>"
            if total > len(frame)
            else f"<div style='{MUTED}'>{total:,} rows</div>"
        )
        grid = DataGrid(
            frame.reset_index(drop=True),
            layout=widgets.Layout(height="300px"),
            base_column_size=110,
            selection_mode="cell",
        )
        grid.add_class("pipeline-lab-preview")
        return widgets.VBox([note, grid])

    def _schema(self, name: str) -> widgets.Widget:
        rows = schema_rows(self._values(name))
        if rows is None:
            return widgets.HTML(f"<div style='{MUTED}'>no table output yet</div>")
        return widgets.HTML(_table(["column", "type", "nulls"], rows))

    def _code_page(self, name: str) -> widgets.Widget:
        node = self._state().pipeline.nodes[name]
        parts = []
        if node.component is not None:
            import yaml

            params = yaml.safe_dump(dict(node.params), sort_keys=False).rstrip()
            parts.append(f"<div style='{MUTED}'>component {escape(node.component)}</div>")
            parts.append(f"<pre>{escape(params)}</pre>")
        elif node.code is not None:
            parts.append(f"<pre>{escape(node.code)}</pre>")
        if self._code is not None and node.component is not None:
            try:
                code = self._code(name)
            except Exception as exc:  # the parameters are not valid yet: the page says why
                code = f"# cannot render the polars code: {exc}"
            parts.append(f"<div style='{MUTED}'>as polars code</div><pre>{escape(code)}</pre>")
        if node.func is not None:
            parts.append(f"<pre>{escape(getattr(node.func, '__qualname__', str(node.func)))}</pre>")
        return widgets.HTML("".join(parts))

    def _runs(self, name: str) -> widgets.Widget:
        assert self._history is not None
        try:
            history = self._history(name)
        except Exception as exc:  # the store is down or off: the rest of the panel still works
            return widgets.HTML(f"<div style='{MUTED}'>runs unavailable: {escape(str(exc))}</div>")
        if not history:
            return widgets.HTML(f"<div style='{MUTED}'>no recorded runs of this node yet</div>")
        rows = [
            (
                run.status,
                run.attempts,
                f"{run.rows:,}" if run.rows is not None else "",
                format_duration(run.duration_s),
                run.started_at.strftime("%Y-%m-%d %H:%M:%S") if run.started_at else "",
                source,
                run_id[:8],
            )
            for run_id, source, run in history
        ]
        header = ["status", "attempts", "rows", "time", "started", "from", "run"]
        return widgets.HTML(_table(header, rows))

    def _error(self, name: str) -> widgets.Widget | None:
        state = self._state()
        seen = state.nodes.get(name)
        if seen is None or not seen.error or state.status(name).ok:
            return None
        traceback = self._traceback(name) if self._traceback is not None else None
        body = f"<pre style='white-space:pre-wrap;color:#a40e26'>{escape(seen.error)}</pre>"
        if traceback:
            body += f"<pre style='white-space:pre-wrap'>{escape(traceback)}</pre>"
        return widgets.HTML(body)


def _safely(page: Callable[[str], widgets.Widget], name: str) -> widgets.Widget:
    """A page, or what stopped it (a value whose repr raises, a frame the grid refuses)."""
    try:
        return page(name)
    except Exception as exc:
        text = f"cannot show this: {type(exc).__name__}: {exc}"
        return widgets.HTML(f"<div style='{MUTED}'>{escape(text[:2_000])}</div>")


def kernel_values(
    namespace: Mapping[str, Any], nodes: Callable[[], Mapping[str, Any]]
) -> Callable[[str], Any]:
    """Values of nodes as the kernel holds them (``None`` until a node ran)."""

    def value(name: str) -> Any:
        return namespace.get(name) if name in nodes() else None

    return value
