"""Per-node overhead of ``Pipeline.run`` against calling the same functions directly.

Two shapes of 200 trivial nodes: a chain (each node reads the previous one) and a fan-out
(one root, 199 leaves reading it). Reported per node, as the median of several runs:
  (a) sequential executor, no hooks              target <= 25 us/node
  (b) threads executor + metrics and store hooks target <= 0.5 ms/node
The baseline (direct calls of the same functions) is measured in the same process.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

N = 200
REPEAT = 15


def step(x: int) -> int:
    return x + 1


def root() -> int:
    return 0


def build(shape: str):  # -> Pipeline
    from pipeline_lab import Node, Pipeline

    p = Pipeline(f"bench_{shape}")
    p.add(Node("n0", func=root))
    for i in range(1, N):
        upstream = f"n{i - 1}" if shape == "chain" else "n0"
        p.add(Node(f"n{i}", func=step, inputs=(upstream,)))
    return p


def direct(shape: str) -> None:
    value = root()
    if shape == "chain":
        for _ in range(1, N):
            value = step(value)
    else:
        for _ in range(1, N):
            step(value)


def median_seconds(func: Callable[[], object], repeat: int = REPEAT) -> float:
    func()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    os.environ.setdefault("PIPELINE_LAB_HOME", tempfile.mkdtemp(prefix="pl-bench-"))
    from pipeline_lab.engine import default_hooks
    from pipeline_lab.monitoring import MetricsObserver
    from pipeline_lab.store import StoreObserver

    print(
        f"bench/overhead.py: {N} trivial nodes, median of {REPEAT} runs, store {os.environ['PIPELINE_LAB_HOME']}"
    )
    print(
        f"{'shape':<8} {'variant':<34} {'total ms':>9} {'baseline ms':>12} {'overhead us/node':>17} {'target':>8}"
    )
    ok = True
    for shape in ("chain", "fanout"):
        pipeline = build(shape)
        base = median_seconds(lambda shape=shape: direct(shape))
        result = pipeline.run(executor="sequential", hooks=[])
        assert result.ok and len(result.node_runs) == N, result
        variants = [
            (
                "(a) sequential, no hooks",
                lambda pipeline=pipeline: pipeline.run(executor="sequential", hooks=[]),
                25.0,
            ),
            (
                "(b) threads, metrics + store hooks",
                lambda pipeline=pipeline: pipeline.run(
                    executor="threads", hooks=[MetricsObserver(), StoreObserver()]
                ),
                500.0,
            ),
            (
                "    threads, default hooks",
                lambda pipeline=pipeline: pipeline.run(hooks=default_hooks()),
                500.0,
            ),
        ]
        for label, func, target in variants:
            total = median_seconds(func)
            per_node = (total - base) / N * 1e6
            ok &= per_node <= target
            print(
                f"{shape:<8} {label:<34} {total * 1e3:9.2f} {base * 1e3:12.4f} {per_node:17.1f} {target:>6.0f}us"
            )
    print("all targets met" if ok else "SOME TARGETS MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
