"""The example notebook is a real pipeline: it parses, runs headless and is reproducible."""

from __future__ import annotations

import csv
import filecmp
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipeline_lab import NodeStatus, Pipeline
from pipeline_lab.quality import ChecksGate

EXAMPLES = Path(__file__).resolve().parents[1] / "example_notebooks"
NOTEBOOK = EXAMPLES / "sales_pipeline.ipynb"
DATA = EXAMPLES / "data"
GENERATOR = DATA / "generate.py"
CSVS = ("orders.csv", "customers.csv")

NODES = {
    "orders",
    "customers",
    "clean_orders",
    "paid_orders",
    "enriched",
    "revenue_by_region_month",
    "write_revenue",
}
REVENUE_COLUMNS = ["region", "month", "revenue", "avg_order_value", "order_count"]
REGIONS = {"North", "South", "East", "West", "Central"}


@pytest.fixture
def pipeline() -> Pipeline:
    return Pipeline.from_notebook(NOTEBOOK)


@pytest.fixture
def in_examples(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the notebook's folder, as Jupyter and ``pipeline-lab run`` do."""
    monkeypatch.chdir(EXAMPLES)
    return EXAMPLES


def expected_paid_orders(min_amount: Decimal = Decimal("0")) -> dict[str, Decimal | int]:
    """Paid revenue computed with the csv module alone, independently of the notebook."""
    seen: set[str] = set()
    total, count = Decimal("0"), 0
    with (DATA / "orders.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["order_id"] in seen:
                continue
            seen.add(row["order_id"])
            if row["status"].strip().lower() != "paid" or not row["amount"].strip():
                continue
            amount = Decimal(row["amount"])
            if amount > min_amount:
                total += amount
                count += 1
    return {"revenue": total, "count": count}


# -- (a) the notebook defines the pipeline ------------------------------------------------------
def test_notebook_defines_the_sales_pipeline(pipeline: Pipeline) -> None:
    assert set(pipeline.nodes) >= NODES
    assert len(pipeline.nodes) >= 6
    assert pipeline.params == {
        "orders_csv": "data/orders.csv",
        "customers_csv": "data/customers.csv",
        "output_path": "output/revenue_by_region_month.parquet",
        "min_amount": 0.0,
    }
    assert any("import polars as pl" in cell.code for cell in pipeline.setup)
    assert pipeline.reports, "the notebook should have a report cell reading a node output"
    assert all(pipeline.report_dependencies(cell) for cell in pipeline.reports)
    assert pipeline.notices == []
    assert pipeline.validate() == []


def test_edges_come_from_the_names_each_cell_reads(pipeline: Pipeline) -> None:
    deps = {name: set(pipeline.dependencies(name)) for name in pipeline.nodes}
    assert deps["orders"] == set() and deps["customers"] == set()
    assert deps["clean_orders"] == {"orders"}
    assert deps["paid_orders"] == {"clean_orders"}
    assert deps["enriched"] == {"paid_orders", "customers"}
    assert deps["revenue_by_region_month"] == {"enriched"}
    assert deps["write_revenue"] == {"revenue_by_region_month"}
    assert pipeline.parameters_of("orders") == ("orders_csv",)
    assert pipeline.parameters_of("customers") == ("customers_csv",)
    assert pipeline.parameters_of("paid_orders") == ("min_amount",)
    assert pipeline.parameters_of("write_revenue") == ("output_path",)
    assert pipeline.order()[-1] == "write_revenue"
    checks = {name: node.checks for name, node in pipeline.nodes.items() if node.checks}
    assert checks["clean_orders"] == ("amount >= 0",)
    assert "amount > 0" in checks["paid_orders"]


# -- (b) it runs headless ---------------------------------------------------------------------
def test_runs_headless_and_writes_the_revenue(
    pipeline: Pipeline, in_examples: Path, tmp_path: Path
) -> None:
    target = tmp_path / "new" / "dir" / "revenue.parquet"

    result = pipeline.run(params={"output_path": str(target)}, hooks=[])

    assert result.status == "succeeded", result.node_runs
    assert {n: r.status for n, r in result.node_runs.items()} == dict.fromkeys(
        pipeline.nodes, NodeStatus.SUCCEEDED
    )
    assert result.setup_error is None
    assert result.report_errors == {}

    # Written through pipeline_lab.write: atomic, and recorded as the node's output dataset.
    outputs = [u for u in result.node_runs["write_revenue"].datasets if u.direction == "output"]
    assert [(u.dataset.namespace, u.dataset.name) for u in outputs] == [("file", str(target))]
    written = pl.read_parquet(target)
    assert written.columns == REVENUE_COLUMNS
    assert written.height == len(REGIONS) * 12  # every region sells every month of 2025
    assert set(written["region"]) == REGIONS
    assert sorted(set(written["month"])) == [f"2025-{m:02d}" for m in range(1, 13)]
    assert written.equals(result.outputs["revenue_by_region_month"])

    expected = expected_paid_orders()
    assert int(written["order_count"].sum()) == expected["count"]
    assert written["revenue"].sum() == pytest.approx(float(expected["revenue"]), abs=0.01)
    assert (written["avg_order_value"] > 0).all()

    summary = result.outputs["write_revenue"]
    assert summary["path"].to_list() == [str(target)]
    assert summary["rows"].to_list() == [written.height]


def test_cleaning_has_real_work_to_do(pipeline: Pipeline, in_examples: Path) -> None:
    result = pipeline.run(only="clean_orders", hooks=[])

    raw, clean = result.outputs["orders"], result.outputs["clean_orders"]
    assert raw["order_id"].n_unique() < raw.height, "the raw export should repeat some orders"
    assert raw["amount"].null_count() > 0
    assert set(raw["status"]) > {"paid", "pending", "refunded", "cancelled"}
    assert clean["order_id"].is_unique().all()
    assert clean["amount"].null_count() == 0
    assert set(clean["status"]) == {"paid", "pending", "refunded", "cancelled"}
    assert clean.schema["order_date"] == pl.Date


def test_quality_checks_hold_on_the_example_data(
    pipeline: Pipeline, in_examples: Path, tmp_path: Path
) -> None:
    result = pipeline.run(
        params={"output_path": str(tmp_path / "revenue.parquet")}, hooks=[ChecksGate()]
    )

    assert result.status == "succeeded", {n: r.error for n, r in result.node_runs.items()}
    for name, node in pipeline.nodes.items():
        outcomes = result.node_runs[name].checks
        assert [o.rule for o in outcomes] == list(node.checks)
        assert all(o.passed and o.failed_rows == 0 and o.total_rows > 0 for o in outcomes)


def test_min_amount_parameter_filters_orders(
    pipeline: Pipeline, in_examples: Path, tmp_path: Path
) -> None:
    result = pipeline.run(
        params={"min_amount": 100.0, "output_path": str(tmp_path / "big.parquet")}, hooks=[]
    )

    assert result.status == "succeeded"
    expected = expected_paid_orders(Decimal("100"))
    revenue = result.outputs["revenue_by_region_month"]
    assert 0 < expected["count"] < expected_paid_orders()["count"]
    assert int(revenue["order_count"].sum()) == expected["count"]
    assert revenue["revenue"].sum() == pytest.approx(float(expected["revenue"]), abs=0.01)


# -- (c) the data is reproducible -------------------------------------------------------------
def test_generator_is_deterministic_and_matches_the_committed_csvs(tmp_path: Path) -> None:
    for run in ("first", "second"):
        subprocess.run(
            [sys.executable, str(GENERATOR), str(tmp_path / run)],
            check=True,
            capture_output=True,
            timeout=60,
        )

    for name in CSVS:
        first, second = tmp_path / "first" / name, tmp_path / "second" / name
        assert first.read_bytes() == second.read_bytes(), f"{name} differs between two runs"
        assert filecmp.cmp(first, DATA / name, shallow=False), (
            f"example_notebooks/data/{name} is not what generate.py writes; "
            "run `python example_notebooks/data/generate.py` and commit the result"
        )


def test_generated_data_has_the_documented_shape() -> None:
    with (DATA / "customers.csv").open(newline="", encoding="utf-8") as handle:
        customers = list(csv.DictReader(handle))
    with (DATA / "orders.csv").open(newline="", encoding="utf-8") as handle:
        orders = list(csv.DictReader(handle))

    assert len(customers) == 200
    assert {c["region"] for c in customers} == REGIONS
    assert 2000 <= len(orders) <= 2100
    assert {o["order_date"][:7] for o in orders} == {f"2025-{m:02d}" for m in range(1, 13)}
    statuses = Counter(o["status"].strip().lower() for o in orders)
    assert set(statuses) == {"paid", "pending", "refunded", "cancelled"}
    assert statuses.most_common(1)[0][0] == "paid"
    assert {o["customer_id"] for o in orders} <= {c["customer_id"] for c in customers}


def test_same_results_in_a_real_kernel_and_from_the_cli(kernel_and_cli) -> None:
    """Top to bottom in a Jupyter kernel (papermill) and headless (CLI): same Parquet."""
    import json

    cells, kernel_out, cli_out = kernel_and_cli(NOTEBOOK)
    text = json.dumps([c.get("outputs", []) for c in cells], ensure_ascii=False)
    assert "✓ revenue_by_region_month" in text and "error" not in {
        o.get("output_type") for c in cells for o in c.get("outputs", [])
    }
    kernel_frame, cli_frame = pl.read_parquet(kernel_out), pl.read_parquet(cli_out)
    assert kernel_frame.height == 60
    assert kernel_frame.equals(cli_frame)
