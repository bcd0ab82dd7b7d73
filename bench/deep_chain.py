"""A deep chain of filter components against the same filters hand-written in polars.

Chains of 1,000 and 2,000 filter components on 100 rows (a code node, then each filter reads
the one before): the cost is the building of the chain, not the data.
  (a) component nodes through Pipeline.run(hooks=[], executor="sequential")
  (b) the same filters hand-written in polars: one lazy plan, collected once
Reported per depth: the median time of each, their ratio, and the peak resident memory of
(a) above the start of a fresh process (Rust allocations included). Before schemas were
known incrementally, 1,000 filters took 12.9 s and 2,000 took 82 s and 1.9 GB; the target is
a 2,000-deep chain in under 3 s.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time

DEPTHS = (1_000, 2_000)
ROWS = 100
REPEAT = 5
TARGET_S = 3.0  # a 2,000-deep chain


def frame():  # -> polars DataFrame
    import polars as pl

    return pl.DataFrame({"a": list(range(ROWS)), "b": [i * 0.5 for i in range(ROWS)]})


def threshold(i: int) -> int:
    return i * ROWS // (2 * max(DEPTHS))  # rises slowly: half the rows survive the deepest chain


def pipeline(depth: int):  # -> Pipeline
    from pipeline_lab import Node, Pipeline

    data = frame()
    p = Pipeline(f"deep_{depth}")
    p.add(Node.from_function(lambda: data, name="n0"))
    for i in range(1, depth + 1):
        params = {"input": f"n{i - 1}", "condition": f"a >= {threshold(i)}"}
        p.add(Node(f"n{i}", component="filter", params=params))
    return p


def run_components(depth: int):  # -> DataFrame
    result = pipeline(depth).run(hooks=[], executor="sequential")
    assert result.ok, result.failed
    return result.outputs[f"n{depth}"]


def run_polars(depth: int):  # -> DataFrame
    import polars as pl

    plan = frame().lazy()
    for i in range(1, depth + 1):
        plan = plan.filter(pl.col("a") >= threshold(i))
    return plan.collect()


def median_seconds(func, repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_memory(depth: int) -> float:
    """Peak resident memory (MiB) of a fresh process that runs the component chain once."""
    done = subprocess.run(
        [sys.executable, __file__, "--memory", str(depth)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


def memory_child(depth: int) -> None:
    os.environ["PIPELINE_LAB_STORE"] = "off"
    import polars  # noqa: F401  (imports are not the chain's memory)

    import pipeline_lab.components  # noqa: F401

    with open("/proc/self/statm") as handle:
        before = int(handle.read().split()[1]) * resource.getpagesize()
    run_components(depth)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print((peak - before) / 1024**2)


def main() -> int:
    os.environ.setdefault("PIPELINE_LAB_STORE", "off")
    print(f"bench/deep_chain.py: chains of filter components on {ROWS} rows, median of {REPEAT}")
    print(
        f"{'depth':>6} {'(a) components s':>17} {'(b) polars s':>13} {'(a)/(b)':>8} "
        f"{'(a) peak MiB':>13}"
    )
    ok = True
    for depth in DEPTHS:
        assert run_components(depth).equals(run_polars(depth)), "results differ"
        a = median_seconds(lambda depth=depth: run_components(depth))
        b = median_seconds(lambda depth=depth: run_polars(depth))
        memory = peak_memory(depth)
        if depth == max(DEPTHS):
            ok = a < TARGET_S
        print(f"{depth:>6} {a:17.3f} {b:13.3f} {a / b:8.1f} {memory:13.1f}")
    deepest = max(DEPTHS)
    print(f"target: {deepest:,} deep in under {TARGET_S:.0f} s: {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--memory":
        memory_child(int(sys.argv[2]))
        sys.exit(0)
    sys.exit(main())
