"""``pipeline-lab runs`` and ``pipeline-lab runs show``."""

from __future__ import annotations

import json

from pipeline_lab.cli._render import console as make_console
from pipeline_lab.cli._render import escape
from pipeline_lab.engine import format_duration

CELL_SOURCES = ("cell",)
"""Runs of one ``%%pipeline`` cell in a kernel: many, small; listed only with ``--all``."""


def list_runs(*, pipeline: str | None, limit: int, as_json: bool, everything: bool = False) -> int:
    from pipeline_lab.store import RunRepository

    repository = RunRepository()
    repository.reap_abandoned()  # a run whose process died shows as abandoned, not running
    hidden = () if everything else CELL_SOURCES
    runs = repository.list_runs(pipeline=pipeline, limit=limit, hide_sources=hidden)
    if as_json:
        print(json.dumps([r.to_dict() for r in runs], indent=2, default=str))
        return 0
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold")
    for column in ("run", "pipeline", "status", "source", "started", "time", "nodes"):
        table.add_column(column)
    for r in runs:
        data = r.to_dict()
        # Every value as Text, never markup: anyone sharing the store names the pipelines.
        table.add_row(
            *(
                Text(str(value))
                for value in (
                    data["run_id"][:8],
                    data["pipeline"],
                    data["status"],
                    data.get("source") or "",
                    str(data["started_at"])[:19],
                    format_duration(data.get("duration_s")),
                    data.get("nodes", ""),
                )
            )
        )
    console = make_console()
    cells = repository.count_runs(sources=CELL_SOURCES, pipeline=pipeline) if hidden else 0
    if not runs:
        if pipeline:
            console.print(
                f"no runs of pipeline '{pipeline}' (pipeline-lab runs lists them all)",
                markup=False,
            )
        else:
            console.print("no runs recorded yet; try: pipeline-lab run NOTEBOOK")
    else:
        console.print(table)
    if cells:
        console.print(
            f"[dim]{cells} run(s) of single notebook cells not listed (pipeline-lab runs --all)[/]"
        )
    return 0


def show_run(run_id: str, *, as_json: bool) -> int:
    from pipeline_lab.store import RunRepository

    repository = RunRepository()
    repository.reap_abandoned()
    detail = repository.get_run(run_id)
    data = detail.to_dict()
    if as_json:
        print(json.dumps(data, indent=2, default=str))
        return 0
    from rich.table import Table
    from rich.text import Text

    # Everything from the store is shown as typed (escaped): it may come from anyone.
    console = make_console()
    console.print(
        f"run [bold]{escape(data['run_id'])}[/] of pipeline [bold]{escape(data['pipeline'])}[/]: "
        f"{escape(data['status'])} ({escape(str(data.get('source')))}, "
        f"{escape(str(data.get('executor')))})"
    )
    console.print(
        f"started {escape(str(data['started_at']))}, took "
        f"{format_duration(data.get('duration_s'))}; "
        f"params {escape(json.dumps(data.get('params') or {}, default=str))}"
    )
    if data.get("host"):
        console.print(f"[dim]on {escape(data['host'])}, pid {data.get('pid')}[/]")
    if data.get("error"):
        why = f" ({data['reason']})" if data.get("reason") else ""
        console.print(f"[bold red]{escape(data['error'].splitlines()[0])}[/]{escape(why)}")
    table = Table(header_style="bold")
    for column in ("node", "status", "rows", "time", "attempts", "error"):
        table.add_column(column)
    for node in data["nodes"]:
        table.add_row(
            Text(node["name"]),
            Text(node["status"]),
            f"{node['rows']:,}" if node.get("rows") is not None else "",
            format_duration(node.get("duration_s")),
            str(node.get("attempts") or ""),
            Text((node.get("error") or "").splitlines()[0] if node.get("error") else ""),
        )
    console.print(table)
    for node in data["nodes"]:
        for check in node.get("checks") or ():
            mark = "[green]passed[/]" if check.get("passed") else "[bold red]failed[/]"
            console.print(
                f"  check {escape(node['name'])}: {escape(str(check.get('rule')))} {mark} "
                f"({check.get('failed_rows', 0)} of {check.get('total_rows', 0)} rows failing)"
            )
        for use in node.get("datasets") or ():
            arrow = "<-" if use.get("direction") == "input" else "->"
            console.print(
                f"  {escape(node['name'])} {arrow} {escape(str(use.get('namespace')))} "
                f"{escape(str(use.get('name')))}"
            )
    # The whole story of what failed: each error with the user's traceback, as run printed it.
    if data.get("setup_error"):
        console.print("[bold red]setup failed[/]")
        console.print(Text(data["setup_error"].rstrip()))
    for node in data["nodes"]:
        if node["status"] == "failed":
            console.print(f"[bold red]node {escape(node['name'])} failed[/]")
            console.print(Text((node.get("traceback") or node.get("error") or "").rstrip()))
    for cell, error in (data.get("report_errors") or {}).items():
        console.print(f"[yellow]report cell {escape(str(cell))} did not complete[/]")
        console.print(Text(str(error).rstrip()))
    for error in data.get("hook_errors") or ():
        console.print(Text(f"hook error: {error}"))
    return 0 if data["status"] == "succeeded" else 1
