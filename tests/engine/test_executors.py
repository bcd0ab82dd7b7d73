"""Executors (threads, sequential) and per-node timeouts."""

from __future__ import annotations

import threading
import time

import pytest

from pipeline_lab import Node, NodeStarted, NodeStatus, Pipeline, RetryPolicy, RunObserver
from pipeline_lab.engine import EXECUTORS
from pipeline_lab.graph import Cell


class StartOrder(RunObserver):
    def __init__(self) -> None:
        self.started: list[str] = []
        self.threads: dict[str, str] = {}

    def on_node_started(self, event: NodeStarted) -> None:
        self.started.append(event.node)
        self.threads[event.node] = threading.current_thread().name


def test_builtin_executors_are_registered() -> None:
    assert {"threads", "sequential"} <= set(EXECUTORS.names())


def test_threads_run_independent_nodes_in_parallel() -> None:
    """Each node waits for the other at a barrier: only a parallel run gets past it."""
    barrier = threading.Barrier(2)
    pipeline = Pipeline("p", params={"barrier": barrier})
    pipeline.add(Node("left", code="barrier.wait(timeout=5)\n'left'"))
    pipeline.add(Node("right", code="barrier.wait(timeout=5)\n'right'"))
    result = pipeline.run(hooks=[], executor="threads")
    assert result.status == "succeeded", {n: r.error for n, r in result.node_runs.items()}
    assert result.outputs == {"left": "left", "right": "right"}


def test_threads_are_faster_than_one_at_a_time() -> None:
    pipeline = Pipeline("p")
    for name in ("a", "b"):
        pipeline.add(Node(name, code="__import__('time').sleep(0.3)"))
    started = time.perf_counter()
    assert pipeline.run(hooks=[], executor="threads").ok
    assert time.perf_counter() - started < 0.55


def test_a_node_starts_as_soon_as_its_own_inputs_are_ready() -> None:
    """fast -> after_fast must not wait for the unrelated slow node."""
    release = threading.Event()
    pipeline = Pipeline("p", params={"release": release})
    pipeline.add(Node("slow", code="release.wait(timeout=5)\n'slow'"))
    pipeline.add(Node("fast", code="'fast'"))
    pipeline.add(Node("after_fast", code="release.set()\nfast + '!'"))
    result = pipeline.run(hooks=[], executor="threads")
    assert result.outputs == {"slow": "slow", "fast": "fast", "after_fast": "fast!"}
    runs = result.node_runs
    assert runs["after_fast"].started_at < runs["slow"].ended_at
    assert runs["slow"].duration_s < 4  # released by after_fast, not by its own timeout


def test_threads_run_nodes_off_the_callers_thread_and_events_on_it() -> None:
    hook = StartOrder()
    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="__import__('threading').current_thread().name"))
    result = pipeline.run(hooks=[hook], executor="threads")
    assert result.outputs["a"].startswith("pipeline-lab")
    # Observers run on the thread that drives the run (the kernel's, in a notebook).
    assert hook.threads["a"] == threading.current_thread().name


def test_max_workers_one_runs_one_at_a_time() -> None:
    pipeline = Pipeline("p")
    for name in ("a", "b"):
        pipeline.add(Node(name, code="__import__('time').sleep(0.15)"))
    result = pipeline.run(hooks=[], executor="threads", max_workers=1)
    a, b = result.node_runs["a"], result.node_runs["b"]
    assert a.ended_at <= b.started_at or b.ended_at <= a.started_at


def test_sequential_runs_in_topological_order_on_the_callers_thread() -> None:
    hook = StartOrder()
    pipeline = Pipeline("p")
    pipeline.add(Node("c", code="b + a"))
    pipeline.add(Node("a", code="1"))
    pipeline.add(Node("b", code="a + 1"))
    pipeline.add(Node("z", code="0"))
    result = pipeline.run(hooks=[hook], executor="sequential")
    assert hook.started == ["a", "b", "c", "z"]
    assert result.outputs == {"a": 1, "b": 2, "c": 3, "z": 0}


@pytest.mark.parametrize(
    "executor", [pytest.param("threads", id="threads"), pytest.param("sequential", id="sequential")]
)
def test_timeout_fails_the_node_quickly(executor: str) -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("slow", code="__import__('time').sleep(2)\n'late'", timeout=0.2))
    pipeline.add(Node("after", code="slow + '!'"))
    pipeline.add(Node("other", code="'fine'"))
    started = time.perf_counter()
    result = pipeline.run(hooks=[], executor=executor)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    run = result.node_runs["slow"]
    assert run.status is NodeStatus.FAILED
    assert run.timed_out is True
    assert "timed out after 0.2s" in (run.error or "")
    assert run.attempts == 1
    assert result.node_runs["after"].status is NodeStatus.SKIPPED
    assert result.outputs == {"other": "fine"}
    assert result.status == "failed"


def test_fast_node_with_timeout_succeeds_and_reports_errors_normally() -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("quick", code="41 + 1", timeout=5))
    pipeline.add(Node("broken", code="x = 1\n[][x]", timeout=5))
    result = pipeline.run(hooks=[])
    assert result.outputs == {"quick": 42}
    broken = result.node_runs["broken"]
    assert broken.timed_out is False
    assert broken.error == "IndexError: list index out of range"
    # line 1 is the %%pipeline header, so the node's second code line is line 3
    assert '<pipeline node broken>", line 3' in (broken.traceback or "")


def test_a_timed_out_attempt_is_retried() -> None:
    pipeline = Pipeline("p")
    pipeline.add(
        Node(
            "slow_then_fast",
            code=(
                "calls.append(1)\nif len(calls) == 1:\n    __import__('time').sleep(1)\nlen(calls)"
            ),
            timeout=0.2,
            retry=RetryPolicy(retries=1, delay=0.01),
        )
    )
    pipeline.setup.append(Cell("calls = []"))
    result = pipeline.run(hooks=[])
    run = result.node_runs["slow_then_fast"]
    assert run.status is NodeStatus.SUCCEEDED and run.attempts == 2
    assert result.outputs["slow_then_fast"] == 2


def test_an_interrupted_run_skips_what_no_worker_started() -> None:
    """Tasks queued ahead of the workers but never started are skipped, not 'failed while
    running': only the node that really ran is recorded as interrupted."""
    from pipeline_lab import RunInterrupted

    pipeline = Pipeline("queued")
    pipeline.add(Node("stop", code="import time\ntime.sleep(0.2)\nraise KeyboardInterrupt"))
    for i in range(20):
        pipeline.add(Node(f"later{i}", code="import time\ntime.sleep(5)\n1"))
    with pytest.raises(RunInterrupted) as info:
        pipeline.run(hooks=[], executor="threads", max_workers=1)
    runs = info.value.result.node_runs
    assert runs["stop"].status is NodeStatus.FAILED
    assert "while the node was running" in (runs["stop"].error or "")
    later = [runs[f"later{i}"].status for i in range(20)]
    # The one worker may have taken the next task before the driver stopped: that one ran.
    assert later.count(NodeStatus.SKIPPED) >= 19
    assert set(later) <= {NodeStatus.SKIPPED, NodeStatus.FAILED}
