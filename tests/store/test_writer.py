"""The background writer: batches, order, and what it does when records are bad."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import event, func, select

from pipeline_lab.store import Store
from pipeline_lab.store._models import NodeRunRecord, RunRecord, utcnow
from pipeline_lab.store._writer import Record


def _start(run_id: str) -> Record:
    row = {
        "run_id": run_id,
        "pipeline": "p",
        "status": "running",
        "source": "api",
        "executor": "threads",
        "params": {},
        "started_at": utcnow(),
        "report_errors": {},
        "hook_errors": [],
    }
    return Record("start", run_id, row, definition={})


def _node(run_id: str, name: str, ordinal: int) -> Record:
    row = {
        "run_id": run_id,
        "node": name,
        "ordinal": ordinal,
        "status": "succeeded",
        "attempts": 1,
        "started_at": utcnow(),
        "ended_at": utcnow(),
        "duration_s": 0.1,
        "cpu_s": 0.1,
        "rows": None,
        "columns": None,
        "error": None,
        "traceback": None,
        "timed_out": False,
    }
    return Record("node", run_id, row)


def _end(run_id: str) -> Record:
    row = {
        "status": "succeeded",
        "ended_at": utcnow(),
        "duration_s": 1.0,
        "setup_error": None,
        "report_errors": {},
        "hook_errors": [],
    }
    return Record("end", run_id, row, done=threading.Event())


def test_records_queued_while_the_writer_waits_share_one_transaction(tmp_path: Path) -> None:
    path = tmp_path / "batch.db"
    store = Store(f"sqlite:///{path}")
    commits: list[int] = []
    event.listen(store.engine, "commit", lambda conn: commits.append(1))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the writer's first transaction waits for this lock
    try:
        writer = store.writer
        writer.submit(_start("a" * 32))
        deadline = time.monotonic() + 5
        while not writer._queue.empty() and time.monotonic() < deadline:
            time.sleep(0.01)
        for i in range(100):
            writer.submit(_node("a" * 32, f"n{i}", i))
        end = _end("a" * 32)
        writer.submit(end)
        blocker.execute("ROLLBACK")
        assert writer.wait(end, timeout=10) == []
        # 101 records, at most two transactions: the start record may still be lingering
        # when the node records arrive, and then all of them share one.
        assert 1 <= len(commits) <= 2
        with store.session(write=False) as session:
            assert session.scalar(select(func.count()).select_from(NodeRunRecord)) == 100
            assert session.get(RunRecord, "a" * 32).status == "succeeded"
    finally:
        blocker.close()
        store.close()


def test_a_bad_record_does_not_lose_the_rest_of_its_batch(store: Store) -> None:
    writer = store.writer
    good, bad = "b" * 32, "c" * 32
    records = [_start(good), _node(good, "n1", 0), _node(bad, "orphan", 0), _node(good, "n2", 1)]
    ends = [_end(good), _end(bad)]
    for record in [*records, *ends]:
        writer.submit(record)
    assert writer.wait(ends[0], timeout=10) == []
    [error] = writer.wait(ends[1], timeout=10)
    assert error.startswith("node 'orphan':")
    with store.session(write=False) as session:
        names = session.scalars(select(NodeRunRecord.node).order_by(NodeRunRecord.ordinal)).all()
    assert sorted(names) == ["n1", "n2"]


def test_the_writer_thread_stops_when_idle_and_restarts(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'idle.db'}")
    try:
        writer = store.writer
        writer._idle_s = 0.05
        for run_id in ("d" * 32, "e" * 32):
            end = _end(run_id)
            writer.submit(_start(run_id))
            writer.submit(end)
            assert writer.wait(end, timeout=10) == []
            deadline = time.monotonic() + 5
            while writer._thread is not None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert writer._thread is None
    finally:
        store.close()
