"""``StoreHook``: persist every run and node run, without slowing the nodes down."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeline_lab.errors import StoreError
from pipeline_lab.store._engine import Store, open_store
from pipeline_lab.store._json import to_json
from pipeline_lab.store._writer import BatchWriter, Record

if TYPE_CHECKING:
    from pipeline_lab.engine.result import NodeRun, Run, RunResult
    from pipeline_lab.graph import Node

# Enough for any real traceback; a message that embeds a whole data frame is cut.
MAX_TEXT = 200_000


@dataclass
class _RunState:
    writer: BatchWriter
    store: Store
    ordinals: dict[str, int]
    written: set[str] = field(default_factory=set)


class StoreHook:
    """A run hook that saves each run (at start, as ``running``) and each node's outcome.

    Node records are queued for the store's background writer, so a node pays for a queue
    put, not a commit; ``on_run_end`` waits until the whole run is written. Output values
    are never stored. The store is opened at the first run (``open_store()`` by default).

    Parameters
    ----------
    store
        Where to save runs; ``None`` means the configured store.
    flush_timeout
        How long ``on_run_end`` waits for the writer before reporting a failure.

    Examples
    --------
    >>> result = pipeline.run(hooks=[StoreHook()])
    >>> RunRepository().get_run(result.run_id[:8]).status
    'succeeded'
    """

    gate = False

    def __init__(self, store: Store | None = None, *, flush_timeout: float = 30.0) -> None:
        self._store = store
        self.flush_timeout = flush_timeout
        self._runs: dict[str, _RunState] = {}

    def on_run_start(self, *, run: Run, **future: Any) -> None:
        """Open the store if needed and queue the run's row, status ``running``."""
        store = self._store if self._store is not None else open_store()
        writer = store.writer
        ordinals = {name: i for i, name in enumerate(run.node_runs)}
        row = {
            "run_id": run.run_id,
            "pipeline": run.pipeline.name,
            "status": "running",
            "source": run.source,
            "executor": run.executor,
            "params": to_json(run.params),
            "started_at": run.started_at,
            "report_errors": {},
            "hook_errors": [],
        }
        writer.submit(Record("start", run.run_id, row, definition=to_json(run.pipeline.to_dict())))
        self._runs[run.run_id] = _RunState(writer, store, ordinals)

    def on_node_end(self, *, run: Run, node: Node, result: NodeRun, **future: Any) -> None:
        """Queue the node's outcome (status, attempts, timings, shape, error)."""
        state = self._runs.get(run.run_id)
        if state is None:
            return  # the store could not be opened; on_run_start reported it
        state.written.add(result.name)
        state.writer.submit(Record("node", run.run_id, _node_row(run.run_id, state, result)))

    def on_run_end(self, *, run: Run, result: RunResult, **future: Any) -> None:
        """Queue the run's final state and wait until everything of the run is written."""
        state = self._runs.pop(run.run_id, None)
        if state is None:
            return
        for name, node_run in result.node_runs.items():
            # Nodes skipped because the setup cells failed never reach on_node_end.
            if name not in state.written:
                row = _node_row(run.run_id, state, node_run)
                state.writer.submit(Record("node", run.run_id, row))
        final = {
            "status": result.status,
            "ended_at": result.ended_at,
            "duration_s": result.duration_s,
            "setup_error": _cap(result.setup_error),
            "report_errors": {str(k): _cap(v) for k, v in result.report_errors.items()},
            "hook_errors": [_cap(e) for e in result.hook_errors],
        }
        end = Record("end", run.run_id, final, done=threading.Event())
        state.writer.submit(end)
        errors = state.writer.wait(end, self.flush_timeout)
        if errors:
            raise StoreError(
                f"the store {state.store.url} did not save all of run {run.run_id[:8]}: "
                + "; ".join(errors)
            )


def _node_row(run_id: str, state: _RunState, result: NodeRun) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "node": result.name,
        "ordinal": state.ordinals.get(result.name, len(state.ordinals)),
        "status": str(result.status),
        "attempts": result.attempts,
        "started_at": _aware(result.started_at),
        "ended_at": _aware(result.ended_at),
        "duration_s": result.duration_s,
        "cpu_s": result.cpu_s,
        "rows": None if result.rows is None else int(result.rows),
        "columns": None if result.columns is None else int(result.columns),
        "error": _cap(result.error),
        "traceback": _cap(result.traceback),
        "timed_out": bool(result.timed_out),
    }


def _cap(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + f"\n... ({len(text) - MAX_TEXT} more characters not stored)"


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo is not None else value.astimezone()
