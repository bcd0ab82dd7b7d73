"""``pipeline-lab run`` and ``pipeline-lab demo``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from pipeline_lab.cli._notebooks import load_notebook
from pipeline_lab.cli._render import console as make_console
from pipeline_lab.cli._render import escape, visible
from pipeline_lab.config import settings
from pipeline_lab.engine import RunResult, default_hooks, parse_param_values, run_pipeline
from pipeline_lab.errors import RunInterrupted, Terminated

EXIT_SIGINT = 130
EXIT_SIGTERM = 143
EXIT_CRASH = 70
"""EX_SOFTWARE: Pipeline Lab itself failed (the run is recorded as crashed)."""


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Ctrl-C and SIGTERM stop the run, which records itself as ``interrupted``.

    The first signal requests the stop (the run sees it even if Python drops the
    ``KeyboardInterrupt``, as it does inside a garbage-collection callback) and interrupts
    what runs; a second one only says the run is being recorded; a third quits at once.
    """
    from pipeline_lab.engine import stop

    count = 0

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal count
        count += 1
        kind: stop.Kind = "sigterm" if signum == signal.SIGTERM else "interrupt"
        if count == 1:
            stop.request(kind)
            raise Terminated() if kind == "sigterm" else KeyboardInterrupt()
        if count == 2:
            print("stopping: recording the run first (once more to quit at once)", file=sys.stderr)
            return
        os._exit(EXIT_SIGTERM if kind == "sigterm" else EXIT_SIGINT)

    stop.clear()
    previous: dict[int, Any] = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            current = signal.getsignal(signum)
            if current is signal.SIG_IGN:
                continue  # started with the signal ignored (nohup, a background job): keep it so
            previous[signum] = signal.signal(signum, handler)
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
        stop.clear()


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
    recorder = next((h for h in hooks if type(h).__name__ == "StoreObserver"), None)
    console = None
    if not as_json:
        from pipeline_lab.cli._progress import ProgressObserver

        console = make_console()
        for notice in notices:
            console.print(f"note: {notice}", style="dim", markup=False, highlight=False)
        progress = ProgressObserver(console)
        hooks.append(progress)
    # With --json, stdout carries only the JSON: what the notebook's code prints goes to stderr.
    user_output = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
    interrupted: RunInterrupted | None = None
    try:
        with working_directory(notebook.parent), user_output, stop_on_signals():
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
    except RunInterrupted as exc:
        interrupted = exc
        result = exc.result  # type: ignore[assignment]
    finally:
        if console is not None:
            progress.stop()
    unrecorded = recorder.failures.get(result.run_id) if recorder is not None else None
    if as_json:
        data = result.to_dict()
        data["recorded"] = store is not None and unrecorded is None
        data["notices"] = notices
        print(json.dumps(data, indent=2, default=str))
    else:
        print_summary(console, result, None if unrecorded else store)
    if unrecorded:
        print(f"error: the run was not recorded: {visible(str(unrecorded))}", file=sys.stderr)
    if interrupted is not None:
        return EXIT_SIGTERM if interrupted.terminated else EXIT_SIGINT
    if result.ok and not unrecorded:
        return 0
    return 1


def _open_store() -> str | None:
    """Open the store before running, so a bad URL fails at once, not after the work; runs
    of processes that died since are marked abandoned on the way."""
    if not settings().store_enabled:
        return None
    from pipeline_lab.store import RunRepository, open_store

    store = open_store()
    RunRepository(store).reap_abandoned()
    return store.url


def print_summary(console: Any, result: RunResult, store_url: str | None) -> None:
    from pipeline_lab.cli._progress import node_table

    console.print(node_table(result.node_runs, title=f"pipeline {result.pipeline}"))
    if result.setup_error:
        # The first line says what failed; the rest is the user's traceback.
        first, _, detail = result.setup_error.partition("\n")
        console.print(f"[bold red]setup failed:[/] {escape(first)}")
        if detail.strip():
            console.print(escape(detail.rstrip()), highlight=False)
    for name in result.failed:
        run = result.node_runs[name]
        console.print(f"[bold red]node {escape(name)} failed[/] after {run.attempts} attempt(s)")
        console.print(escape((run.traceback or run.error or "").rstrip()), highlight=False)
    for index, error in result.report_errors.items():
        still = " (report cells never fail the pipeline)" if result.ok else ""
        console.print(f"[yellow]report cell {index} did not complete{still}[/]")
        console.print(escape(error), highlight=False)
    for error in result.hook_errors:
        console.print(f"[yellow]hook error:[/] {escape(error)}")
    if result.error and result.reason in ("interrupt", "sigterm"):
        console.print(
            f"[bold yellow]{escape(result.error)}[/]: the run stopped; nodes still "
            "running were abandoned and are recorded as failed"
        )
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
        (
            "make lab",
            f"JupyterLab on {example_dir.name}/: open {notebook.name}, Run All Cells; "
            "%pipeline show draws the graph (click a node; Add builds one)",
        ),
    ]
    width = max(len(command) for command, _ in steps)
    print("Next:")
    for command, why in steps:
        print(f"  {command.ljust(width)}  # {why}")
    return code
