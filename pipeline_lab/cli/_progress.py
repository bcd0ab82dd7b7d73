"""Live progress of a headless run: a rich table on a terminal, one line per node elsewhere."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline_lab.engine import NodeStatus, format_duration, plural
from pipeline_lab.events import (
    NodeFinished,
    NodeOutcome,
    NodeRetrying,
    NodeStarted,
    RunFinished,
    RunObserver,
    RunStarted,
)

_STYLE = {
    NodeStatus.SUCCEEDED: "green",
    NodeStatus.CACHED: "green",
    NodeStatus.FAILED: "bold red",
    NodeStatus.SKIPPED: "dim",
    NodeStatus.RUNNING: "cyan",
    NodeStatus.RETRYING: "yellow",
    NodeStatus.PENDING: "dim",
    NodeStatus.STALE: "dim",
}


def node_table(node_runs: Mapping[str, NodeOutcome], title: str | None = None) -> Any:
    from rich.table import Table
    from rich.text import Text

    # Text, not markup: a pipeline or node name is shown as typed, brackets included.
    table = Table(
        title=Text(title) if title is not None else None,
        title_justify="left",
        header_style="bold",
    )
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
            Text(name),
            Text(run.status.value, style=_STYLE[run.status]),
            f"{run.rows:,}" if run.rows is not None else "",
            format_duration(run.duration_s),
            str(run.attempts) if run.attempts else "",
        )
    return table


class ProgressObserver(RunObserver):
    """Shows each node's status while the run goes on (it keeps its own view of them)."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self.live: Any = None
        self._nodes: dict[str, NodeOutcome] = {}

    def on_run_started(self, event: RunStarted) -> None:
        self._nodes = {name: NodeOutcome(name) for name in event.run.nodes}
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live(
                node_table(self._nodes), console=self.console, refresh_per_second=8, transient=True
            )
            self.live.start()
        else:
            self.console.print(
                f"running {plural(len(self._nodes), 'node')} of '{event.run.name}'",
                markup=False,
                highlight=False,
            )

    def _refresh(self) -> None:
        if self.live is not None:
            self.live.update(node_table(self._nodes))

    def on_node_started(self, event: NodeStarted) -> None:
        self._nodes[event.node] = NodeOutcome(
            event.node, NodeStatus.RUNNING, event.attempt, event.at
        )
        self._refresh()

    def on_node_retrying(self, event: NodeRetrying) -> None:
        self._nodes[event.node] = self._nodes[event.node]._replace(status=NodeStatus.RETRYING)
        if self.live is None:
            self.console.print(
                f"  {event.node}: attempt {event.attempt} failed "
                f"({event.error.partition(':')[0]}); retrying in {format_duration(event.delay)}",
                markup=False,
                highlight=False,
            )
        self._refresh()

    def on_node_finished(self, event: NodeFinished) -> None:
        outcome = event.outcome
        self._nodes[outcome.name] = outcome
        if self.live is None:
            detail = f"{plural(outcome.rows, 'row')} " if outcome.rows is not None else ""
            self.console.print(
                f"  {outcome.status.value:<9} {outcome.name} {detail}"
                f"{format_duration(outcome.duration_s)}",
                markup=False,
                highlight=False,
            )
        self._refresh()

    def on_run_finished(self, event: RunFinished) -> None:
        self.stop()

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
