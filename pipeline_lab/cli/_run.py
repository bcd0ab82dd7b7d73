"""``pipeline-lab run`` and ``pipeline-lab demo``."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline_lab.cli._commands import load_notebook
from pipeline_lab.config import settings
from pipeline_lab.engine import RunResult, default_hooks, parse_param_values, run_pipeline


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """Run with the notebook's folder as working directory, as Jupyter runs its kernel."""
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def run_notebook(
    notebook: Path,
    params: dict[str, str],
    *,
    executor: str = "threads",
    only: list[str] | None = None,
    from_: str | None = None,
    as_json: bool = False,
    streaming: bool | None = None,
) -> int:
    """Run a notebook's pipeline headless; print progress and a summary (or JSON)."""
    notebook = notebook.resolve()
    pipeline, notices = load_notebook(notebook)
    typed = parse_param_values(pipeline, params)
    store = _open_store()
    hooks = default_hooks()
    console = None
    if not as_json:
        from rich.console import Console

        from pipeline_lab.cli._progress import ProgressHook

        console = Console(stderr=False, highlight=False)
        for notice in notices:
            console.print(f"[dim]note: {notice}[/]", highlight=False)
        progress = ProgressHook(console)
        hooks.append(progress)
    # With --json, stdout carries only the JSON: what the notebook's code prints goes to stderr.
    user_output = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
    try:
        with working_directory(notebook.parent), user_output:
            result = run_pipeline(
                pipeline,
                params=typed,
                executor=executor,
                only=only,
                from_=from_,
                hooks=hooks,
                source="cli",
                streaming=streaming,
            )
    finally:
        if console is not None:
            progress.stop()
    if as_json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        print_summary(console, result, store)
    return 0 if result.ok else 1


def _open_store() -> str | None:
    """Open the store before running, so a bad URL fails at once, not after the work."""
    if not settings().store_enabled:
        return None
    from pipeline_lab.store import open_store

    return open_store().url


def print_summary(console: Any, result: RunResult, store_url: str | None) -> None:
    from rich.markup import escape

    from pipeline_lab.cli._progress import node_table

    console.print(node_table(result.node_runs, title=f"pipeline {result.pipeline}"))
    if result.setup_error:
        console.print("[bold red]setup failed[/]")
        # The first line summarizes; the rest is the traceback, which ends with that line.
        detail = result.setup_error.partition("\n")[2] or result.setup_error
        console.print(escape(detail.rstrip()), highlight=False)
    for name in result.failed:
        run = result.node_runs[name]
        console.print(f"[bold red]node {escape(name)} failed[/] after {run.attempts} attempt(s)")
        console.print(escape((run.traceback or run.error or "").rstrip()), highlight=False)
    for index, error in result.report_errors.items():
        console.print(
            f"[yellow]report cell {index} did not complete (the pipeline still counts as ok)[/]"
        )
        console.print(escape(error), highlight=False)
    for error in result.hook_errors:
        console.print(f"[yellow]hook error:[/] {escape(error)}")
    color = "green" if result.ok else "bold red"
    console.print(f"[{color}]{escape(str(result))}[/]")
    if store_url:
        console.print(
            f"[dim]recorded in {escape(store_url)}; details: pipeline-lab runs show {result.run_id[:8]}[/]"
        )


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _program_name() -> str:
    """How the user can type this command again (``.venv/bin/pipeline-lab`` after ``make``)."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "pipeline-lab" and argv0.exists():
        return _relative(argv0)
    return "pipeline-lab"


def run_demo(example_dir: Path) -> int:
    """Run the example pipeline, then say what happened and how to open it in JupyterLab."""
    notebook = example_dir / "sales_pipeline.ipynb"
    print(f"Pipeline Lab demo: running {notebook} headless (no kernel)\n", file=sys.stdout)
    code = run_notebook(notebook, {})
    output = example_dir / "output"
    print()
    print("What happened:")
    print(f"  - the %%pipeline cells of {notebook.name} ran as a DAG on the threads executor")
    print(f"  - results were written under {output}")
    print(f"  - the run and every node run were recorded in {settings().db_url}")
    print()
    prog = _program_name()
    steps = [
        (f"{prog} runs", "the recorded runs ('runs show ID' for one)"),
        (f"{prog} run {_relative(notebook)} -p min_amount=100", "again, with a parameter"),
        ("make lab", f"JupyterLab on {example_dir.name}/: open {notebook.name}, Run All Cells"),
    ]
    width = max(len(command) for command, _ in steps)
    print("Next:")
    for command, why in steps:
        print(f"  {command.ljust(width)}  # {why}")
    return code
