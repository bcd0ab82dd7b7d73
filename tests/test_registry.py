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

    monkeypatch.setattr(components.COMPONENTS, "_entry_points_loaded", False)
    monkeypatch.setattr(components.COMPONENTS, "_items", dict(components.COMPONENTS._items))
    assert "acme_top" in components.component_names()
    import polars as pl

    from pipeline_lab import Node, Pipeline

    p = Pipeline("plugin")
    p.add(Node.from_function(lambda: pl.DataFrame({"x": [3, 1, 2]}), name="numbers"))
    p.add(Node("top", component="acme_top", params={"input": "numbers", "n": 2}))
    assert p.run(hooks=[]).outputs["top"]["x"].to_list() == [3, 1]
    sys.modules.pop("acme_components", None)
