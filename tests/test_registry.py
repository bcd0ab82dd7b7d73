"""Registries: built-ins first, then plug-ins that other installed packages declare."""

from __future__ import annotations

import sys
import textwrap

import pytest

from pipeline_lab.errors import PipelineLabError
from pipeline_lab.registry import Registry


def test_get_unknown_lists_known_names_and_suggests():
    registry: Registry[int] = Registry("widget")
    registry.register("alpha", 1)
    with pytest.raises(PipelineLabError, match="unknown widget 'alpah'") as info:
        registry.get("alpah")
    assert info.value.hint == "did you mean 'alpha'?"


def test_a_component_from_another_installed_package(tmp_path, monkeypatch):
    """A real distribution on sys.path declares a component in its entry points."""
    package = tmp_path / "acme_components"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent("""
        from pipeline_lab.components import Component, ComponentParams, NodeInput

        class TopParams(ComponentParams):
            input: str = NodeInput()
            n: int = 1

        class Top(Component[TopParams]):
            name, category, description, Params = "acme_top", "transform", "First n rows", TopParams

            def apply(self, inputs):
                return inputs[self.params.input].head(self.params.n)

            def to_code(self):
                return f"{self.params.input}.head({self.params.n})"
    """)
    )
    dist = tmp_path / "acme_components-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-components\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[pipeline_lab.components]\nacme_top = acme_components:Top\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from pipeline_lab import components

    components.COMPONENTS.reload()  # the distribution was "installed" after the first use
    assert "acme_top" in components.component_names()
    import polars as pl

    from pipeline_lab import Node, Pipeline

    p = Pipeline("plugin")
    p.add(Node.from_function(lambda: pl.DataFrame({"x": [3, 1, 2]}), name="numbers"))
    p.add(Node("top", component="acme_top", params={"input": "numbers", "n": 2}))
    try:
        assert p.run(hooks=[]).outputs["top"]["x"].to_list() == [3, 1]
    finally:
        components.COMPONENTS.unregister("acme_top")
        sys.modules.pop("acme_components", None)


FRESH_PROCESS_LOOKUPS = """
import sys, threading
from pipeline_lab.{module} import {registry}
barrier = threading.Barrier(16)
errors = []
def ask():
    barrier.wait()
    try:
        {registry}.get({name!r})
    except Exception as exc:
        errors.append(str(exc))
threads = [threading.Thread(target=ask) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
print(len(errors), errors[:1])
sys.exit(1 if errors else 0)
"""


@pytest.mark.parametrize(
    ("module", "registry", "name"),
    [
        pytest.param("components", "COMPONENTS", "filter", id="components"),
        pytest.param("connectors", "CONNECTORS", "file", id="connectors"),
    ],
)
def test_a_fresh_process_finds_builtins_from_many_threads_at_once(
    module: str, registry: str, name: str
) -> None:
    """The first lookups race each other: each must see every built-in, never 'known: none'."""
    import subprocess

    for _ in range(3):
        code = FRESH_PROCESS_LOOKUPS.format(module=module, registry=registry, name=name)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_a_registry_answers_the_same_whatever_was_imported_before() -> None:
    import subprocess

    code = "from pipeline_lab.components import COMPONENTS; print(COMPONENTS.get('filter').name)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "filter", done.stderr


def test_builtins_load_once_while_many_threads_ask(tmp_path, monkeypatch) -> None:
    """A slow built-in module: every thread waits for it instead of seeing a half registry."""
    import threading

    (tmp_path / "slow_builtins.py").write_text(
        "import time\nfrom tests_registry_target import REGISTRY\n"
        "REGISTRY.register('first', 1)\ntime.sleep(0.2)\nREGISTRY.register('second', 2)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry: Registry[int] = Registry("thing", builtins=("slow_builtins",))
    target = type(sys)("tests_registry_target")
    target.REGISTRY = registry  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tests_registry_target", target)
    monkeypatch.delitem(sys.modules, "slow_builtins", raising=False)
    barrier = threading.Barrier(8)
    seen: list[list[str]] = []

    def ask() -> None:
        barrier.wait()
        seen.append(registry.names())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [["first", "second"]] * 8
