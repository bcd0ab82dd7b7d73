"""Node tasks are portable: a test executor pickles every task and every outcome, as a process
or a Dask worker would, and every kind of pipeline gives the same results as on threads."""

from __future__ import annotations

import pickle
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from pipeline_lab import Node, NodeStatus, Pipeline, PipelineLabError, RetryPolicy
from pipeline_lab.engine import EXECUTORS, ExecutorOptions, NodeTask, execute_task
from pipeline_lab.events import NodeOutcome
from pipeline_lab.graph import Cell
from pipeline_lab.quality import ChecksGate


class PickledExecutor:
    """Runs each task from its pickled bytes and hands back the outcome's pickled bytes."""

    capacity = 1
    crossings: list[int] = []

    def __init__(self, options: ExecutorOptions | None = None) -> None:
        self._tasks: deque[bytes] = deque()

    def submit(self, task: NodeTask) -> None:
        wire = pickle.dumps(task)
        self.crossings.append(len(wire))
        self._tasks.append(wire)

    def wait(self, timeout: float | None) -> list[NodeOutcome]:
        if not self._tasks:
            return []
        outcome = execute_task(pickle.loads(self._tasks.popleft()))
        returned: NodeOutcome = pickle.loads(pickle.dumps(outcome))
        return [returned]

    def close(self) -> list[str]:
        unstarted = [pickle.loads(wire).name for wire in self._tasks]
        self._tasks.clear()
        return unstarted


@pytest.fixture(autouse=True)
def pickled() -> Iterator[None]:
    PickledExecutor.crossings = []
    EXECUTORS.register("pickled", PickledExecutor)
    yield
    EXECUTORS.unregister("pickled")


def double(value: int) -> int:
    return value * 2


def both_ways(pipeline: Pipeline, **options: object) -> tuple[object, object]:
    local = pipeline.run(hooks=[ChecksGate()], executor="threads", **options)
    remote = pipeline.run(hooks=[ChecksGate()], executor="pickled", **options)
    assert PickledExecutor.crossings, "the pickled executor was not used"
    return local, remote


def same(local: object, remote: object) -> None:
    for name, run in local.node_runs.items():  # type: ignore[attr-defined]
        other = remote.node_runs[name]  # type: ignore[attr-defined]
        assert (other.status, other.rows, other.columns, other.error) == (
            run.status,
            run.rows,
            run.columns,
            run.error,
        ), name
    for name, value in local.outputs.items():  # type: ignore[attr-defined]
        other = remote.outputs[name]  # type: ignore[attr-defined]
        if isinstance(value, pl.LazyFrame):
            value, other = value.collect(), other.collect()
        if isinstance(value, pl.DataFrame):
            assert value.equals(other), name
        else:
            assert other == value, name


def test_code_nodes_with_parameters_and_setup_cells() -> None:
    pipeline = Pipeline(
        "code",
        params={"n": 4, "scale": 10},
        param_code="n = 4\nscale = 10",
        setup=[Cell("import math\ndef helper(v):\n    return math.prod(v)")],
    )
    pipeline.add(Node("numbers", code="list(range(1, params.n + 1))"))
    pipeline.add(Node("product", code="helper(numbers) * scale"))
    pipeline.add(Node("broken", code="numbers[99]"))
    local, remote = both_ways(pipeline, params={"n": 5})
    same(local, remote)
    assert remote.outputs["product"] == 1200  # type: ignore[attr-defined]
    broken = remote.node_runs["broken"]  # type: ignore[attr-defined]
    assert broken.status is NodeStatus.FAILED
    assert "numbers[99]" in (broken.traceback or "")  # the user's traceback crossed too


def test_function_nodes_and_component_chains_with_checks(tmp_path: Path) -> None:
    csv = tmp_path / "orders.csv"
    pl.DataFrame({"id": range(10), "amount": [float(i) - 2 for i in range(10)]}).write_csv(csv)
    pipeline = Pipeline("components")
    pipeline.add(Node("raw", component="read_csv", params={"path": str(csv)}))
    pipeline.add(
        Node("paid", component="filter", params={"input": "raw", "condition": "amount > 0"})
    )
    pipeline.add(
        Node(
            "typed",
            component="cast",
            params={"input": "paid", "columns": {"amount": "int64"}},
            checks=("amount > 0",),
        )
    )
    pipeline.add(Node("count", func=len, inputs=("typed",)))
    pipeline.add(Node.from_function(double, name="twice", inputs=("count",)))
    local, remote = both_ways(pipeline)
    same(local, remote)
    assert remote.outputs["twice"] == 14  # type: ignore[attr-defined]
    assert remote.node_runs["typed"].checks[0].passed  # type: ignore[attr-defined]
    raw = remote.node_runs["raw"]  # type: ignore[attr-defined]
    assert [use.direction for use in raw.datasets] == ["input"]  # lineage crossed back


def test_retries_across_the_boundary() -> None:
    pipeline = Pipeline("flaky", setup=[Cell("import itertools\ncalls = itertools.count(1)")])
    pipeline.add(
        Node(
            "fetch",
            code="if next(calls) < 3:\n    raise ConnectionError('down')\n'ok'",
            retry=RetryPolicy(retries=3, delay=0.0),
        )
    )
    result = pipeline.run(hooks=[], executor="pickled")
    # Each attempt rebuilt nothing: the worker keeps the run's namespace (its counter) once.
    assert result.outputs["fetch"] == "ok"
    assert result.node_runs["fetch"].attempts == 3


def test_a_kernel_namespace_cannot_leave_its_process() -> None:
    pipeline = Pipeline("kernel")
    pipeline.add(Node("a", code="x + 1"))
    with pytest.raises(PipelineLabError, match="cannot leave the kernel's process") as info:
        pipeline.run(hooks=[], executor="pickled", globals_={"x": 1})
    assert "threads" in (info.value.hint or "")
