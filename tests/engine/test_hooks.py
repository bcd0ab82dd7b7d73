"""Run hooks observe the run; a failing hook never kills it; a gate fails its node on purpose."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from pipeline_lab import Node, NodeStatus, Pipeline, QualityGateError, RetryPolicy, RunHooks
from pipeline_lab.engine.result import NodeRun, Run, RunResult
from pipeline_lab.graph import Cell
from pipeline_lab.monitoring import MetricsHook, NodeMetrics


class Recorder:
    """A plain object (no base class) using keyword-only arguments and ``**future``."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def on_run_start(self, *, run: Run, **future: Any) -> None:
        self.events.append(("run_start", run.pipeline.name, dict(run.params)))

    def on_node_start(self, *, run: Run, node: Node, **future: Any) -> None:
        self.events.append(("node_start", node.name))

    def on_node_end(self, *, run: Run, node: Node, result: NodeRun, **future: Any) -> None:
        self.events.append(("node_end", node.name, result.status.value))

    def on_run_end(self, *, run: Run, result: RunResult, **future: Any) -> None:
        self.events.append(("run_end", result.status))


def test_hooks_see_the_whole_run_in_order() -> None:
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


def test_hooks_see_skipped_and_failed_nodes() -> None:
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

    class Observer(RunHooks):
        def on_run_start(self, *, run: Run, **future: Any) -> None:
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


def test_hooks_get_keyword_arguments_only_and_future_ones_are_tolerated() -> None:
    calls: dict[str, set[str]] = {}

    class Strict:
        def on_run_start(self, *, run: Run, **future: Any) -> None:
            calls["on_run_start"] = {"run", *future}

        def on_node_start(self, *, run: Run, node: Node, **future: Any) -> None:
            calls["on_node_start"] = {"run", "node", *future}

        def on_node_retry(
            self,
            *,
            run: Run,
            node: Node,
            attempt: int,
            error: BaseException,
            delay: float,
            **future: Any,
        ) -> None:
            calls["on_node_retry"] = {"run", "node", "attempt", "error", "delay", *future}

        def on_node_end(self, *, run: Run, node: Node, result: NodeRun, **future: Any) -> None:
            calls["on_node_end"] = {"run", "node", "result", *future}

        def on_run_end(self, *, run: Run, result: RunResult, **future: Any) -> None:
            calls["on_run_end"] = {"run", "result", *future}

    pipeline = Pipeline("p", params={"tries": []})
    pipeline.add(
        Node(
            "a",
            code="tries.append(1)\nif len(tries) < 2:\n    raise OSError('once')",
            retry=RetryPolicy(retries=1, delay=0.0),
        )
    )
    result = pipeline.run(hooks=[Strict()])
    assert result.ok
    assert result.hook_errors == []
    assert calls == {
        "on_run_start": {"run"},
        "on_node_start": {"run", "node"},
        "on_node_retry": {"run", "node", "attempt", "error", "delay"},
        "on_node_end": {"run", "node", "result"},
        "on_run_end": {"run", "result"},
    }


def test_failing_hook_is_reported_and_the_run_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(RunHooks):
        def on_node_end(self, *, run: Run, node: Node, result: NodeRun, **future: Any) -> None:
            raise RuntimeError(f"cannot record {node.name}")

        def on_run_start(self, *, run: Run, **future: Any) -> None:
            raise QualityGateError("not a gate, so only reported")

    recorder = Recorder()
    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="1"))
    pipeline.add(Node("b", code="a + 1"))
    with caplog.at_level(logging.WARNING, logger="pipeline_lab.hooks"):
        result = pipeline.run(hooks=[Broken(), recorder])
    assert result.status == "succeeded"
    assert result.outputs == {"a": 1, "b": 2}
    assert result.hook_errors == [
        "Broken.on_run_start failed: QualityGateError: not a gate, so only reported",
        "Broken.on_node_end failed: RuntimeError: cannot record a",
        "Broken.on_node_end failed: RuntimeError: cannot record b",
    ]
    # The other hook still saw everything.
    assert ("node_end", "b", "succeeded") in recorder.events
    assert "cannot record a" in caplog.text


class Gate(RunHooks):
    gate = True

    def on_node_end(self, *, run: Run, node: Node, result: NodeRun, **future: Any) -> None:
        if result.status.ok and result.output == "bad data":
            raise QualityGateError("the data is bad", node=node.name)


def test_gate_fails_its_node_and_observers_see_the_final_status() -> None:
    recorder = Recorder()
    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="'bad data'"))
    pipeline.add(Node("b", code="a.upper()"))
    pipeline.add(Node("c", code="'good'"))
    # The observer is listed first; gates still run before it.
    result = pipeline.run(hooks=[recorder, Gate()], executor="sequential")
    assert result.status == "failed"
    a = result.node_runs["a"]
    assert a.status is NodeStatus.FAILED
    assert a.error == "QualityGateError: the data is bad"
    assert isinstance(a.exception, QualityGateError)
    assert result.node_runs["b"].status is NodeStatus.SKIPPED
    assert result.outputs == {"c": "good"}
    assert ("node_end", "a", "failed") in recorder.events
    assert ("node_end", "a", "succeeded") not in recorder.events
    assert result.hook_errors == []


def test_a_gate_that_crashes_fails_its_node_closed() -> None:
    class BuggyGate(RunHooks):
        gate = True

        def on_node_end(self, *, run: Run, node: Node, result: NodeRun, **future: Any) -> None:
            raise KeyError("bug in the gate")

    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="1"))
    result = pipeline.run(hooks=[BuggyGate()])
    assert result.node_runs["a"].status is NodeStatus.FAILED
    assert result.node_runs["a"].error == "KeyError: 'bug in the gate'"
    assert result.outputs == {}


# -- metrics ------------------------------------------------------------------------------------


def test_metrics_hook_records_each_node() -> None:
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
    result = pipeline.run(hooks=[MetricsHook()])
    metrics = result.metrics
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


def test_metrics_hook_output_matches_frame_shape() -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("f", code="__import__('pandas').DataFrame({'x': [1, 2, 3]})"))
    result = pipeline.run(hooks=[MetricsHook()])
    assert (result.metrics["f"].rows_out, result.metrics["f"].columns_out) == (3, 1)
