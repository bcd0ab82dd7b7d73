"""One background thread per store that writes run records in batches.

Node threads only enqueue (microseconds); the writer drains the queue and writes everything
queued in one transaction, so a 200-node run costs a handful of commits, not 200.
"""

from __future__ import annotations

import atexit
import queue
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from pipeline_lab.errors import StoreError
from pipeline_lab.store._failures import reason
from pipeline_lab.store._models import (
    NodeRunRecord,
    PipelineRecord,
    PipelineVersionRecord,
    RunRecord,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from pipeline_lab.store._engine import Store

_MAX_ERRORS_PER_RUN = 5
LOCKED_PATIENCE_S = 25.0
"""How long a batch waits for a database another process holds locked (under the 30 s a
finishing run waits for its records)."""


@dataclass(slots=True)
class Record:
    """One write: a run starts (insert), a node ends (insert), the run ends (update), or the
    runs in flight renew their heartbeat (``row``: ``run_ids`` and ``at``)."""

    kind: Literal["start", "node", "end", "heartbeat"]
    run_id: str
    row: dict[str, Any]
    definition: dict[str, Any] | None = None
    done: threading.Event | None = None
    errors: list[str] = field(default_factory=list)


class BatchWriter:
    """Writes :class:`Record` s of any number of runs, in order, from one daemon thread."""

    def __init__(
        self, store: Store, *, batch_size: int = 2000, idle_s: float = 2.0, linger_s: float = 0.02
    ) -> None:
        self._store = store
        self._batch_size = batch_size
        self._idle_s = idle_s
        self._linger_s = linger_s
        self._queue: queue.SimpleQueue[Record | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._errors: dict[str, list[str]] = {}
        atexit.register(_close_at_exit, weakref.ref(self))

    def submit(self, record: Record) -> None:
        """Queue ``record``; never blocks on the database."""
        with self._lock:
            if self._closed:
                raise StoreError(f"the store {self._store.url} is closed")
            self._queue.put(record)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="pipeline-lab-store-writer", daemon=True
                )
                self._thread.start()

    def wait(self, record: Record, timeout: float) -> list[str]:
        """Wait until ``record`` (an ``end`` record) is written; return its run's errors."""
        assert record.done is not None
        deadline = time.monotonic() + timeout
        while not record.done.wait(0.1):
            with self._lock:
                thread = self._thread
            if thread is None or not thread.is_alive():
                if record.done.is_set():
                    break
                raise StoreError(f"the store writer of {self._store.url} stopped unexpectedly")
            if time.monotonic() > deadline:
                raise StoreError(
                    f"the store {self._store.url} did not confirm the run's records within "
                    f"{timeout:.0f} s; they may be written late or not at all",
                    hint="is another process holding a long write lock on the database?",
                )
        return record.errors

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join(timeout)

    def abandon(self) -> None:
        """Forget the thread and the queue (in a forked child, where they do not exist)."""
        self._lock = threading.Lock()
        self._thread = None
        self._closed = True

    # -- the writer thread ---------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self._idle_s)
            except queue.Empty:
                with self._lock:
                    # submit() starts a new thread if a record comes after this check.
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch = [first]
            # Let a running pipeline's records gather for a moment: one transaction for many
            # node runs, and this thread does not take the GIL from the nodes once per record.
            # A run's end record (or close) cuts the wait short, so no run waits for it.
            lingering = first is not None and first.done is None
            deadline = time.monotonic() + self._linger_s
            while len(batch) < self._batch_size:
                remaining = deadline - time.monotonic()
                try:
                    if lingering and remaining > 0:
                        record = self._queue.get(timeout=remaining)
                    else:
                        record = self._queue.get_nowait()
                except queue.Empty:
                    break
                batch.append(record)
                if record is None or record.done is not None:
                    lingering = False
            records = [r for r in batch if r is not None]
            if records:
                self._write(records)
            if len(records) < len(batch):
                return

    def _write(self, records: Sequence[Record]) -> None:
        try:
            self._write_batch(records)
        except Exception as exc:
            failure: Exception | None = exc if len(records) == 1 or _unreachable(exc) else None
            # One bad record must not lose the others: write them one by one.
            for record in records:
                if failure is None:
                    try:
                        self._write_batch([record])
                        continue
                    except Exception as own:
                        self._error(record, own)
                        failure = own if _unreachable(own) else None
                else:
                    self._error(record, failure)
        finally:
            for record in records:
                if record.done is not None:
                    record.errors = self._errors.pop(record.run_id, [])
                    record.done.set()

    def _write_batch(self, records: Sequence[Record]) -> None:
        # A lock held by another process (a long write, a backup) is waited out for as long as
        # a run waits for its records, so a busy store delays records instead of losing them.
        deadline = time.monotonic() + LOCKED_PATIENCE_S
        attempt = 0
        while True:
            attempt += 1
            try:
                with self._store.engine.begin() as connection:
                    _apply(connection, records)
                return
            except DBAPIError as exc:
                if _locked(exc) and time.monotonic() < deadline:
                    time.sleep(min(2.0, 0.05 * 2 ** min(attempt, 6)))
                elif exc.connection_invalidated and attempt == 1:
                    time.sleep(0.2)  # a pooled connection the server dropped: one fresh try
                else:
                    raise

    def _error(self, record: Record, exc: BaseException) -> None:
        if record.kind == "heartbeat":
            return  # a missed beat is not a lost record; the next one will do
        errors = self._errors.setdefault(record.run_id, [])
        if len(errors) < _MAX_ERRORS_PER_RUN:
            text = reason(exc, self._store._url) if isinstance(exc, SQLAlchemyError) else str(exc)
            what = f"node '{record.row['node']}'" if record.kind == "node" else f"run {record.kind}"
            errors.append(f"{what}: {text}")


def _unreachable(exc: BaseException) -> bool:
    """The database itself failed (no connection), not one statement: skip the others."""
    return isinstance(exc, DBAPIError) and (exc.connection_invalidated or exc.statement is None)


def _locked(exc: DBAPIError) -> bool:
    """SQLite's lock was held longer than ``busy_timeout`` by another process."""
    return "locked" in str(exc.orig).lower()


def _apply(connection: Connection, records: Sequence[Record]) -> None:
    """Write ``records`` on ``connection``: run rows, then node rows, then run updates."""
    starts = [r for r in records if r.kind == "start"]
    if starts:
        for record in starts:
            record.row["pipeline_version"] = _stored_version(connection, record)
        connection.execute(insert(RunRecord), [r.row for r in starts])
    nodes = [r.row for r in records if r.kind == "node"]
    if nodes:
        connection.execute(insert(NodeRunRecord), nodes)
    for record in records:
        if record.kind == "end":
            connection.execute(
                update(RunRecord).where(RunRecord.run_id == record.run_id).values(**record.row)
            )
        elif record.kind == "heartbeat":
            connection.execute(
                update(RunRecord)
                .where(RunRecord.run_id.in_(record.row["run_ids"]), RunRecord.status == "running")
                .values(heartbeat_at=record.row["at"])
            )


def _stored_version(connection: Connection, record: Record) -> int | None:
    """The saved version whose definition is exactly the pipeline that runs, if any."""
    row = connection.execute(
        select(PipelineVersionRecord.version, PipelineVersionRecord.definition)
        .join(PipelineRecord, PipelineRecord.id == PipelineVersionRecord.pipeline_id)
        .where(
            PipelineRecord.name == record.row["pipeline"],
            PipelineVersionRecord.version == PipelineRecord.current_version,
        )
    ).first()
    if row is None or row.definition != record.definition:
        return None
    return int(row.version)


def _close_at_exit(ref: weakref.ref[BatchWriter]) -> None:
    # Ended runs are written already; this saves what a still-running run had queued.
    writer = ref()
    if writer is not None:
        writer.close(timeout=5.0)
