"""ETL through component nodes vs hand-written polars (lazy) and pandas, same process.

Data (deterministic, cached as Parquet under bench/.data): 5,000,000 orders (order_id,
customer_id, amount, status of 4 values, ts) and 100,000 customers (customer_id, region of
10 values, signup_date). Work: paid orders with amount > 10, joined to customers, revenue
by region and month (sum, mean, count).
  (a) component nodes (filter -> join -> derive -> aggregate) through Pipeline.run
  (b) the same in hand-written polars lazy code          target: (a)/(b) <= 1.10
  (c) the same in hand-written pandas                    reported: (c)/(a)
Timings are medians of interleaved runs of (a) and (b), then of (c); peak memory is the peak
resident memory of each variant above its loaded inputs, sampled every millisecond in a
fresh process.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / ".data"
ORDERS, CUSTOMERS = 5_000_000, 100_000
REPEAT = 15


def generate() -> tuple[Path, Path]:
    """Write the data once (seeded): later runs reuse the Parquet files."""
    orders_path, customers_path = DATA / "orders.parquet", DATA / "customers.parquet"
    if orders_path.exists() and customers_path.exists():
        return orders_path, customers_path
    import numpy as np
    import polars as pl

    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(42)
    start = np.datetime64("2025-01-01T00:00:00", "us")
    year_us = 365 * 24 * 3600 * 1_000_000
    pl.DataFrame(
        {
            "order_id": np.arange(ORDERS, dtype=np.int64),
            "customer_id": rng.integers(0, CUSTOMERS, ORDERS, dtype=np.int64),
            "amount": np.round(rng.gamma(2.0, 30.0, ORDERS), 2),
            "status": rng.choice(
                np.array(["paid", "pending", "refunded", "cancelled"]),
                ORDERS,
                p=[0.7, 0.15, 0.1, 0.05],
            ),
            "ts": start + rng.integers(0, year_us, ORDERS).astype("timedelta64[us]"),
        }
    ).write_parquet(orders_path)
    pl.DataFrame(
        {
            "customer_id": np.arange(CUSTOMERS, dtype=np.int64),
            "region": rng.choice(np.array([f"region_{i}" for i in range(10)]), CUSTOMERS),
            "signup_date": (
                np.datetime64("2020-01-01")
                + rng.integers(0, 5 * 365, CUSTOMERS).astype("timedelta64[D]")
            ),
        }
    ).write_parquet(customers_path)
    return orders_path, customers_path


def load():  # -> (polars orders, polars customers)
    import polars as pl

    orders_path, customers_path = generate()
    return pl.read_parquet(orders_path), pl.read_parquet(customers_path)


def component_pipeline(orders, customers):  # -> Pipeline
    from pipeline_lab import Node, Pipeline

    p = Pipeline("etl_bench")
    p.add(Node.from_function(lambda: orders, name="orders"))
    p.add(Node.from_function(lambda: customers, name="customers"))
    p.add(
        Node(
            "paid",
            component="filter",
            params={"input": "orders", "condition": "status = 'paid' AND amount > 10"},
        )
    )
    p.add(
        Node(
            "enriched",
            component="join",
            params={"left": "paid", "right": "customers", "on": "customer_id"},
        )
    )
    p.add(
        Node(
            "with_month",
            component="derive",
            params={"input": "enriched", "columns": {"month": "date_trunc('month', ts)"}},
        )
    )
    p.add(
        Node(
            "revenue",
            component="aggregate",
            params={
                "input": "with_month",
                "by": ["region", "month"],
                "aggs": {
                    "revenue": "sum(amount)",
                    "avg_amount": "avg(amount)",
                    "orders": "count(*)",
                },
            },
        )
    )
    return p


def run_components(pipeline):  # -> DataFrame
    result = pipeline.run(executor="threads", hooks=[])
    assert result.ok, result.failed
    return result.outputs["revenue"]


def run_polars(orders, customers):  # -> DataFrame
    import polars as pl

    return (
        orders.lazy()
        .filter((pl.col("status") == "paid") & (pl.col("amount") > 10))
        .join(customers.lazy(), on="customer_id")
        .with_columns(month=pl.col("ts").dt.truncate("1mo"))
        .group_by(["region", "month"], maintain_order=True)
        .agg(revenue=pl.col("amount").sum(), avg_amount=pl.col("amount").mean(), orders=pl.len())
        .collect()
    )


def run_pandas(orders, customers):  # -> pandas DataFrame
    paid = orders[(orders["status"] == "paid") & (orders["amount"] > 10)]
    enriched = paid.merge(customers, on="customer_id")
    enriched["month"] = enriched["ts"].dt.to_period("M").dt.to_timestamp()
    return (
        enriched.groupby(["region", "month"], sort=False)
        .agg(revenue=("amount", "sum"), avg_amount=("amount", "mean"), orders=("amount", "size"))
        .reset_index()
    )


def same(a, b) -> bool:
    keys = ["region", "month"]
    a, b = a.sort(keys), b.sort(keys)
    return (
        a.select(keys).equals(b.select(keys))
        and (a["orders"].cast(int) == b["orders"].cast(int)).all()
        and ((a["revenue"] - b["revenue"]).abs() < 1e-6 * b["revenue"].abs().max()).all()
    )


def peak_memory(variant: str) -> float:
    done = subprocess.run(
        [sys.executable, __file__, "--memory", variant], capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip())


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


def memory_child(variant: str) -> None:
    """Peak resident memory while the variant runs, above what the loaded data takes."""
    import gc
    import threading

    os.environ["PIPELINE_LAB_STORE"] = "off"
    orders, customers = load()
    args = (
        (orders.to_pandas(), customers.to_pandas()) if variant == "pandas" else (orders, customers)
    )
    run = {
        "components": lambda: run_components(component_pipeline(*args)),
        "polars": lambda: run_polars(*args),
        "pandas": lambda: run_pandas(*args),
    }[variant]
    gc.collect()
    before = peak = _rss()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    run()
    done.set()
    sampler.join()
    print((max(peak, _rss()) - before) / 1024**3)


def main() -> int:
    import polars as pl

    os.environ.setdefault("PIPELINE_LAB_STORE", "off")
    orders, customers = load()
    orders_pd, customers_pd = orders.to_pandas(), customers.to_pandas()
    pipeline = component_pipeline(orders, customers)
    ours, theirs = run_components(pipeline), run_polars(orders, customers)
    assert same(ours, theirs), "component pipeline and hand-written polars disagree"
    assert same(pl.from_pandas(run_pandas(orders_pd, customers_pd)), theirs), "pandas disagrees"
    times: dict[str, list[float]] = {"components": [], "polars": [], "pandas": []}
    variants = {
        "components": lambda: run_components(pipeline),
        "polars": lambda: run_polars(orders, customers),
        "pandas": lambda: run_pandas(orders_pd, customers_pd),
    }
    # (a) and (b) alternate, so drift in the machine hits both alike; pandas, whose memory
    # churn slows whatever runs next, is timed after them.
    for name in ["components", "polars"] * REPEAT + ["pandas"] * REPEAT:
        start = time.perf_counter()
        variants[name]()
        times[name].append(time.perf_counter() - start)
    a, b, c = (statistics.median(times[k]) for k in ("components", "polars", "pandas"))
    print(f"bench/etl.py: {ORDERS:,} orders x {CUSTOMERS:,} customers, median of {REPEAT}")
    print(f"  (a) component nodes via Pipeline.run : {a * 1e3:8.1f} ms")
    print(f"  (b) hand-written polars lazy          : {b * 1e3:8.1f} ms")
    print(f"  (c) hand-written pandas               : {c * 1e3:8.1f} ms")
    print(f"  (a)/(b) = {a / b:.3f}  (target <= 1.10: {'met' if a / b <= 1.10 else 'MISSED'})")
    print(f"  (c)/(a) = {c / a:.2f}")
    print(
        "  peak memory above the loaded inputs (fresh process each): "
        + ", ".join(f"{v} {peak_memory(v):.2f} GiB" for v in ("components", "polars", "pandas"))
    )
    print(plan_note(pipeline))
    return 0


def plan_note(pipeline) -> str:
    plan = pipeline.explain("revenue", pipeline.run(only=["orders", "customers"], hooks=[]).outputs)
    return "  fused plan of 'revenue':\n" + "\n".join("    " + line for line in plan.splitlines())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--memory":
        memory_child(sys.argv[2])
        sys.exit(0)
    sys.exit(main())
