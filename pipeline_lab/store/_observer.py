"""``StoreObserver``: record every run and node run as it happens, without slowing nodes down."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline_lab.errors import StoreError
from pipeline_lab.events import (
    NodeFinished,
    NodeOutcome,
    RunFinished,
    RunObserver,
    RunStarted,
)
from pipeline_lab.monitoring import node_metrics
from pipeline_lab.store._engine import Store, open_store
from pipeline_lab.store._json import to_json
from pipeline_lab.store._writer import BatchWriter, Record

# Enough for any real traceback; a message that embeds a whole data frame is cut.
MAX_TEXT = 200_000


@dataclass
class _RunState:
    writer: BatchWriter
    store: Store
    ordinals: dict[str, int]
    seen: dict[str, NodeOutcome] = field(default_factory=dict)


class StoreObserver(RunObserver):
    """Records each run (at its start, as ``running``, with host, pid and a heartbeat) and
    each node's outcome as soon as it is known, so a run killed mid-way keeps what finished.

    Records are queued for the store's background writer (a node pays for a queue put, not
    a commit); the store renews the heartbeat of the runs in flight. When the run finishes,
    this observer waits until the whole run is written and raises ``StoreError`` (reported
    on the run) if it was not. Output values are never stored.

    Parameters
    ----------
    store
        Where to save runs; ``None`` means the configured store, opened at the first run.
    flush_timeout
        How long the end of a run waits for the writer before reporting a failure.

    Examples
    --------
    >>> recorder = StoreObserver()
    >>> result = pipeline.run(hooks=[recorder])
    >>> RunRepository().get_run(result.run_id[:8]).status
    'succeeded'
    """

    def __init__(self, store: Store | None = None, *, flush_timeout: float = 30.0) -> None:
        self._store = store
        self.flush_timeout = flush_timeout
        self._runs: dict[str, _RunState] = {}
        self.failures: dict[str, str] = {}
        """Runs this observer could not record completely, with why (by run id)."""
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store()
        return self._store

    def on_run_started(self, event: RunStarted) -> None:
        run = event.run
        store = self.store
        writer = store.writer
        row = {
            "run_id": run.run_id,
            "pipeline": run.name,
            "status": "running",
            "source": run.source,
            "executor": run.executor,
            "params": to_json(run.params),
            "started_at": run.started_at,
            "report_errors": {},
            "hook_errors": [],
            "host": run.host,
            "pid": run.pid,
            "heartbeat_at": run.started_at,
        }
        definition = to_json(run.pipeline.to_dict())
        writer.submit(Record("start", run.run_id, row, definition=definition))
        with self._lock:
            self._runs[run.run_id] = _RunState(
                writer, store, {n: i for i, n in enumerate(run.nodes)}
            )
        store.heartbeat.add(run.run_id)

    def on_node_finished(self, event: NodeFinished) -> None:
        state = self._runs.get(event.run.run_id)
        if state is None:
            return  # the store could not be opened; on_run_started reported it
        outcome = event.outcome
        state.seen[outcome.name] = outcome
        upstream = [
            state.seen[d] for d in event.run.pipeline.dependencies(outcome.name) if d in state.seen
        ]
        row = node_row(event.run.run_id, state.ordinals, outcome)
        metrics = node_metrics(outcome, upstream)
        row["metrics"] = metrics.to_dict() if metrics is not None else None
        state.writer.submit(Record("node", event.run.run_id, row))

    def on_run_finished(self, event: RunFinished) -> None:
        with self._lock:
            state = self._runs.pop(event.run.run_id, None)
        if state is None:
            return
        state.store.heartbeat.discard(event.run.run_id)
        result = event.result
        final = {
            "status": event.status.value,
            "ended_at": event.ended_at,
            "duration_s": event.duration_s,
            "reason": event.reason,
            "error": _cap(event.error),
            "setup_error": _cap(getattr(result, "setup_error", None)),
            "report_errors": {
                str(k): _cap(v) for k, v in getattr(result, "report_errors", {}).items()
            },
            "hook_errors": [_cap(e) for e in getattr(result, "hook_errors", ())],
            "heartbeat_at": event.ended_at,
        }
        end = Record("end", event.run.run_id, final, done=threading.Event())
        try:
            state.writer.submit(end)
            errors = state.writer.wait(end, self.flush_timeout)
        except StoreError as exc:
            errors = [exc.message]
        if errors:
            message = (
                f"the store {state.store.url} did not save all of run {event.run.run_id[:8]}: "
                + "; ".join(errors)
            )
            self.failures[event.run.run_id] = message
            raise StoreError(message)


def node_row(run_id: str, ordinals: dict[str, int], outcome: NodeOutcome) -> dict[str, Any]:
    """The ``node_runs`` row of ``outcome`` (the one place a node run becomes a row)."""
    return {
        "run_id": run_id,
        "node": outcome.name,
        "ordinal": ordinals.get(outcome.name, len(ordinals)),
        "status": outcome.status.value,
        "attempts": outcome.attempts,
        "started_at": _aware(outcome.started_at),
        "ended_at": _aware(outcome.ended_at),
        "duration_s": outcome.duration_s,
        "cpu_s": outcome.cpu_s,
        "rows": None if outcome.rows is None else int(outcome.rows),
        "columns": None if outcome.columns is None else int(outcome.columns),
        "error": _cap(outcome.error),
        "traceback": _cap(outcome.traceback),
        "timed_out": bool(outcome.timed_out),
        "metrics": None,
        "checks": to_json([c.to_dict() for c in outcome.checks]) if outcome.checks else None,
        "datasets": to_json(outcome.summary()["datasets"]) if outcome.datasets else None,
    }


def _cap(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + f"\n... ({len(text) - MAX_TEXT} more characters not stored)"


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo is not None else value.astimezone()
