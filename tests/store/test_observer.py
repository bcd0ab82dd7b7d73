"""StoreObserver: real runs end up in the store, completely, without the nodes paying for it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, select, text

from pipeline_lab import Node, Pipeline
from pipeline_lab.graph import Cell
from pipeline_lab.store import PipelineBuilder, RunRepository, Store, StoreObserver, open_store
from pipeline_lab.store._models import NodeRunRecord, RunRecord

Factory = Callable[[], Pipeline]


def _mixed() -> Pipeline:
    pipeline = Pipeline("mixed", params={"n": 4})
    pipeline.add(Node("numbers", code="list(range(n))"))
    pipeline.add(Node("total", code="sum(numbers)"))
    pipeline.add(Node("broken", code="total / 0"))
    pipeline.add(Node("after", code="broken + 1"))
    return pipeline


def test_a_run_is_stored_with_its_node_runs(store: Store) -> None:
    result = _mixed().run(hooks=[StoreObserver(store)], source="kernel")
    assert result.hook_errors == ()
    detail = RunRepository(store).get_run(result.run_id)
    assert (detail.pipeline, detail.status, detail.source, detail.executor) == (
        "mixed",
        "failed",
        "kernel",
        "threads",
    )
    assert detail.params == {"n": 4}
    assert detail.pipeline_version is None  # never saved
    assert detail.started_at == result.started_at and detail.ended_at == result.ended_at
    assert detail.duration_s == pytest.approx(result.duration_s)
    assert [n.name for n in detail.nodes] == ["numbers", "total", "broken", "after"]
    statuses = {n.name: n.status for n in detail.nodes}
    assert statuses == {
        "numbers": "succeeded",
        "total": "succeeded",
        "broken": "failed",
        "after": "skipped",
    }
    broken = detail.node("broken")
    assert broken.error == "ZeroDivisionError: division by zero"
    assert "total / 0" in broken.traceback and broken.attempts == 1
    assert broken.started_at is not None and broken.started_at.tzinfo is not None
    after = detail.node("after")
    assert after.error == "skipped: upstream node 'broken' did not succeed"
    assert after.attempts == 0 and after.started_at is None


def test_frame_shapes_are_stored_never_values(store: Store) -> None:
    pipeline = Pipeline("frames")
    code = "import polars as pl\npl.DataFrame({'a': ['S3CR3T'] * 7, 'b': range(7)})"
    pipeline.add(Node("table", code=code))
    result = pipeline.run(hooks=[StoreObserver(store)])
    node = RunRepository(store).get_run(result.run_id).node("table")
    assert (node.rows, node.columns) == (7, 2)
    with store.engine.connect() as conn:
        dump = [conn.execute(text(f"SELECT * FROM {t}")).all() for t in ("runs", "node_runs")]
    assert "S3CR3T" not in repr(dump)


def test_the_run_row_exists_while_the_run_is_running(store: Store) -> None:
    release = threading.Event()
    pipeline = Pipeline("slow")
    pipeline.add(Node.from_function(lambda: release.wait(10), name="waits"))
    done: list[object] = []
    worker = threading.Thread(
        target=lambda: done.append(pipeline.run(hooks=[StoreObserver(store)]))
    )
    worker.start()
    try:
        deadline = time.monotonic() + 10
        runs = RunRepository(store)
        while not runs.list_runs() and time.monotonic() < deadline:
            time.sleep(0.02)
        [running] = runs.list_runs()
        assert running.status == "running" and running.ended_at is None
    finally:
        release.set()
        worker.join()
    assert RunRepository(store).get_run(running.run_id).status == "succeeded"


def test_the_stored_version_is_recorded_when_the_run_matches_it(
    store: Store, sales: Factory
) -> None:
    builder = PipelineBuilder(store)
    builder.save(sales())
    builder.save(sales())
    saved = builder.get("sales").run(hooks=[StoreObserver(store)])
    changed = sales()
    changed.add(Node("extra", code="1"))
    unsaved = changed.run(hooks=[StoreObserver(store)])
    runs = RunRepository(store)
    assert runs.get_run(saved.run_id).pipeline_version == 2
    assert runs.get_run(unsaved.run_id).pipeline_version is None


def test_setup_failures_and_report_errors_are_stored(store: Store) -> None:
    pipeline = Pipeline("setup", setup=[Cell("raise RuntimeError('no setup')", index=1)])
    pipeline.add(Node("one", code="1"))
    detail = RunRepository(store).get_run(pipeline.run(hooks=[StoreObserver(store)]).run_id)
    assert "RuntimeError: no setup" in detail.setup_error
    assert [(n.name, n.status) for n in detail.nodes] == [("one", "skipped")]

    pipeline = Pipeline("reports", reports=[Cell("one + undefined_thing", index=3)])
    pipeline.add(Node("one", code="1"))
    detail = RunRepository(store).get_run(pipeline.run(hooks=[StoreObserver(store)]).run_id)
    assert detail.status == "succeeded"
    assert "undefined_thing" in detail.report_errors["4"]


def test_params_json_cannot_hold_are_stored_as_text(store: Store) -> None:
    when = datetime(2026, 1, 2, tzinfo=timezone.utc)
    pipeline = Pipeline("odd", params={"when": when, "ratio": float("nan"), "ids": (1, 2)})
    pipeline.add(Node("one", code="1"))
    result = pipeline.run(hooks=[StoreObserver(store)])
    assert result.hook_errors == ()
    params = RunRepository(store).get_run(result.run_id).params
    assert params == {"when": when.isoformat(), "ratio": "nan", "ids": [1, 2]}


def test_nodes_never_wait_for_the_database(store: Store) -> None:
    """Only the writer thread talks to the store while the run runs: nodes just queue."""
    pipeline = Pipeline("wide")
    pipeline.add(Node("root", code="1"))
    for i in range(50):
        pipeline.add(Node(f"n{i}", code="root + 1"))
    threads: set[str] = set()

    def seen(*args: object) -> None:
        threads.add(threading.current_thread().name)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        result = pipeline.run(hooks=[StoreObserver(store)])
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert result.hook_errors == ()
    assert threads == {"pipeline-lab-store-writer"}
    assert len(RunRepository(store).get_run(result.run_id).nodes) == 51


def test_default_hooks_store_runs_under_the_home(pipeline_lab_home: Path) -> None:
    pipeline = _mixed()
    result = pipeline.run()
    assert result.hook_errors == ()
    assert (pipeline_lab_home / "pipeline_lab.db").is_file()
    assert RunRepository().get_run(result.run_id[:10]).status == "failed"


def test_an_unreachable_store_is_reported_and_the_run_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIPELINE_LAB_DB_URL", "postgresql+psycopg://u:secret@127.0.0.1:1/x")
    started = time.monotonic()
    result = _mixed().run(hooks=[StoreObserver()])
    assert time.monotonic() - started < 10
    assert result.outputs["total"] == 6
    [error] = result.hook_errors
    assert "StoreObserver failed on RunStarted" in error and "127.0.0.1" in error
    assert "secret" not in error


def test_write_failures_are_reported_not_hung(fresh_url: str) -> None:
    store = Store(fresh_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(text("DROP TABLE node_runs"))
        result = _mixed().run(hooks=[StoreObserver(store, flush_timeout=20)])
        assert result.outputs["total"] == 6
        [error] = result.hook_errors
        assert "StoreObserver failed on RunFinished" in error and "did not save all of run" in error
        assert "node_runs" in error
        # The rest of the run was written all the same.
        with store.session(write=False) as session:
            run = session.get(RunRecord, result.run_id)
            assert run is not None and run.status == "failed"
    finally:
        store.close()


def test_concurrent_writers_lose_nothing(store_url: str) -> None:
    """Two threads, each with its own Store (as two processes would), share one database."""
    stores = [Store(store_url), Store(store_url)]
    pipeline = Pipeline("busy")
    pipeline.add(Node("root", code="1"))
    for i in range(20):
        pipeline.add(Node(f"n{i}", code=f"root + {i}"))
    results: list[object] = []
    errors: list[str] = []

    def work(store: Store) -> None:
        for _ in range(5):
            result = pipeline.run(hooks=[StoreObserver(store)])
            results.append(result)
            errors.extend(result.hook_errors)

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        with stores[0].session(write=False) as session:
            runs = session.scalars(select(RunRecord)).all()
            node_runs = session.scalars(select(NodeRunRecord)).all()
        assert len(runs) == 10 and {r.status for r in runs} == {"succeeded"}
        assert len(node_runs) == 10 * 21
    finally:
        for store in stores:
            store.close()


def test_store_hook_opens_the_configured_store_lazily(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = StoreObserver()
    url = f"sqlite:///{tmp_path / 'lazy.db'}"
    monkeypatch.setenv("PIPELINE_LAB_DB_URL", url)
    assert not (tmp_path / "lazy.db").exists()
    result = _mixed().run(hooks=[hook])
    assert RunRepository(open_store(url)).get_run(result.run_id).pipeline == "mixed"


def test_metrics_checks_and_datasets_of_each_node_run_are_stored(
    store: Store, tmp_path: Path
) -> None:
    """What a run measured, checked and touched is kept, not computed and dropped."""
    import polars as pl

    from pipeline_lab.quality import ChecksGate

    source = tmp_path / "orders.csv"
    pl.DataFrame({"id": [1, 2, 3], "amount": [5.0, -1.0, 7.0]}).write_csv(source)
    pipeline = Pipeline(
        "measured", params={"path": str(source)}, setup=[Cell("import pipeline_lab")]
    )
    pipeline.add(Node("orders", code="pipeline_lab.read(params.path)"))
    pipeline.add(Node("paid", code="orders.filter(orders['amount'] > 0)", checks=("amount > 0",)))
    pipeline.add(Node("bad", code="orders", checks=("amount > 0", "id > 0")))
    result = pipeline.run(hooks=[ChecksGate(), StoreObserver(store)])
    assert result.hook_errors == ()
    detail = RunRepository(store).get_run(result.run_id)
    orders, paid, bad = (detail.node(n) for n in ("orders", "paid", "bad"))
    assert [(d["namespace"], d["name"], d["direction"]) for d in orders.datasets] == [
        ("file", str(source), "input")
    ]
    assert paid.metrics is not None
    assert (paid.metrics["rows_in"], paid.metrics["rows_out"]) == (3, 2)
    assert paid.metrics["wall_s"] == pytest.approx(result.node_runs["paid"].duration_s)
    assert [(c["rule"], c["passed"]) for c in paid.checks] == [("amount > 0", True)]
    assert bad.status == "failed"
    assert [(c["rule"], c["passed"], c["failed_rows"]) for c in bad.checks] == [
        ("amount > 0", False, 1),
        ("id > 0", True, 0),
    ]
    assert bad.checks[0]["sample"] == [{"row": 1, "id": 2, "amount": -1.0}]
