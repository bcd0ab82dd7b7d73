"""A run is never left ``running``: SIGKILL, SIGTERM, Ctrl-C, a late error and a lost store,
each in a real ``pipeline-lab run`` process, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent / "pipeline-lab"
STORES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=STORES)
def store_env(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, pipeline_lab_home: Path
) -> Iterator[str]:
    """The environment's store: the default SQLite file, or a fresh PostgreSQL database."""
    monkeypatch.delenv("PIPELINE_LAB_STORE", raising=False)
    if request.param == "sqlite":
        yield f"sqlite:///{pipeline_lab_home / 'pipeline_lab.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    monkeypatch.setenv("PIPELINE_LAB_DB_URL", url)
    yield url
    server.drop_database(url)


@pytest.fixture
def slow(write_notebook: Callable[..., Path], tmp_path: Path) -> Path:
    """``quick`` finishes at once; ``slow`` (reading it) says it started, then sleeps 60 s."""
    marker = tmp_path / "slow-started"
    return write_notebook(
        ("parameters", f"marker = {str(marker)!r}"),
        "%%pipeline quick\n[1, 2, 3]",
        "%%pipeline slow\nimport time\nopen(marker, 'w').close()\ntime.sleep(60)\nlen(quick)",
        "%%pipeline other\n'done'",
        name="slow.ipynb",
    )


def start(notebook: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN), "run", str(notebook), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_slow_runs(proc: subprocess.Popen[str], notebook: Path) -> None:
    """Until ``slow`` sleeps and ``quick``'s record is in the store (so a kill loses no node)."""
    marker = notebook.parent / "slow-started"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if marker.exists() and _recorded_nodes().get("quick") == "succeeded":
            return
        time.sleep(0.05)
    raise AssertionError("the slow node never started")


def _recorded_nodes() -> dict[str, str]:
    from pipeline_lab.store import RunRepository, close_stores

    try:
        runs = RunRepository().list_runs(limit=1)
        if not runs:
            return {}
        return {n.name: n.status for n in RunRepository().get_run(runs[0].run_id).nodes}
    finally:
        close_stores()


def runs_json(*args: str) -> Any:
    done = subprocess.run(
        [str(BIN), "runs", *args, "--json"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def latest() -> dict[str, Any]:
    [summary] = runs_json("--limit", "1")
    detail: dict[str, Any] = runs_json("show", summary["run_id"])
    detail["node_status"] = {n["name"]: n["status"] for n in detail["nodes"]}
    return detail


def test_sigkill_leaves_a_run_that_is_found_abandoned(store_env: str, slow: Path) -> None:
    proc = start(slow)
    wait_until_slow_runs(proc, slow)
    proc.kill()
    proc.wait(timeout=10)
    run = latest()  # `pipeline-lab runs` finds the dead process's run
    assert (run["status"], run["reason"]) == ("abandoned", "pid_dead")
    assert "died" in run["error"]
    assert run["host"] and run["pid"] == proc.pid
    # What finished before the kill was recorded as it finished.
    assert run["node_status"]["quick"] == "succeeded"
    assert "slow" not in run["node_status"]


def test_sigterm_stops_the_run_and_records_it_interrupted(store_env: str, slow: Path) -> None:
    proc = start(slow)
    wait_until_slow_runs(proc, slow)
    stopped = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 143, err
    assert time.monotonic() - stopped < 10  # not the 60 s the node sleeps
    run = latest()
    assert (run["status"], run["reason"]) == ("interrupted", "sigterm")
    assert run["node_status"] == {"quick": "succeeded", "slow": "failed", "other": "succeeded"}
    slow_node = next(n for n in run["nodes"] if n["name"] == "slow")
    assert "interrupted while the node was running" in slow_node["error"]


@pytest.mark.parametrize("executor", ["threads", "sequential"])
def test_ctrl_c_stops_at_once_and_records_the_run_interrupted(
    store_env: str, slow: Path, executor: str
) -> None:
    proc = start(slow, "--executor", executor)
    wait_until_slow_runs(proc, slow)
    stopped = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert time.monotonic() - stopped < 10
    assert "interrupted" in out
    run = latest()
    assert (run["status"], run["reason"]) == ("interrupted", "interrupt")
    assert run["node_status"]["quick"] == "succeeded"
    assert run["node_status"]["slow"] == "failed"


def test_an_error_after_the_run_started_is_recorded(
    store_env: str, write_notebook: Callable[..., Path]
) -> None:
    """A transform registered by a setup cell gets parameters it cannot take: found only once
    the setup cells ran, so the run has started; it ends recorded, not ``running``."""
    notebook = write_notebook(
        "import polars as pl\nimport pipeline_lab\n\n"
        "@pipeline_lab.transform\ndef top(df: pl.DataFrame, *, n: int = 1) -> pl.DataFrame:\n"
        "    return df.head(n)",
        "%%pipeline src\npl.DataFrame({'x': [1, 2, 3]})",
        "%%pipeline best --component top\ninput: src\nn: not-a-number",
        name="late.ipynb",
    )
    done = subprocess.run(
        [str(BIN), "run", str(notebook)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "'n'" in done.stderr and "best" in done.stderr
    run = latest()
    assert (run["status"], run["reason"]) == ("failed", "error")
    assert "'n'" in run["error"]
    assert set(run["node_status"].values()) <= {"skipped", "failed", "succeeded"}


@pytest.mark.postgres
def test_losing_the_store_mid_run_is_an_error_not_a_recorded_run(
    write_notebook: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_server: Any,
) -> None:
    url = postgres_server.create_database()
    monkeypatch.setenv("PIPELINE_LAB_DB_URL", url)
    marker = tmp_path / "started"
    notebook = write_notebook(
        ("parameters", f"marker = {str(marker)!r}"),
        "%%pipeline wait\nimport time\nopen(marker, 'w').close()\ntime.sleep(3)\n1",
        name="lost.ipynb",
    )
    proc = start(notebook)
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    postgres_server.drop_database(url)  # the store goes away while the node runs
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, out + err
    assert "was not recorded" in err
    assert "recorded in" not in out


def test_readers_are_not_blocked_by_a_long_sqlite_writer(
    slow: Path, pipeline_lab_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_LAB_STORE", raising=False)
    done = subprocess.run([str(BIN), "run", str(slow), "--only", "quick"], capture_output=True)
    assert done.returncode == 0, done.stderr
    writer = sqlite3.connect(pipeline_lab_home / "pipeline_lab.db", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # a long write transaction holds the write lock
        writer.execute("UPDATE runs SET source = source")
        started = time.monotonic()
        listing = subprocess.run(
            [str(BIN), "runs", "--json"], capture_output=True, text=True, timeout=60
        )
        elapsed = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert listing.returncode == 0, listing.stderr
    assert [r["status"] for r in json.loads(listing.stdout)] == ["succeeded"]
    assert elapsed < 4  # no wait for the writer's lock (busy_timeout is 5 s)


def test_a_run_of_a_live_process_is_never_reaped(store_env: str, slow: Path) -> None:
    proc = start(slow)
    try:
        wait_until_slow_runs(proc, slow)
        assert latest()["status"] == "running"
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_a_stale_heartbeat_marks_a_run_of_another_host_abandoned(store_env: str) -> None:
    """A run whose process is on another machine is judged by its heartbeat alone."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    from pipeline_lab.store import RunRepository, StoreObserver, close_stores, open_store
    from pipeline_lab.store._models import RunRecord

    os.environ.pop("PIPELINE_LAB_STORE", None)
    from pipeline_lab import Node, Pipeline

    pipeline = Pipeline("remote")
    pipeline.add(Node("a", code="1"))
    result = pipeline.run(hooks=[StoreObserver()])
    now = datetime.now(timezone.utc)
    with open_store().session() as session:
        session.execute(
            update(RunRecord)
            .where(RunRecord.run_id == result.run_id)
            .values(status="running", host="elsewhere", heartbeat_at=now - timedelta(seconds=25))
        )
    runs = RunRepository()
    assert runs.reap_abandoned(now=now) == []  # 25 s < three 10 s beats: still alive
    assert runs.reap_abandoned(now=now + timedelta(seconds=10)) == [result.run_id]
    detail = runs.get_run(result.run_id)
    assert (detail.status, detail.reason) == ("abandoned", "heartbeat_lost")
    close_stores()


def test_a_live_run_on_this_host_is_never_abandoned_for_a_late_heartbeat(
    store_env: str,
) -> None:
    """A node in C code can hold the GIL long enough to starve the heartbeat thread; on the
    machine that runs it, a live pid is proof enough that the run is alive."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    from pipeline_lab import Node, Pipeline
    from pipeline_lab.store import RunRepository, StoreObserver, close_stores, open_store
    from pipeline_lab.store._models import RunRecord

    pipeline = Pipeline("busy")
    pipeline.add(Node("a", code="1"))
    result = pipeline.run(hooks=[StoreObserver()])
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    with open_store().session() as session:
        session.execute(  # as if this very process were still running it, silent for an hour
            update(RunRecord)
            .where(RunRecord.run_id == result.run_id)
            .values(status="running", pid=os.getpid(), heartbeat_at=an_hour_ago)
        )
    assert RunRepository().reap_abandoned() == []
    assert RunRepository().get_run(result.run_id).status == "running"
    close_stores()


def test_sys_exit_in_cells_never_ends_the_command_silently(
    write_notebook: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPELINE_LAB_STORE", "off")
    setup_exits = write_notebook("import sys\nsys.exit(0)", "%%pipeline a\n1", name="setup.ipynb")
    done = subprocess.run([str(BIN), "run", str(setup_exits)], capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "setup failed" in done.stdout and "sys.exit(0) was called" in done.stdout
    report_exits = write_notebook(
        "%%pipeline a\n1", "import sys\nprint(a)\nsys.exit(9)", name="report.ipynb"
    )
    done = subprocess.run(
        [str(BIN), "run", str(report_exits), "--json"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["status"] == "succeeded" and "SystemExit" in data["report_errors"]["2"]


def test_records_wait_out_a_sqlite_lock_held_past_the_busy_timeout(
    pipeline_lab_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the write lock for 12 s (two 5 s busy timeouts and more): the run's
    records are written late, not lost."""
    import threading

    from pipeline_lab import Node, Pipeline
    from pipeline_lab.store import RunRepository, StoreObserver, close_stores, open_store

    monkeypatch.delenv("PIPELINE_LAB_STORE", raising=False)
    open_store()  # the database exists, migrated
    locker = sqlite3.connect(
        pipeline_lab_home / "pipeline_lab.db", isolation_level=None, check_same_thread=False
    )
    locker.execute("BEGIN IMMEDIATE")
    release = threading.Timer(12.0, lambda: locker.execute("ROLLBACK"))
    release.start()
    try:
        pipeline = Pipeline("patient")
        pipeline.add(Node("a", code="1"))
        result = pipeline.run(hooks=[StoreObserver()])
    finally:
        release.join()
        locker.close()
    assert result.ok and result.hook_errors == ()
    detail = RunRepository().get_run(result.run_id)
    assert detail.status == "succeeded" and [n.name for n in detail.nodes] == ["a"]
    close_stores()
