"""Every test gets its own Pipeline Lab home (no test touches the user's state); PostgreSQL
servers for the tests that use the real one."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USERS = ("postgres", "root")


def _pg_admin() -> tuple[str, Any] | None:
    """A superuser name and an autocommit psycopg connection to the server, or ``None``."""
    import psycopg

    for user in PG_USERS:
        try:
            conn = psycopg.connect(
                host=PG_HOST,
                port=PG_PORT,
                user=user,
                dbname="postgres",
                connect_timeout=3,
                autocommit=True,
            )
        except psycopg.OperationalError:
            continue
        return user, conn
    return None


class PostgresServer:
    """Creates databases with unique names and drops them all at the end of the session."""

    def __init__(self, user: str, admin: Any) -> None:
        self.user = user
        self.admin = admin
        self.created: list[str] = []

    def create_database(self) -> str:
        name = f"pipeline_lab_test_{uuid.uuid4().hex[:12]}"
        self.admin.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"postgresql+psycopg://{self.user}@{PG_HOST}:{PG_PORT}/{name}"

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.remove(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    found = _pg_admin()
    if found is None:
        message = f"no PostgreSQL server accepts connections on {PG_HOST}:{PG_PORT}"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must test the store on PostgreSQL (.ci/run starts it)")
        pytest.skip(message)
    server = PostgresServer(*found)
    try:
        yield server
    finally:
        for name in list(server.created):
            server.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.admin.close()


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


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A real IPython shell with Pipeline Lab loaded (store off unless a test turns it on)."""
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv("PIPELINE_LAB_STORE", "off")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    ip = InteractiveShell()
    ip.run_line_magic("load_ext", "pipeline_lab")
    yield ip
    ip.run_line_magic("unload_ext", "pipeline_lab")
    InteractiveShell.clear_instance()
