"""Every test gets its own Pipeline Lab home, so no test reads or writes the user's state."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def pipeline_lab_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """``PIPELINE_LAB_HOME`` in a fresh temporary folder; the default SQLite store lives there."""
    home = tmp_path_factory.mktemp("pipeline_lab_home")
    monkeypatch.setenv("PIPELINE_LAB_HOME", str(home))
    monkeypatch.delenv("PIPELINE_LAB_DB_URL", raising=False)
    yield home
    store = sys.modules.get("pipeline_lab.store")
    if store is not None:
        # Stores opened by default hooks hold connections and a writer thread: one per test.
        store.close_stores()


@pytest.fixture
def kernel_and_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run a notebook top to bottom in a real kernel (papermill) and headless (the CLI).

    Returns ``run(notebook) -> (cells, kernel_parquet, cli_parquet)``: the executed cells and
    the two Parquet files the notebook wrote to its ``output_path`` parameter.
    """
    import json
    import os
    import subprocess

    import papermill

    # The kernel must be this virtualenv's Python, wherever pytest was started from.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")

    def run(notebook: Path) -> tuple[list[dict], Path, Path]:
        kernel_out, cli_out = tmp_path / "kernel.parquet", tmp_path / "cli.parquet"
        executed = tmp_path / "executed.ipynb"
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters={"output_path": str(kernel_out)},
            cwd=str(notebook.parent),
            kernel_name="python3",
            progress_bar=False,
        )
        done = subprocess.run(
            [
                str(Path(sys.executable).parent / "pipeline-lab"),
                "run",
                str(notebook),
                "-p",
                f"output_path={cli_out}",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["status"] == "succeeded"
        return json.loads(executed.read_text())["cells"], kernel_out, cli_out

    return run
