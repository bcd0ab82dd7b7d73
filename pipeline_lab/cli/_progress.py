"""Live progress of a headless run: a rich table on a terminal, one line per node elsewhere."""

from __future__ import annotations

import threading
from typing import Any

from pipeline_lab.engine import NodeRun, NodeStatus, RunHooks, RunResult, format_duration, plural

_STYLE = {
    NodeStatus.SUCCEEDED: "green",
    NodeStatus.CACHED: "green",
    NodeStatus.FAILED: "bold red",
    NodeStatus.SKIPPED: "dim",
    NodeStatus.RUNNING: "cyan",
    NodeStatus.RETRYING: "yellow",
    NodeStatus.PENDING: "dim",
}


def node_table(node_runs: dict[str, NodeRun], title: str | None = None) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for column, justify in (
        ("node", "left"),
        ("status", "left"),
        ("rows", "right"),
        ("time", "right"),
        ("attempts", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for name, run in node_runs.items():
        table.add_row(
            name,
            f"[{_STYLE[run.status]}]{run.status.value}[/]",
            f"{run.rows:,}" if run.rows is not None else "",
            format_duration(run.duration_s),
            str(run.attempts) if run.attempts else "",
        )
    return table


class ProgressHook(RunHooks):
    """Shows each node's status while the run goes on."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self.live: Any = None
        self._lock = threading.Lock()
        self._runs: dict[str, NodeRun] = {}

    def on_run_start(self, *, run: Any, **future: Any) -> None:
        self._runs = run.node_runs
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live(
                node_table(self._runs), console=self.console, refresh_per_second=8, transient=True
            )
            self.live.start()
        else:
            self.console.print(f"running {len(self._runs)} node(s) of '{run.pipeline.name}'")

    def _refresh(self) -> None:
        if self.live is not None:
            with self._lock:
                self.live.update(node_table(self._runs))

    def on_node_start(self, *, run: Any, node: Any, **future: Any) -> None:
        self._refresh()

    def on_node_retry(
        self,
        *,
        run: Any,
        node: Any,
        attempt: int,
        error: BaseException,
        delay: float,
        **future: Any,
    ) -> None:
        if self.live is None:
            self.console.print(
                f"  {node.name}: attempt {attempt} failed ({type(error).__name__}); "
                f"retrying in {format_duration(delay)}",
                markup=False,
                highlight=False,
            )
        self._refresh()

    def on_node_end(self, *, run: Any, node: Any, result: NodeRun, **future: Any) -> None:
        if self.live is None:
            detail = f"{plural(result.rows, 'row')} " if result.rows is not None else ""
            self.console.print(
                f"  {result.status.value:<9} {node.name} {detail}{format_duration(result.duration_s)}",
                markup=False,
                highlight=False,
            )
        self._refresh()

    def on_run_end(self, *, run: Any, result: RunResult, **future: Any) -> None:
        self.stop()

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
