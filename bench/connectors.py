"""Database connector vs the usual ways to move a table between PostgreSQL and a frame.

Data (deterministic, generated in memory): 1,000,000 orders, 8 columns: id bigint,
customer_id integer, amount numeric(12,2), price double precision, status text, paid boolean,
day date, ts timestamptz. They live in a database made for the run (``pl_bench_<hex>`` on
127.0.0.1:5432, trust auth) and dropped at the end.

Read the whole table (same process, interleaved runs, medians):
  (a) pipeline_lab.read(url, table="orders")                       our connector
  (b) pandas.read_sql("SELECT * FROM orders", SQLAlchemy engine)   target: (b)/(a) >= 3
  (c) polars.read_database_uri("SELECT * FROM orders", uri)        target: (a)/min(a, c) <= 1.2
  (d) pipeline_lab.read(url, query="... WHERE id >= :low", params=...)   reported (COPY path)
Write the same frame into a new table:
  (e) pipeline_lab.write(frame, url, table=...)                    our connector (COPY)
  (f) pandas DataFrame.to_sql(method="multi", chunksize=500)       target: (f)/(e) >= 1
  (g) pandas DataFrame.to_sql() (executemany, chunksize=10000)     reported: a stronger baseline
The multi-row chunk size is the fastest of 500/1000/2000/8000 measured on 100,000 of these
rows (larger statements cost SQLAlchemy more to build than they save in round trips).

Usage: python bench/connectors.py [--repeat N] [--pandas-repeat N] [--to-sql-repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

ROWS = 1_000_000
ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}


def generate(rows: int = ROWS) -> Any:  # -> polars DataFrame
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(42)
    start = np.datetime64("2025-01-01T00:00:00", "us")
    year_us = 365 * 24 * 3600 * 1_000_000
    return pl.DataFrame(
        {
            "id": np.arange(rows, dtype=np.int64),
            "customer_id": rng.integers(0, 100_000, rows, dtype=np.int32),
            "amount": rng.integers(0, 10_000_000, rows) / 100,
            "price": rng.gamma(2.0, 30.0, rows),
            "status": rng.choice(np.array(["paid", "pending", "refunded", "cancelled"]), rows),
            "paid": rng.random(rows) < 0.7,
            "day": np.datetime64("2024-01-01")
            + rng.integers(0, 730, rows).astype("timedelta64[D]"),
            "ts": start + rng.integers(0, year_us, rows).astype("timedelta64[us]"),
        }
    ).with_columns(
        pl.col("amount").cast(pl.Decimal(12, 2)), pl.col("ts").dt.replace_time_zone("UTC")
    )


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def median_of(runs: list[float]) -> float:
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of our reads and writes")
    parser.add_argument("--pandas-repeat", type=int, default=3, help="runs of pandas.read_sql")
    parser.add_argument(
        "--to-sql-repeat", type=int, default=1, help="runs of each to_sql (about 2 min each)"
    )
    args = parser.parse_args()
    os.environ.setdefault("PIPELINE_LAB_STORE", "off")

    import pandas as pd
    import polars as pl
    import psycopg
    from sqlalchemy import create_engine

    import pipeline_lab.connectors as connectors
    from pipeline_lab.connectors.sql import dispose_engines

    name = f"pl_bench_{uuid.uuid4().hex[:8]}"
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    uri = f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(**ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(url)
    try:
        frame = generate()
        load_s, _ = timed(lambda: connectors.write(frame, url, table="orders", key="id"))
        print(f"{ROWS:,} rows x {frame.width} columns loaded in {load_s:.2f}s; database {name}")
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE orders")

        ours_runs, polars_runs, params_runs = [], [], []
        reference = None
        for _ in range(args.repeat):  # interleaved, so drift hits both alike
            seconds, ours = timed(lambda: connectors.read(url, table="orders"))
            ours_runs.append(seconds)
            seconds, theirs = timed(lambda: pl.read_database_uri("SELECT * FROM orders", uri))
            polars_runs.append(seconds)
            seconds, bound = timed(
                lambda: connectors.read(
                    url, query="SELECT * FROM orders WHERE id >= :low", params={"low": 0}
                )
            )
            params_runs.append(seconds)
            reference = ours
        assert reference is not None and reference.height == ROWS
        assert reference.sort("id").equals(bound.sort("id")), "the COPY path read other values"
        assert theirs.height == ROWS
        pandas_runs = []
        for _ in range(args.pandas_repeat):
            seconds, table = timed(lambda: pd.read_sql("SELECT * FROM orders", engine))
            pandas_runs.append(seconds)
        assert len(table) == ROWS

        write_runs, to_sql_runs, executemany_runs = [], [], []
        for i in range(args.repeat):
            seconds, _ = timed(lambda i=i: connectors.write(frame, url, table=f"ours_{i}"))
            write_runs.append(seconds)
        pandas_frame = frame.to_pandas()
        for i in range(args.to_sql_repeat):
            seconds, _ = timed(
                lambda i=i: pandas_frame.to_sql(
                    f"multi_{i}", engine, index=False, method="multi", chunksize=500
                )
            )
            to_sql_runs.append(seconds)
            seconds, _ = timed(
                lambda i=i: pandas_frame.to_sql(
                    f"executemany_{i}", engine, index=False, chunksize=10_000
                )
            )
            executemany_runs.append(seconds)
        written = connectors.read(url, table="ours_0").sort("id")
        assert written.equals(frame.sort("id")), "the written table differs from the frame"

        ours, polars_uri, bound_s = map(median_of, (ours_runs, polars_runs, params_runs))
        pandas_s, write_s = map(median_of, (pandas_runs, write_runs))
        to_sql_s, executemany_s = map(median_of, (to_sql_runs, executemany_runs))
        fastest = min(ours, polars_uri)
        rows = [
            ("read  (a) pipeline_lab.read(table=)", ours, args.repeat),
            ("      (b) pandas.read_sql", pandas_s, args.pandas_repeat),
            ("      (c) polars.read_database_uri", polars_uri, args.repeat),
            ("      (d) pipeline_lab.read(query=, params=)", bound_s, args.repeat),
            ("write (e) pipeline_lab.write", write_s, args.repeat),
            ("      (f) pandas.to_sql(method='multi')", to_sql_s, args.to_sql_repeat),
            ("      (g) pandas.to_sql() executemany", executemany_s, args.to_sql_repeat),
        ]
        print()
        for label, seconds, runs in rows:
            print(f"{label:<46}{seconds:8.3f}s  median of {runs}")
        print()
        print(f"read:  pandas / ours           = {pandas_s / ours:7.2f}x  (target >= 3)")
        print(f"read:  ours / fastest          = {ours / fastest:7.2f}x  (target <= 1.2)")
        print(f"read:  pandas / ours (params)  = {pandas_s / bound_s:7.2f}x  (reported)")
        print(f"write: to_sql multi / ours     = {to_sql_s / write_s:7.2f}x  (target >= 1)")
        print(f"write: to_sql executemany / ours = {executemany_s / write_s:5.2f}x  (reported)")
    finally:
        engine.dispose()
        dispose_engines(url)
        with psycopg.connect(**ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
