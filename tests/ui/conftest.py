"""Browser tests: a real JupyterLab server, Debian's Chromium driven by Playwright, and a ``lab``
fixture that opens a notebook, runs it and reads the ipycytoscape graphs it displays."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
SERVER_START_TIMEOUT = 60.0

# User settings of the test server: no news or update checks (no internet here, and their toast
# covers the notebook), and every cell in the DOM, so prompts and outputs can all be read.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}

# Every live cytoscape instance in an output area: cytoscape keeps it on its container element.
_READ_GRAPHS = """() => Array.from(document.querySelectorAll('.jp-OutputArea-output *'))
  .filter(el => el._cyreg && el._cyreg.cy && !el._cyreg.cy.destroyed())
  .map(el => {
    const cy = el._cyreg.cy;
    return {
      nodes: cy.nodes().map(n => ({
        data: n.data(), pos: n.renderedPosition(), classes: n.classes(), label: n.style('label'),
      })),
      edges: cy.edges().map(e => ({data: e.data(), classes: e.classes()})),
    };
  })"""

# Cytoscape caches where its canvas is on the page and forgets it on a scroll event (which comes a
# frame after the scroll) or a resize: click while the cache is stale and the click misses.
_SCROLL_TO_GRAPH = """async (index) => {
  const el = Array.from(document.querySelectorAll('.jp-OutputArea-output *'))
    .filter(el => el._cyreg && el._cyreg.cy && !el._cyreg.cy.destroyed())[index];
  el.scrollIntoView({block: 'center'});
  for (let i = 0; i < 2; i++) await new Promise(done => requestAnimationFrame(done));
  el.dispatchEvent(new Event('scroll'));  // also when an output above moved it without a scroll
  const box = el.querySelector('canvas').getBoundingClientRect();
  return {x: box.x, y: box.y, width: box.width, height: box.height};
}"""


def _unavailable(message: str) -> NoReturn:
    """Skip the browser tests here; fail them in CI, which must run them."""
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run the browser tests (.ci/run installs Chromium)")
    pytest.skip(message)


@dataclass(frozen=True)
class LabServer:
    """A running ``jupyter lab`` with its token, root folder and Pipeline Lab home."""

    url: str
    token: str
    root_dir: Path
    home: Path
    log: Path

    def api(self, method: str, path: str) -> Any:
        """Call the server's REST API (``path`` like ``api/sessions``); the decoded JSON or ``None``."""
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        for session in self.api("GET", "api/sessions"):
            self.api("DELETE", f"api/sessions/{session['id']}")
        for kernel in self.api("GET", "api/kernels"):
            self.api("DELETE", f"api/kernels/{kernel['id']}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """This virtualenv's ``jupyter lab`` on a free port, isolated from the user's Jupyter and
    Pipeline Lab state; its kernels are shut down at the end of the session."""
    with running_lab(tmp_path_factory.mktemp("lab")) as server:
        yield server


@contextlib.contextmanager
def running_lab(base: Path) -> Iterator[LabServer]:
    """``jupyter lab`` with its folders under ``base`` (also for ``bench/graph_render.py``)."""
    root, home, config = base / "root", base / "home", base / "config"
    for folder in (root, home, config):
        folder.mkdir()
    for name, values in LAB_SETTINGS.items():
        settings = config / "lab" / "user-settings" / f"{name}.jupyterlab-settings"
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(json.dumps(values))
    # No build check on every page load: it costs the server a second of CPU and builds nothing.
    (config / "labconfig").mkdir()
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"buildCheck": False, "buildAvailable": False})
    )
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        # The kernel spec says "python": it must be this virtualenv's.
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PIPELINE_LAB_HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "IPYTHONDIR": str(base / "ipython"),
    }
    env.pop("PIPELINE_LAB_DB_URL", None)
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        str(bin_dir / "jupyter"),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.allow_root=True",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    log = base / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    server = LabServer(f"http://127.0.0.1:{port}/", token, root, home, log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited with {process.returncode}:\n{_log_tail(log)}"
                )
            try:
                server.api("GET", "api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"jupyter lab did not answer on port {port} within "
                        f"{SERVER_START_TIMEOUT:.0f} s:\n{_log_tail(log)}"
                    ) from None
                time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            # SIGTERM: the server shuts down its kernels and stops, without asking.
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium under Playwright (never a browser Playwright downloads).

    One per module, not per session: while Playwright's sync API is started, the main thread
    looks as if it ran an asyncio loop, so ``asyncio.run`` fails in any test after it. A launch
    costs about a second."""
    with chromium() as launched:
        yield launched


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium under Playwright's sync API, closed at the end."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed: pip install -e '.[dev]'")
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(
            f"no Chromium at {CHROMIUM} for the browser tests: "
            "sudo apt-get update && sudo apt-get install -y chromium"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, lab_server: LabServer) -> Iterator[Page]:
    """A fresh browser context and page; the test's kernels are shut down afterwards."""
    context = browser.new_context(viewport=VIEWPORT)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()
        lab_server.shutdown_kernels()


@dataclass(frozen=True)
class Node:
    id: str
    data: dict[str, Any]
    x: float
    y: float
    """Rendered position: pixels from the top-left corner of the graph's canvas."""
    classes: tuple[str, ...]
    label: str
    """The label cytoscape draws (its ``label`` style), as text."""


@dataclass(frozen=True)
class Edge:
    id: str
    source: str
    target: str
    data: dict[str, Any]
    classes: tuple[str, ...]


@dataclass(frozen=True)
class Graph:
    """What one ipycytoscape widget shows in the browser."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    @property
    def node_ids(self) -> set[str]:
        return {node.id for node in self.nodes}

    @property
    def edge_pairs(self) -> set[tuple[str, str]]:
        return {(edge.source, edge.target) for edge in self.edges}

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(f"no node {node_id!r} in the graph; it has {sorted(self.node_ids)}")


def _graph(raw: dict[str, Any]) -> Graph:
    nodes = tuple(
        Node(
            id=str(n["data"]["id"]),
            data=n["data"],
            x=float(n["pos"]["x"]),
            y=float(n["pos"]["y"]),
            classes=tuple(n["classes"]),
            label=str(n["label"]),
        )
        for n in raw["nodes"]
    )
    edges = tuple(
        Edge(
            id=str(e["data"]["id"]),
            source=str(e["data"]["source"]),
            target=str(e["data"]["target"]),
            data=e["data"],
            classes=tuple(e["classes"]),
        )
        for e in raw["edges"]
    )
    return Graph(nodes, edges)


class Lab:
    """One JupyterLab page in the browser, for one test: open and run notebooks, read what
    their outputs show, click graph nodes."""

    def __init__(self, page: Page, server: LabServer, name: str) -> None:
        self.page = page
        self.server = server
        self._name = re.sub(r"[^A-Za-z0-9_-]+", "_", name)[:50]
        self.notebook: str | None = None

    def open_notebook(self, cells: Sequence[str], *, timeout: float = 60) -> Path:
        """Write a notebook of code ``cells`` to the server's root, open it and wait for its kernel."""
        import nbformat
        from playwright.sync_api import expect

        name = f"{self._name}_{secrets.token_hex(3)}.ipynb"
        path = self.server.root_dir / name
        notebook = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(source) for source in cells],
            metadata={
                "kernelspec": {
                    "name": "python3",
                    "display_name": "Python 3 (ipykernel)",
                    "language": "python",
                }
            },
        )
        nbformat.write(notebook, path)
        # A workspace of its own, so the page restores no other notebook.
        self.page.goto(
            f"{self.server.url}lab/workspaces/{path.stem}/tree/{name}?token={self.server.token}"
        )
        self.notebook = name
        expect(self.kernel_status).to_have_text(re.compile(r"\| Idle$"), timeout=timeout * 1000)
        return path

    @property
    def kernel_status(self) -> Locator:
        """The status bar's ``<kernel> | <state>`` item of the open notebook."""
        return self.page.get_by_title(f"Change kernel for {self.notebook}")

    @property
    def prompts(self) -> list[str]:
        return self.page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()

    def run_all(self, *, timeout: float = 120) -> None:
        """Run > Run All Cells, then wait until no cell runs and the kernel is idle; fail naming
        the first cell that did not run (an error stops Run All) with the outputs' text."""
        from playwright.sync_api import expect

        menubar = self.page.locator("#jp-MainMenu")
        menubar.get_by_role("menuitem", name="Run", exact=True).click()
        self.page.locator(".lm-Menu").get_by_role(
            "menuitem", name="Run All Cells", exact=True
        ).click()
        # The prompts turn to [*] as the command queues the cells, before the click returns.
        prompts = self.page.locator(".jp-CodeCell .jp-InputArea-prompt", has_text="[*]")
        expect(prompts).to_have_count(0, timeout=timeout * 1000)
        expect(self.kernel_status).to_have_text(re.compile(r"\| Idle$"), timeout=timeout * 1000)
        for number, prompt in enumerate(self.prompts, 1):
            if not re.fullmatch(r"\[\d+\]:", prompt.strip()):
                outputs = "\n".join(self.output_texts())
                raise AssertionError(
                    f"code cell {number} did not run ({prompt}); outputs:\n{outputs}"
                )

    def run_notebook(self, cells: Sequence[str], *, timeout: float = 120) -> Path:
        """Open a notebook of ``cells`` and run all of them (see `open_notebook`, `run_all`)."""
        path = self.open_notebook(cells, timeout=timeout)
        self.run_all(timeout=timeout)
        return path

    @property
    def outputs(self) -> Locator:
        """Every output area of the notebook (for ``expect(...)``)."""
        return self.page.locator(".jp-OutputArea-output")

    def output_texts(self) -> list[str]:
        """The text each output area shows, in order."""
        return self.outputs.all_inner_texts()

    def graphs(self, count: int | None = None, *, timeout: float = 15) -> list[Graph]:
        """Every ipycytoscape graph in the outputs, once ``count`` of them (if given) are shown
        and nothing moved between two reads (layouts done)."""
        deadline = time.monotonic() + timeout
        last: list[Any] | None = None
        while True:
            current = self.page.evaluate(_READ_GRAPHS)
            if current == last and (count is None or len(current) == count):
                return [_graph(raw) for raw in current]
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count if count is not None else 'settled'} graphs within "
                    f"{timeout} s; the page shows {json.dumps(current)}"
                )
            last = current
            self.page.wait_for_timeout(150)

    def click_node(self, node_id: str, *, graph: int = 0) -> None:
        """Click graph ``graph``'s node ``node_id`` with the mouse, at its rendered position."""
        shown = self.graphs()
        if not 0 <= graph < len(shown):
            raise AssertionError(f"no graph {graph}: the page shows {len(shown)}")
        node = shown[graph].node(node_id)
        box = self.page.evaluate(_SCROLL_TO_GRAPH, graph)
        if not (0 <= node.x <= box["width"] and 0 <= node.y <= box["height"]):
            raise AssertionError(f"node {node_id!r} at ({node.x}, {node.y}) is outside its canvas")
        self.page.mouse.click(box["x"] + node.x, box["y"] + node.y)


@pytest.fixture
def lab(page: Page, lab_server: LabServer, request: pytest.FixtureRequest) -> Lab:
    """JupyterLab in the browser for this test: ``lab.run_notebook([...])``, ``lab.graphs()``,
    ``lab.click_node(id)``, ``lab.output_texts()``."""
    page.set_default_timeout(30_000)
    return Lab(page, lab_server, request.node.name)
