"""Observers follow the run's event stream; a failing one never kills it; a gate fails its
node on purpose with a verdict."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from pipeline_lab import (
    CheckResult,
    Node,
    NodeFinished,
    NodeOutcome,
    NodeRetrying,
    NodeStarted,
    NodeStatus,
    Pipeline,
    QualityGateError,
    RetryPolicy,
    RunFinished,
    RunInfo,
    RunObserver,
    RunStarted,
    RunStatus,
    Verdict,
)
from pipeline_lab.graph import Cell
from pipeline_lab.monitoring import MetricsObserver, NodeMetrics


class Recorder(RunObserver):
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def on_run_started(self, event: RunStarted) -> None:
        self.events.append(("run_start", event.run.name, dict(event.run.params)))

    def on_node_started(self, event: NodeStarted) -> None:
        self.events.append(("node_start", event.node))

    def on_node_finished(self, event: NodeFinished) -> None:
        self.events.append(("node_end", event.node, event.outcome.status.value))

    def on_run_finished(self, event: RunFinished) -> None:
        self.events.append(("run_end", event.status.value))


def test_observers_see_the_whole_run_in_order() -> None:
    recorder = Recorder()
    pipeline = Pipeline("p", params={"n": 2})
    pipeline.add(Node("a", code="n"))
    pipeline.add(Node("b", code="a * 2"))
    pipeline.run(hooks=[recorder], executor="sequential")
    assert recorder.events == [
        ("run_start", "p", {"n": 2}),
        ("node_start", "a"),
        ("node_end", "a", "succeeded"),
        ("node_start", "b"),
        ("node_end", "b", "succeeded"),
        ("run_end", "succeeded"),
    ]


def test_observers_see_skipped_and_failed_nodes() -> None:
    recorder = Recorder()
    pipeline = Pipeline("p")
    pipeline.add(Node("bad", code="1 / 0"))
    pipeline.add(Node("after", code="bad"))
    pipeline.run(hooks=[recorder], executor="sequential")
    assert ("node_end", "bad", "failed") in recorder.events
    assert ("node_end", "after", "skipped") in recorder.events
    assert ("node_start", "after") not in recorder.events
    assert recorder.events[-1] == ("run_end", "failed")


def test_run_start_comes_before_setup_cells(tmp_path: Path) -> None:
    marker = tmp_path / "setup-ran"
    seen: list[bool] = []

    class Observer(RunObserver):
        def on_run_started(self, event: RunStarted) -> None:
            seen.append(marker.exists())

    pipeline = Pipeline(
        "p", params={"marker": str(marker)}, setup=[Cell("open(params.marker, 'w').close()")]
    )
    pipeline.add(Node("a", code="1"))
    assert pipeline.run(hooks=[Observer()]).ok
    assert seen == [False]
    assert marker.exists()


def test_observers_see_nodes_skipped_by_a_failing_setup() -> None:
    recorder = Recorder()
    pipeline = Pipeline("p", setup=[Cell("1 / 0")])
    pipeline.add(Node("a", code="1"))
    pipeline.run(hooks=[recorder])
    assert recorder.events == [
        ("run_start", "p", {}),
        ("node_end", "a", "skipped"),
        ("run_end", "failed"),
    ]


def test_any_callable_observes_and_events_are_frozen_and_typed() -> None:
    """A plain function is an observer; every event is a frozen, typed value."""
    events: list[Any] = []
    pipeline = Pipeline("p", params={"tries": []})
    pipeline.add(
        Node(
            "a",
            code="tries.append(1)\nif len(tries) < 2:\n    raise OSError('once')\n'done'",
            retry=RetryPolicy(retries=1, delay=0.0),
        )
    )
    result = pipeline.run(hooks=[events.append])
    assert result.ok and result.hook_errors == ()
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "RunStarted",
        "NodeStarted",
        "NodeRetrying",
        "NodeStarted",
        "NodeFinished",
        "RunFinished",
    ]
    started, first, retrying, second, finished, ended = events
    assert isinstance(started.run, RunInfo) and started.run.nodes == ("a",)
    assert all(e.run is started.run for e in events)
    assert (first.attempt, second.attempt) == (1, 2)
    assert isinstance(retrying, NodeRetrying) and retrying.error == "OSError: once"
    assert isinstance(finished.outcome, NodeOutcome)
    assert finished.outcome.attempts == 2 and finished.outcome.output == "done"
    assert ended.status is RunStatus.SUCCEEDED and ended.result.run_id == result.run_id
    with pytest.raises(AttributeError):
        finished.outcome.status = NodeStatus.FAILED  # type: ignore[misc]
    with pytest.raises(AttributeError):
        ended.status = RunStatus.FAILED  # type: ignore[misc]


def test_an_object_that_is_neither_observer_nor_gate_is_refused() -> None:
    class OldStyle:
        def on_node_end(self, **kwargs: Any) -> None: ...

    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="1"))
    with pytest.raises(Exception, match="neither an observer nor a gate"):
        pipeline.run(hooks=[OldStyle()])


def test_failing_observer_is_reported_and_the_run_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(RunObserver):
        def on_node_finished(self, event: NodeFinished) -> None:
            raise RuntimeError(f"cannot record {event.node}")

        def on_run_started(self, event: RunStarted) -> None:
            raise QualityGateError("not a gate, so only reported")

    recorder = Recorder()
    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="1"))
    pipeline.add(Node("b", code="a + 1"))
    with caplog.at_level(logging.WARNING, logger="pipeline_lab.hooks"):
        result = pipeline.run(hooks=[Broken(), recorder])
    assert result.status == "succeeded"
    assert result.outputs == {"a": 1, "b": 2}
    assert result.hook_errors == (
        "Broken failed on RunStarted: QualityGateError: not a gate, so only reported",
        "Broken failed on NodeFinished: RuntimeError: cannot record a",
        "Broken failed on NodeFinished: RuntimeError: cannot record b",
    )
    # The other hook still saw everything.
    assert ("node_end", "b", "succeeded") in recorder.events
    assert "cannot record a" in caplog.text


class BadDataGate:
    """A gate: judges each succeeded node's outcome before it is final."""

    def judge(self, run: RunInfo, node: Node, outcome: NodeOutcome) -> Verdict | None:
        if outcome.output != "bad data":
            return None
        check = CheckResult(rule="not bad", passed=False, failed_rows=1, total_rows=1)
        return Verdict(checks=(check,), error=QualityGateError("the data is bad", node=node.name))


def test_gate_fails_its_node_and_observers_see_the_final_status() -> None:
    recorder = Recorder()
    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="'bad data'"))
    pipeline.add(Node("b", code="a.upper()"))
    pipeline.add(Node("c", code="'good'"))
    # The observer is listed first; gates still run before it.
    result = pipeline.run(hooks=[recorder, BadDataGate()], executor="sequential")
    assert result.status == "failed"
    a = result.node_runs["a"]
    assert a.status is NodeStatus.FAILED
    assert a.error == "QualityGateError: the data is bad"
    assert isinstance(a.exception, QualityGateError)
    assert a.output == "bad data"  # the refused value, for a kernel to show: never downstream
    assert a.checks[0].rule == "not bad" and not a.checks[0].passed
    assert result.node_runs["b"].status is NodeStatus.SKIPPED
    assert result.outputs == {"c": "good"}
    assert ("node_end", "a", "failed") in recorder.events
    assert ("node_end", "a", "succeeded") not in recorder.events
    assert result.hook_errors == ()


def test_a_gate_that_crashes_fails_its_node_closed() -> None:
    class BuggyGate:
        def judge(self, run: RunInfo, node: Node, outcome: NodeOutcome) -> Verdict | None:
            raise KeyError("bug in the gate")

    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="1"))
    result = pipeline.run(hooks=[BuggyGate()])
    assert result.node_runs["a"].status is NodeStatus.FAILED
    assert result.node_runs["a"].error == "KeyError: 'bug in the gate'"
    assert result.outputs == {}


# -- metrics ------------------------------------------------------------------------------------


def test_metrics_observer_records_each_node() -> None:
    pipeline = Pipeline("p")
    pipeline.setup.append(Cell("import polars as pl"))
    pipeline.add(Node("orders", code="pl.DataFrame({'a': range(10), 'b': range(10)})"))
    pipeline.add(
        Node("customers", code="pl.DataFrame({'a': range(4), 'c': range(4), 'd': range(4)})")
    )
    pipeline.add(Node("joined", code="orders.join(customers, on='a')"))
    pipeline.add(Node("count", code="joined.height"))
    pipeline.add(Node("bad", code="1 / 0"))
    pipeline.add(Node("after_bad", code="bad"))
    observer = MetricsObserver()
    result = pipeline.run(hooks=[observer])
    metrics = observer.metrics(result.run_id)
    assert set(metrics) == {"orders", "customers", "joined", "count", "bad"}
    joined = metrics["joined"]
    assert isinstance(joined, NodeMetrics)
    assert (joined.rows_in, joined.columns_in) == (14, 5)
    assert (joined.rows_out, joined.columns_out) == (4, 4)
    assert (metrics["orders"].rows_in, metrics["orders"].rows_out) == (None, 10)
    assert (metrics["count"].rows_in, metrics["count"].rows_out) == (4, None)
    for name, m in metrics.items():
        assert m.wall_s == result.node_runs[name].duration_s
        assert m.cpu_s >= 0
    assert metrics["joined"].to_dict()["rows_out"] == 4


def test_metrics_observer_output_matches_frame_shape() -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("f", code="__import__('pandas').DataFrame({'x': [1, 2, 3]})"))
    observer = MetricsObserver()
    result = pipeline.run(hooks=[observer])
    metrics = observer.metrics(result.run_id)["f"]
    assert (metrics.rows_out, metrics.columns_out) == (3, 1)


def test_a_crash_of_the_run_itself_still_ends_it_and_propagates() -> None:
    """A bug below the nodes (here: an executor plug-in that breaks mid-run) is a crash:
    every node gets an outcome, RunFinished says ``crashed``, and the caller sees the error."""
    from pipeline_lab.engine import EXECUTORS, SequentialExecutor

    class Breaks(SequentialExecutor):
        def submit(self, task: Any) -> None:
            if task.name == "b":
                raise RuntimeError("the executor lost its workers")
            super().submit(task)

    recorder = Recorder()
    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="1"))
    pipeline.add(Node("b", code="a + 1"))
    pipeline.add(Node("c", code="b + 1"))
    EXECUTORS.register("breaks", Breaks)
    try:
        with pytest.raises(RuntimeError, match="lost its workers"):
            pipeline.run(hooks=[recorder], executor="breaks")
    finally:
        EXECUTORS.unregister("breaks")
    assert recorder.events[-1] == ("run_end", "crashed")
    ends = {e[1]: e[2] for e in recorder.events if e[0] == "node_end"}
    assert ends == {"a": "succeeded", "b": "failed", "c": "skipped"}


def test_misbehaving_gates_and_observers_never_crash_the_run() -> None:
    """A gate answering nonsense fails its node closed; exceptions that cannot even be printed,
    and sys.exit() in an observer, are reported: the run ends, recorded, as it should."""

    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no words")

    class Yes:
        def judge(self, run: RunInfo, node: Node, outcome: NodeOutcome) -> Any:
            return True

    def exits(event: Any) -> None:
        raise SystemExit(4)

    def unprintable(event: Any) -> None:
        raise Unprintable()

    recorder = Recorder()
    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="1"))
    result = pipeline.run(hooks=[exits, unprintable, recorder, Yes()])
    a = result.node_runs["a"]
    assert a.status is NodeStatus.FAILED
    assert "answered bool, not a Verdict" in (a.error or "")
    assert recorder.events[0][0] == "run_start" and recorder.events[-1] == ("run_end", "failed")
    assert any("SystemExit: sys.exit(4) was called" in e for e in result.hook_errors)
    assert any("its message cannot be shown" in e for e in result.hook_errors)


@pytest.mark.parametrize("executor", ["sequential", "threads"])
def test_a_node_raising_any_base_exception_fails_alone(executor: str) -> None:
    class Odd(BaseException):
        pass

    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no words")

    pipeline = Pipeline("p", params={"Odd": Odd, "Unprintable": Unprintable})
    pipeline.add(Node("odd", code="raise Odd('strange')"))
    pipeline.add(Node("mute", code="raise Unprintable()"))
    pipeline.add(Node("fine", code="'ok'"))
    result = pipeline.run(hooks=[], executor=executor)
    assert result.status is RunStatus.FAILED and result.outputs == {"fine": "ok"}
    assert result.node_runs["odd"].error == "Odd: strange"
    mute = result.node_runs["mute"].error or ""
    assert mute.startswith("Unprintable: <its message cannot be shown")
    assert "raise Unprintable()" in (result.node_runs["mute"].traceback or "")
