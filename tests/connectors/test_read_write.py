"""One ``read``/``write``: where a source name resolves, and a store that is off stays closed.

Inside a run, names resolve in the run's catalog; outside one, in the store's, unless
``PIPELINE_LAB_STORE=off``: then no database file is ever created, and a name that is not a
file is an error that says so.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import pipeline_lab
from pipeline_lab import connectors
from pipeline_lab.connectors import DataSourceConfig
from pipeline_lab.context import RunContext, running
from pipeline_lab.errors import ConnectorError

ORDERS = pl.DataFrame({"id": [1, 2, 3], "amount": [12.5, 7.0, 30.25]})


class OneSource:
    """A catalog that knows one source: ``orders``, a CSV file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get_source(self, name: str) -> DataSourceConfig | None:
        return DataSourceConfig("file", str(self.path), name=name) if name == "orders" else None

    def source_names(self) -> list[str]:
        return ["orders"]


@pytest.fixture
def orders_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "orders.csv"
    ORDERS.write_csv(path)
    return path


@pytest.fixture
def store_off(monkeypatch: pytest.MonkeyPatch, pipeline_lab_home: Path) -> Path:
    monkeypatch.setenv("PIPELINE_LAB_STORE", "off")
    assert not any(pipeline_lab_home.iterdir())
    return pipeline_lab_home


def test_pipeline_lab_read_and_write_are_the_connectors_own() -> None:
    assert pipeline_lab.read is connectors.read
    assert pipeline_lab.write is connectors.write


def test_with_the_store_off_no_database_is_created(orders_csv: Path, store_off: Path) -> None:
    assert pipeline_lab.read(str(orders_csv)).equals(ORDERS)
    assert pipeline_lab.read("orders.csv").equals(ORDERS)
    pipeline_lab.write(ORDERS, "copy", format="csv")  # a new file whose name looks like a source
    assert pipeline_lab.read("copy", format="csv").equals(ORDERS)
    with pytest.raises(ConnectorError) as info:
        pipeline_lab.read("warehouse", table="orders")
    error = info.value
    assert "no file named 'warehouse'" in error.message
    assert "the store, which keeps them, is off (PIPELINE_LAB_STORE=off)" in error.message
    assert error.hint is not None
    assert "unset PIPELINE_LAB_STORE" in error.hint and "sources add NAME URL" in error.hint
    assert list(store_off.iterdir()) == []


def test_a_run_with_the_store_off_creates_no_database(orders_csv: Path, store_off: Path) -> None:
    run = pipeline_lab.Pipeline("names")
    run.add(pipeline_lab.Node.from_function(lambda: pipeline_lab.read("orders.csv"), name="ok"))
    run.add(pipeline_lab.Node.from_function(lambda: pipeline_lab.read("warehouse"), name="named"))
    result = run.run(hooks=[])
    assert result.outputs["ok"].equals(ORDERS)
    assert "is off (PIPELINE_LAB_STORE=off)" in (result.node_runs["named"].error or "")
    assert list(store_off.iterdir()) == []


def test_inside_a_run_names_resolve_in_the_runs_catalog(
    orders_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A store that cannot be opened: asking it would fail the read.
    monkeypatch.setenv("PIPELINE_LAB_DB_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    with running(RunContext(run_id="r1", catalog=OneSource(orders_csv))):
        assert pipeline_lab.read("orders").equals(ORDERS)
        with pytest.raises(ConnectorError, match=r"no data source named 'ordrs'") as info:
            pipeline_lab.read("ordrs")
        assert info.value.hint == "did you mean 'orders'?"
    # A run without a catalog (its store was off) refuses names without opening a store.
    monkeypatch.setenv("PIPELINE_LAB_STORE", "off")
    with (
        running(RunContext(run_id="r2", catalog=None)),
        pytest.raises(ConnectorError, match="is off"),
    ):
        pipeline_lab.read("orders")


def test_an_explicit_catalog_wins(orders_csv: Path, store_off: Path) -> None:
    assert connectors.read("orders", catalog=OneSource(orders_csv)).equals(ORDERS)
    written = connectors.write(ORDERS.head(1), "orders", catalog=OneSource(orders_csv))
    assert written.rows == 1 and pipeline_lab.read(str(orders_csv)).height == 1


def test_reading_a_path_imports_neither_the_store_nor_sqlalchemy(orders_csv: Path) -> None:
    code = (
        "import sys\n"
        "import pipeline_lab\n"
        "before = set(sys.modules)\n"
        f"pipeline_lab.read({str(orders_csv)!r})\n"
        "heavy = ('pipeline_lab.store', 'sqlalchemy')\n"
        "print(sorted(m for m in set(sys.modules) - before if m.startswith(heavy)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
