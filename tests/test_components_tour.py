"""The components tour notebook is a real pipeline: it parses, runs headless and in a kernel alike.

Its results are checked against the same numbers computed with the csv module alone.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipeline_lab import NodeStatus, Pipeline
from pipeline_lab.components import COMPONENTS, component_names

EXAMPLES = Path(__file__).resolve().parents[1] / "example_notebooks"
NOTEBOOK = EXAMPLES / "components_tour.ipynb"
DATA = EXAMPLES / "data"
CUSTOM = "share_of_total"  # the custom transform the notebook's setup cell registers

COMPONENT_NODES = {
    "orders": "schema",
    "unique_orders": "deduplicate",
    "paid": "filter",
    "enriched": "join",
    "monthly": "derive",
    "revenue": "aggregate",
    "ranked": "window",
    "shares": CUSTOM,
    "top_regions": "sql",
}
CODE_NODES = {"orders_raw", "customers", "write_top_regions"}
COLUMNS = [
    "month",
    "rank_in_month",
    "region",
    "revenue",
    "share",
    "orders",
    "avg_order",
    "prev_month_revenue",
    "revenue_per_customer",
]


@pytest.fixture(autouse=True)
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The notebook's custom transform is registered only by the setup cells a test runs."""
    component_names()  # the built-ins first, so the snapshot holds them
    items = dict(COMPONENTS._items)
    items.pop(CUSTOM, None)
    monkeypatch.setattr(COMPONENTS, "_items", items)
    yield


@pytest.fixture
def pipeline() -> Pipeline:
    return Pipeline.from_notebook(NOTEBOOK)


@pytest.fixture
def in_examples(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the notebook's folder, as Jupyter and ``pipeline-lab run`` do."""
    monkeypatch.chdir(EXAMPLES)
    return EXAMPLES


def run_setup(pipeline: Pipeline) -> dict[str, Any]:
    """Run the setup cells, as a headless run does first (they register the custom transform)."""
    namespace: dict[str, Any] = {}
    for cell in pipeline.setup:
        exec(compile(cell.code, f"<setup cell {cell.index}>", "exec"), namespace)
    return namespace


def read_csv(name: str, folder: Path = DATA) -> list[dict[str, str]]:
    with (folder / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def expected_top_regions(folder: Path = DATA) -> list[dict[str, Any]]:
    """The three best regions of each month, computed with the csv module alone."""
    region_of = {c["customer_id"]: c["region"] for c in read_csv("customers.csv", folder)}
    customers = Counter(region_of.values())
    revenue: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    orders: Counter[tuple[date, str]] = Counter()
    seen: set[str] = set()
    for row in read_csv("orders.csv", folder):
        if row["order_id"] in seen:  # exported twice: the first copy counts
            continue
        seen.add(row["order_id"])
        if row["status"].strip().lower() != "paid" or not row["amount"].strip():
            continue
        amount = Decimal(row["amount"])
        if amount > 10:
            year, month, _ = map(int, row["order_date"].split("-"))
            key = (date(year, month, 1), region_of[row["customer_id"]])
            revenue[key] += amount
            orders[key] += 1
    months = sorted({month for month, _ in revenue})
    rows = []
    for month in months:
        sales = {region: value for (m, region), value in revenue.items() if m == month}
        total = sum(sales.values())
        ranks = {r: 1 + sum(v > sales[r] for v in sales.values()) for r in sales}
        previous = date(month.year, month.month - 1, 1) if month.month > 1 else None
        for region in sorted(sales, key=ranks.__getitem__):
            if ranks[region] > 3:
                continue
            value, count = sales[region], orders[(month, region)]
            rows.append(
                {
                    "month": month,
                    "rank_in_month": ranks[region],
                    "region": region,
                    "revenue": value,
                    "share": float(value / total),
                    "orders": count,
                    "avg_order": float(value / count),
                    "prev_month_revenue": revenue.get((previous, region)) if previous else None,
                    # CAST(... AS DECIMAL(12, 2)) rounds half to even, as polars does
                    "revenue_per_customer": (value / customers[region]).quantize(
                        Decimal("0.01"), ROUND_HALF_EVEN
                    ),
                }
            )
    return rows


# -- the notebook defines the pipeline ---------------------------------------------------------
def test_notebook_defines_the_component_nodes(pipeline: Pipeline) -> None:
    assert {n: node.component for n, node in pipeline.nodes.items() if node.component} == (
        COMPONENT_NODES
    )
    assert {n for n, node in pipeline.nodes.items() if node.component is None} == CODE_NODES
    assert pipeline.params == {
        "orders_csv": "data/orders.csv",
        "customers_csv": "data/customers.csv",
        "min_amount": 10.0,
        "output_path": "output/top_regions.parquet",
    }
    assert any("@pipeline_lab.transform" in cell.code for cell in pipeline.setup)
    assert pipeline.notices == []  # the %pipeline line magics are skipped silently
    assert pipeline.nodes["ranked"].params["columns"]["rank_in_month"]["function"] == "rank"
    assert "date_trunc('month', order_date)" in pipeline.nodes["monthly"].params["columns"]["month"]

    run_setup(pipeline)  # registers the custom transform, as a headless run does first

    assert pipeline.validate() == []


def test_validate_accepts_custom_transforms_before_the_setup_cells_run(
    pipeline: Pipeline,
) -> None:
    assert pipeline.validate() == []


def test_edges_come_from_the_component_parameters(pipeline: Pipeline) -> None:
    deps = {name: set(pipeline.dependencies(name)) for name in pipeline.nodes}
    assert deps == {
        "orders_raw": set(),
        "customers": set(),
        "orders": {"orders_raw"},
        "unique_orders": {"orders"},
        "paid": {"unique_orders"},
        "enriched": {"paid", "customers"},
        "monthly": {"enriched"},
        "revenue": {"monthly"},
        "ranked": {"revenue"},
        "shares": {"ranked"},
        "top_regions": {"shares", "customers"},  # the tables its query names
        "write_top_regions": {"top_regions"},
    }
    assert pipeline.parameters_of("orders_raw") == ("orders_csv",)
    assert pipeline.parameters_of("customers") == ("customers_csv",)
    assert pipeline.parameters_of("write_top_regions") == ("output_path",)
    assert pipeline.order()[-1] == "write_top_regions"
    checks = {name: node.checks for name, node in pipeline.nodes.items() if node.checks}
    assert checks == {
        "top_regions": ("rank_in_month BETWEEN 1 AND 3", "share > 0 AND share < 1"),
    }


# -- it runs headless, right --------------------------------------------------------------------
def test_runs_headless_and_matches_an_independent_computation(
    pipeline: Pipeline, in_examples: Path, tmp_path: Path
) -> None:
    target = tmp_path / "new" / "dir" / "top.parquet"

    result = pipeline.run(params={"output_path": str(target)}, hooks=[])

    assert result.status == "succeeded", {n: r.error for n, r in result.node_runs.items()}
    assert {n: r.status for n, r in result.node_runs.items()} == dict.fromkeys(
        pipeline.nodes, NodeStatus.SUCCEEDED
    )
    assert result.setup_error is None
    # One plan for the chain: components read only by components stay lazy ...
    for name in set(COMPONENT_NODES) - {"orders", "top_regions"}:
        assert isinstance(result.outputs[name], pl.LazyFrame), name
    # ... and it is collected where a code node reads it; the strict schema, a gate, on its own.
    assert isinstance(result.outputs["top_regions"], pl.DataFrame)
    assert isinstance(result.outputs["orders"], pl.DataFrame)

    written = pl.read_parquet(target)
    assert written.equals(result.outputs["top_regions"])
    assert written.columns == COLUMNS
    assert written.schema["month"] == pl.Date
    assert isinstance(written.schema["revenue"], pl.Decimal)
    assert result.outputs["write_top_regions"]["rows"].to_list() == [36]

    expected = expected_top_regions()
    assert len(expected) == written.height == 36  # 3 regions x 12 months
    for got, want in zip(written.iter_rows(named=True), expected, strict=True):
        exact = set(COLUMNS) - {"share", "avg_order"}
        assert {k: got[k] for k in exact} == {k: want[k] for k in exact}
        assert got["share"] == pytest.approx(want["share"], abs=6e-5)
        assert got["avg_order"] == pytest.approx(want["avg_order"], abs=0.006)


def test_the_strict_schema_fails_the_run_on_a_malformed_amount(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    shutil.copy(DATA / "customers.csv", tmp_path / "customers.csv")
    text = (DATA / "orders.csv").read_text(encoding="utf-8")
    assert "\n3,114,2025-06-02,paid,112.68\n" in text
    bad = text.replace("\n3,114,2025-06-02,paid,112.68\n", '\n3,114,2025-06-02,paid,"112,68"\n')
    (tmp_path / "orders.csv").write_text(bad, encoding="utf-8")
    target = tmp_path / "top.parquet"

    result = pipeline.run(
        params={
            "orders_csv": str(tmp_path / "orders.csv"),
            "customers_csv": str(tmp_path / "customers.csv"),
            "output_path": str(target),
        },
        hooks=[],
    )

    assert result.status == "failed"
    # The schema gate is collected where it is: its own node fails, nothing downstream runs.
    failed = result.node_runs["orders"]
    assert failed.status is NodeStatus.FAILED
    assert "schema:" in failed.error and "'amount'" in failed.error and "'112,68'" in failed.error
    for name in ("unique_orders", "top_regions", "write_top_regions"):
        assert result.node_runs[name].status is NodeStatus.SKIPPED
    assert not target.exists()


def test_explain_shows_the_aggregate_chain_as_one_plan(
    pipeline: Pipeline, in_examples: Path
) -> None:
    result = pipeline.run(only=["orders_raw", "customers"], hooks=[])
    run_setup(pipeline)  # `only` runs no node that needs the custom transform, but explain may

    plan = pipeline.explain("revenue", result.outputs)

    assert plan.count("FILTER") == 1  # the filter's two conditions, in one step
    (step,) = [line for line in plan.splitlines() if "FILTER" in line]
    assert '"paid"' in step and "amount" in step and "10" in step
    for part in ("AGGREGATE", "LEFT JOIN", "UNIQUE", "to_integer", "truncate"):
        assert part in plan, part  # aggregate, join, deduplicate, schema, derive
    assert "python" not in plan.lower()  # the schema's check is native polars (and not here)
    assert plan.count("DF [") == 2  # it reads the two code nodes' frames, and nothing else


# -- same results in a real kernel and from the CLI --------------------------------------------
def test_same_results_in_a_real_kernel_and_from_the_cli(kernel_and_cli) -> None:
    """Top to bottom in a Jupyter kernel (papermill) and headless (CLI): same Parquet."""
    cells, kernel_out, cli_out = kernel_and_cli(NOTEBOOK)
    outputs = [o for c in cells for o in c.get("outputs", [])]
    assert "error" not in {o.get("output_type") for o in outputs}

    def shown(first_line: str) -> str:
        (cell,) = [c for c in cells if "".join(c["source"]).startswith(first_line)]
        return json.dumps(cell.get("outputs", []), ensure_ascii=False)

    assert "✓ top_regions: 36 rows" in shown("%%pipeline top_regions")
    assert "2 checks passed" in shown("%%pipeline top_regions")
    assert CUSTOM in shown("%pipeline components")
    assert "group_by(['region', 'month']" in shown("%pipeline code revenue")
    assert shown("%pipeline explain revenue").count("FILTER") == 1

    kernel_frame, cli_frame = pl.read_parquet(kernel_out), pl.read_parquet(cli_out)
    assert kernel_frame.height == 36
    assert kernel_frame.equals(cli_frame)
