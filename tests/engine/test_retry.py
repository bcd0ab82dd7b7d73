"""Retries with exponential backoff and full jitter; what is retried and what is not."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from pipeline_lab import Node, NodeRetrying, NodeStatus, Pipeline, RetryPolicy, RunObserver
from pipeline_lab.engine import next_delay
from pipeline_lab.graph import Cell


class RetryLog(RunObserver):
    def __init__(self) -> None:
        self.retries: list[tuple[str, int, str, float]] = []

    def on_node_retrying(self, event: NodeRetrying) -> None:
        self.retries.append((event.node, event.attempt, event.error, event.delay))


def flaky(fail_times: int, error: str = "ConnectionError('flaky')", **policy: Any) -> Pipeline:
    """A node that fails ``fail_times`` times, then returns how many attempts it took."""
    calls: list[int] = []
    pipeline = Pipeline("p", params={"calls": calls, "fail_times": fail_times})
    code = f"calls.append(1)\nif len(calls) <= fail_times:\n    raise {error}\nlen(calls)"
    pipeline.add(Node("fetch", code=code, retry=RetryPolicy(**{"delay": 0.001, **policy})))
    pipeline.add(Node("after", code="fetch * 10"))
    return pipeline


def test_fails_twice_then_succeeds() -> None:
    log = RetryLog()
    result = flaky(2, retries=2).run(hooks=[log], rng=random.Random(5))
    run = result.node_runs["fetch"]
    assert run.status is NodeStatus.SUCCEEDED
    assert run.attempts == 3
    assert run.error is None
    assert result.outputs == {"fetch": 3, "after": 30}
    expected = random.Random(5)
    assert log.retries == [
        ("fetch", 1, "ConnectionError: flaky", next_delay(1, 0.001, 2.0, 60.0, expected)),
        ("fetch", 2, "ConnectionError: flaky", next_delay(2, 0.001, 2.0, 60.0, expected)),
    ]


def test_retries_exhausted() -> None:
    log = RetryLog()
    result = flaky(5, retries=2).run(hooks=[log])
    run = result.node_runs["fetch"]
    assert run.status is NodeStatus.FAILED
    assert run.attempts == 3
    assert run.error == "ConnectionError: flaky"
    assert [r[1] for r in log.retries] == [1, 2]
    assert result.node_runs["after"].status is NodeStatus.SKIPPED


def test_no_retries_by_default() -> None:
    log = RetryLog()
    result = flaky(1).run(hooks=[log])
    assert result.node_runs["fetch"].attempts == 1
    assert result.node_runs["fetch"].status is NodeStatus.FAILED
    assert log.retries == []


@pytest.mark.parametrize(
    ("error", "attempts", "status"),
    [
        pytest.param(
            "PipelineDefinitionError('bad')", 1, NodeStatus.FAILED, id="our-error-not-retried"
        ),
        pytest.param("QualityGateError('gate')", 1, NodeStatus.FAILED, id="gate-error-not-retried"),
        pytest.param("TransientError('busy')", 2, NodeStatus.SUCCEEDED, id="transient-retried"),
        pytest.param("ValueError('user code')", 2, NodeStatus.SUCCEEDED, id="user-error-retried"),
    ],
)
def test_what_is_retried(error: str, attempts: int, status: NodeStatus) -> None:
    pipeline = flaky(1, error=error, retries=3)
    errors = "PipelineDefinitionError, QualityGateError, TransientError"
    pipeline.setup.append(Cell(f"from pipeline_lab.errors import {errors}"))
    run = pipeline.run(hooks=[]).node_runs["fetch"]
    assert (run.attempts, run.status) == (attempts, status)


def test_retry_waits_the_delay() -> None:
    pipeline = flaky(1, retries=1, delay=0.2, factor=1.0)
    started = time.perf_counter()
    result = pipeline.run(hooks=[], rng=_MaxRandom())
    assert result.node_runs["fetch"].attempts == 2
    assert time.perf_counter() - started >= 0.2


class _MaxRandom(random.Random):
    """Always draws the top of the range: the delay equals its ceiling."""

    def uniform(self, a: float, b: float) -> float:
        return b


# -- next_delay -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempt", "base", "factor", "cap", "ceiling"),
    [
        pytest.param(1, 1.0, 2.0, 60.0, 1.0, id="first"),
        pytest.param(2, 1.0, 2.0, 60.0, 2.0, id="second"),
        pytest.param(4, 0.5, 3.0, 60.0, 13.5, id="factor-3"),
        pytest.param(10, 1.0, 2.0, 60.0, 60.0, id="capped"),
        pytest.param(3, 0.0, 2.0, 60.0, 0.0, id="zero-base"),
    ],
)
def test_next_delay_full_jitter_within_ceiling(
    attempt: int, base: float, factor: float, cap: float, ceiling: float
) -> None:
    rng = random.Random(1)
    delays = [next_delay(attempt, base, factor, cap, rng) for _ in range(300)]
    assert all(0.0 <= d <= ceiling for d in delays)
    assert next_delay(attempt, base, factor, cap, _MaxRandom()) == pytest.approx(ceiling)
    if ceiling:
        # Full jitter: spread over the whole range, not bunched near the ceiling.
        assert min(delays) < ceiling * 0.1
        assert max(delays) > ceiling * 0.9


def test_next_delay_is_deterministic_with_a_seed() -> None:
    first = [next_delay(a, 1.0, 2.0, 60.0, random.Random(42)) for a in range(1, 6)]
    second = [next_delay(a, 1.0, 2.0, 60.0, random.Random(42)) for a in range(1, 6)]
    assert first == second
    assert first != [next_delay(a, 1.0, 2.0, 60.0, random.Random(43)) for a in range(1, 6)]


@pytest.mark.parametrize("attempt", [pytest.param(0, id="zero"), pytest.param(-1, id="negative")])
def test_next_delay_attempt_is_one_based(attempt: int) -> None:
    with pytest.raises(ValueError, match="1-based"):
        next_delay(attempt, 1.0, 2.0, 60.0, random.Random(0))
