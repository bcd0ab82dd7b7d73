"""Take the README's screenshots of the graph, the inspector and the builder, in a real
JupyterLab and Chromium (the browser tests' harness). Run: .venv/bin/python docs/screenshots.py"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"


def harness() -> Any:
    spec = importlib.util.spec_from_file_location("ui_harness", ROOT / "tests/ui/conftest.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    ui = harness()
    example = json.loads((ROOT / "example_notebooks/sales_pipeline.ipynb").read_text())
    cells = ["".join(c["source"]) for c in example["cells"] if c["cell_type"] == "code"]
    cells = [c for c in cells if c.strip() not in ("%pipeline show", "%pipeline run")]
    cells += ["%pipeline run", "%pipeline show"]
    IMAGES.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as base,
        ui.running_lab(Path(base)) as server,
        ui.chromium() as browser,
    ):
        shutil.copytree(ROOT / "example_notebooks/data", server.root_dir / "data")
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(120_000)
        lab = ui.Lab(page, server, "sales_pipeline")
        lab.run_notebook(cells, timeout=300)
        lab.graphs(count=1)
        graph = page.locator(".pipeline-lab-graph").last
        graph.scroll_into_view_if_needed()
        graph.screenshot(path=str(IMAGES / "graph.png"))
        lab.click_node("revenue_by_region_month")
        page.locator(".pipeline-lab-inspector").wait_for(state="visible")
        page.wait_for_timeout(800)  # the preview grid draws its first rows
        graph.screenshot(path=str(IMAGES / "inspector.png"))
        lab.outputs.get_by_role("button", name="Add", exact=True).click()
        page.get_by_placeholder("search components").fill("filter")
        lab.outputs.get_by_role("button", name="filter", exact=True).click()
        form = page.locator(".pipeline-lab-form")
        form.locator("select").first.select_option("revenue_by_region_month")
        form.locator("input[type='text']").nth(1).fill("revenue >")
        page.wait_for_timeout(500)
        graph.screenshot(path=str(IMAGES / "builder.png"))
    for name in ("graph", "inspector", "builder"):
        print(IMAGES / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
