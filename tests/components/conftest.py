"""Shared fixtures for component tests: small frames with nulls and unicode column names."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline_lab.components import Component


@pytest.fixture(autouse=True)
def _no_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pipelines run here never touch the metadata store."""
    monkeypatch.setenv("PIPELINE_LAB_STORE", "off")


@pytest.fixture
def orders() -> pl.DataFrame:
    """Five orders with nulls in every column, a duplicate and unicode column names."""
    return pl.DataFrame(
        {
            "id": [1, 2, 2, None, 5],
            "montant €": [10.0, None, 3.5, 7.25, None],
            "名前": ["ana", "bo", "bo", None, "émile"],
            "day": [date(2024, 1, 1), None, date(2024, 1, 3), date(2024, 1, 4), None],
        },
        schema={"id": pl.Int64, "montant €": pl.Float64, "名前": pl.String, "day": pl.Date},
    )


@pytest.fixture
def raw_orders() -> pl.DataFrame:
    """Orders as read from a text file: every column a string, some not convertible."""
    return pl.DataFrame(
        {
            "id": ["1", "2", "x", None, "5"],
            "montant €": ["10.5", "", "3.25", "7", None],
            "名前": ["ana", "bo", None, "chloé", "émile"],
            "day": ["2024-01-01", "2024-01-02", None, "2024-02-30", "2024-01-05"],
        }
    )


def run_cell(code: str, names: Mapping[str, Any]) -> Any:
    """Run ``to_code()`` text as a notebook cell would: statements, then the last expression.

    Multi-statement code (an import, a check) is a valid cell; its value is the last
    expression. The names in the mapping are bound as given, with ``pl``.
    """
    from pipeline_lab.graph._analysis import compile_cell

    cell = compile_cell(code, filename="<to_code>")
    namespace: dict[str, Any] = {"pl": pl, **names}
    exec(cell.body, namespace)  # our generated code, not user input
    assert cell.last is not None, "to_code() must end with the expression of the output"
    return eval(cell.last, namespace)


@pytest.fixture
def same_as_code() -> Callable[[Component[Any], Mapping[str, pl.DataFrame]], pl.DataFrame]:
    """Run a component as the engine does and check that its ``to_code()`` gives the same frame.

    The code runs as a cell with ``pl`` and each input name bound to a LazyFrame, as a user
    pasting it into a notebook would have them; returns the component's output.
    """

    def check(component: Component[Any], inputs: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        built = component.run(inputs)
        pasted = run_cell(component.to_code(), {n: f.lazy() for n, f in inputs.items()})
        assert_frame_equal(pasted.collect(), built)
        return built

    return check


@pytest.fixture
def run_code() -> Callable[[str, Mapping[str, Any]], Any]:
    """Run ``to_code()`` text as a notebook cell would (see :func:`run_cell`)."""
    return run_cell


# A server that writes each request line to a log before it answers.
_RECORDING_SERVER = r"""
import http.server, sys

log, root = sys.argv[1], sys.argv[2]

class Recording(http.server.SimpleHTTPRequestHandler):
    def parse_request(self):
        ok = super().parse_request()
        with open(log, "a") as f:
            f.write(self.requestline + "\n")
        return ok

    def log_message(self, *args):
        pass

server = http.server.HTTPServer(("127.0.0.1", 0), lambda *a: Recording(*a, directory=root))
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@dataclass(frozen=True)
class RecordingServer:
    """A real HTTP server on 127.0.0.1 serving ``orders.csv``; it logs every request."""

    url: str
    log: Path

    def requests(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordingServer]:
    """The server runs in its own process: polars holds the GIL while it fetches a URL, so a
    server thread in the test's process could not answer it."""
    root = tmp_path_factory.mktemp("served")
    (root / "orders.csv").write_text("a,b\n1,SECRET-OVER-HTTP\n")
    log = tmp_path_factory.mktemp("requests") / "requests.log"
    server = subprocess.Popen(
        [sys.executable, "-c", _RECORDING_SERVER, str(log), str(root)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        yield RecordingServer(f"http://127.0.0.1:{port}", log)
    finally:
        server.kill()
        server.wait()
