"""The graph learns about components and checks through registries, never by importing them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline_lab import Issue, Node, Pipeline, PipelineDefinitionError
from pipeline_lab.graph import COMPONENT_CATALOGS, NODE_LINTERS, ComponentCatalog, NodeLinter

FRESH_IMPORT = """
import sys
import {module}
print(sorted(m for m in {watched!r} if m in sys.modules))
"""


@pytest.mark.parametrize("module", ["pipeline_lab", "pipeline_lab.graph"])
def test_importing_the_graph_loads_no_sibling_and_no_polars(module: str) -> None:
    watched = ("polars", "pipeline_lab.components", "pipeline_lab.quality")
    code = FRESH_IMPORT.format(module=module, watched=watched)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


VALIDATE_IN_A_FRESH_PROCESS = """
from pipeline_lab.graph import Node, Pipeline
p = Pipeline("p")
p.add(Node("src", code="1", checks=("amount >",)))
p.add(Node("f", component="filtr", params={"input": "src", "condition": "a > 1"}))
p.add(Node("g", component="filter", params={"input": "src", "conditon": "a > 1"}))
for issue in p.validate():
    print(issue.code, issue.node, issue.hint)
"""


def test_validate_finds_component_and_check_problems_with_nothing_imported_before() -> None:
    """The built-in catalog and linters load on first use, whatever was imported."""
    done = subprocess.run(
        [sys.executable, "-c", VALIDATE_IN_A_FRESH_PROCESS], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "bad-check src write a SQL boolean expression over the output's columns, e.g. "
        '"amount > 0"',
        "unknown-component f did you mean 'filter'?",
        "bad-parameters g filter parameters: input: str; condition: str",
    ]


VALIDATE_FROM_MANY_THREADS = """
import threading
from pipeline_lab.graph import Node, Pipeline
p = Pipeline("p")
p.add(Node("src", code="1", checks=("amount >",)))
p.add(Node("f", component="filtr", params={"input": "src", "condition": "a > 1"}))
barrier = threading.Barrier(16)
seen = []
def ask():
    barrier.wait()
    seen.append(tuple(i.code for i in p.validate()))
threads = [threading.Thread(target=ask) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
print(sorted(set(seen)), len(seen))
"""


def test_the_first_validations_race_and_all_see_every_linter() -> None:
    """Many threads ask at once in a fresh process: none sees a half-loaded registry."""
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", VALIDATE_FROM_MANY_THREADS], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[('bad-check', 'unknown-component')] 16"


@pytest.fixture
def linter() -> Iterator[list[Any]]:
    """A plug-in linter that flags nodes tagged 'todo'; the calls it got are recorded."""
    calls: list[Any] = []

    def todo(node: Node, pipeline: Pipeline) -> list[Issue]:
        calls.append((node.name, pipeline.name))
        if "todo" in node.tags:
            return [Issue("todo", "is not finished", node.name, "remove the 'todo' tag")]
        return []

    checked: NodeLinter = todo
    NODE_LINTERS.register("zz_todo", checked)
    try:
        yield calls
    finally:
        NODE_LINTERS.unregister("zz_todo")


def test_a_registered_linter_reports_through_validate(linter: list[Any]) -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="1", tags=("todo",), checks=("x >",)))
    pipeline.add(Node("b", code="a"))
    issues = pipeline.validate()
    assert [(i.code, i.node) for i in issues] == [("bad-check", "a"), ("todo", "a")]
    assert linter == [("a", "p"), ("b", "p")]
    with pytest.raises(PipelineDefinitionError, match="node 'a': is not finished"):
        pipeline.check()


def test_a_linter_that_crashes_is_a_warning_and_hides_nothing() -> None:
    def broken(node: Node, pipeline: Pipeline) -> list[Issue]:
        raise KeyError("oops")

    NODE_LINTERS.register("zz_broken", broken)
    try:
        pipeline = Pipeline("p")
        pipeline.add(Node("a", code="undefined_name"))
        issues = pipeline.validate()
    finally:
        NODE_LINTERS.unregister("zz_broken")
    assert [(i.code, i.severity) for i in issues] == [
        ("linter-failed", "warning"),
        ("missing-input", "error"),
    ]
    assert "'zz_broken' node linter failed: KeyError" in issues[0].message
    assert "NODE_LINTERS.unregister('zz_broken')" in (issues[0].hint or "")


class RenamingCatalog:
    """A catalog where every component reads the nodes listed in its ``reads`` parameter."""

    def instantiate(self, node: Node) -> Any:
        return ("instance of", node.component)

    def input_names(self, node: Node) -> tuple[str, ...]:
        return tuple(node.params["reads"])

    def sql_parameters(self, node: Node) -> frozenset[str]:
        return frozenset(node.params.get("uses", ()))


def test_the_graph_asks_the_component_catalog() -> None:
    library = COMPONENT_CATALOGS.get("components")
    catalog: ComponentCatalog = RenamingCatalog()
    COMPONENT_CATALOGS.register("components", catalog)
    try:
        pipeline = Pipeline("p", params={"day": "monday"})
        pipeline.add(Node("a", code="1"))
        pipeline.add(Node("b", code="2"))
        node = Node("c", component="anything", params={"reads": ["b", "a"], "uses": ["day"]})
        pipeline.add(node)
        assert pipeline.dependencies("c") == ("a", "b")
        assert pipeline.parameters_of("c") == ("day",)
        assert pipeline.get("c").instance == ("instance of", "anything")
    finally:
        COMPONENT_CATALOGS.register("components", library)
