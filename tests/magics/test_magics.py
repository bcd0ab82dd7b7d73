"""The magics through IPython's real shell, as a notebook user meets them."""

from __future__ import annotations

from functools import partial

import pandas as pd
import polars as pl
import pytest

from pipeline_lab.errors import NodeExecutionError, PipelineDefinitionError, QualityGateError
from pipeline_lab.magics import NodeFailed, session_of


def test_cell_defines_node_runs_it_binds_and_displays_the_value(shell, capsys):
    shell.run_cell("import polars as pl")
    result = shell.run_cell("%%pipeline orders\npl.DataFrame({'amount': [5, 20, 30]})")
    assert result.success
    assert isinstance(result.result, pl.DataFrame)  # displayed like a normal cell's value
    assert shell.user_ns["orders"].shape == (3, 1)
    out = capsys.readouterr().out
    assert "✓ orders: 3 rows × 1 column in" in out


def test_edges_come_from_the_names_a_cell_reads(shell):
    shell.run_cell("import polars as pl")
    shell.run_cell("%%pipeline orders\npl.DataFrame({'amount': [5, 20, 30]})")
    result = shell.run_cell("%%pipeline big\norders.filter(pl.col('amount') > 10)")
    assert result.success
    session = session_of(shell)
    assert session.pipeline.dependencies("big") == ("orders",)
    assert shell.user_ns["big"]["amount"].to_list() == [20, 30]


def test_output_is_the_assigned_name_and_the_cell_shows_its_last_expression(shell):
    shell.run_cell("import pandas as pd")
    result = shell.run_cell(
        "%%pipeline report\nreport = pd.DataFrame({'x': range(10)})\nreport.head(2)"
    )
    assert result.success
    assert len(shell.user_ns["report"]) == 10
    assert isinstance(result.result, pd.DataFrame) and len(result.result) == 2  # shows the head


def test_rerunning_a_cell_replaces_the_node(shell):
    shell.run_cell("%%pipeline a\n1")
    shell.run_cell("%%pipeline a\n2")
    session = session_of(shell)
    assert list(session.pipeline.nodes) == ["a"]
    assert shell.user_ns["a"] == 2


def test_parameters_by_attribute_and_bare_name(shell):
    shell.run_cell("n = 4")
    assert shell.run_cell("%%pipeline numbers\nlist(range(params.n))").result == [0, 1, 2, 3]
    assert shell.run_cell("%%pipeline bare\nn * 10").result == 40


def test_check_passes_and_is_summarised(shell, capsys):
    shell.run_cell("import polars as pl")
    result = shell.run_cell(
        "%%pipeline t --check 'x >= 0' --check \"x < 10\"\npl.DataFrame({'x': [1, 2]})"
    )
    assert result.success
    assert "2 checks passed" in capsys.readouterr().out


def test_failing_check_fails_the_cell_with_count_and_rows(shell, capsys):
    shell.run_cell("import polars as pl")
    result = shell.run_cell("%%pipeline t --check 'x > 1'\npl.DataFrame({'x': [0, 1, 2, 7]})")
    assert not result.success
    assert isinstance(result.error_in_exec, QualityGateError)
    message = str(result.error_in_exec)
    assert "failed for 2 of 4 rows" in message
    assert session_of(shell).last_runs["t"].status.value == "failed"
    out = capsys.readouterr().out
    assert "QualityGateError" in out and "Traceback" not in out  # no wall of our internals


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        pytest.param("amount >>> 0", "not a valid SQL condition", id="not-sql"),
        pytest.param("amout > 0", "did you mean 'amount'", id="missing-column"),
    ],
)
def test_bad_check_is_a_clear_error(shell, check, expected):
    shell.run_cell("import polars as pl")
    result = shell.run_cell(f"%%pipeline t --check '{check}'\npl.DataFrame({{'amount': [1]}})")
    assert not result.success
    assert expected in str(result.error_in_exec)


def test_failing_cell_shows_the_users_traceback_only(shell, capsys):
    result = shell.run_cell("%%pipeline boom\ndef f(v):\n    return v / 0\nf(1)")
    assert isinstance(result.error_in_exec, NodeFailed)
    assert isinstance(result.error_in_exec.original, ZeroDivisionError)
    captured = capsys.readouterr()
    out = captured.out
    # line numbers as in the cell editor: line 1 is the %%pipeline header
    assert "<pipeline node boom>:3" in out and "return v / 0" in out
    assert "%%pipeline boom" in out
    assert "pipeline_lab/" not in out and "run_cell_magic" not in out and "hidden" not in out
    assert "✗ boom: failed" in captured.err  # the summary line goes to stderr: red
    assert session_of(shell).last_runs["boom"].status.value == "failed"
    assert "boom" in session_of(shell).pipeline.nodes  # still registered: fix and re-run


def test_syntax_error_names_the_node_and_line(shell):
    result = shell.run_cell("%%pipeline broken\nx = (1 +\n")
    assert isinstance(result.error_in_exec, PipelineDefinitionError)
    assert "broken" in str(result.error_in_exec) and "line" in str(result.error_in_exec)
    assert "broken" not in session_of(shell).pipeline.nodes


def test_missing_input_suggests_the_closest_name(shell):
    shell.run_cell("%%pipeline orders\n[1, 2]")
    result = shell.run_cell("%%pipeline total\nsum(ordrs)")
    assert "did you mean 'orders'" in str(result.error_in_exec)


def test_cycle_is_refused_with_its_path(shell):
    shell.run_cell("%%pipeline a --no-run\nb + 1")
    result = shell.run_cell("%%pipeline b\na + 1")
    assert isinstance(result.error_in_exec, PipelineDefinitionError)
    assert "a -> b -> a" in str(result.error_in_exec) or "b -> a -> b" in str(result.error_in_exec)


def test_no_run_registers_without_running_then_run_executes_upstream(shell, capsys):
    shell.run_cell("%%pipeline a --no-run\n41")
    assert "a" not in shell.user_ns
    shell.run_cell("%%pipeline b\na + 1")  # a has no value yet: it runs first
    assert shell.user_ns["a"] == 41 and shell.user_ns["b"] == 42


def test_retries_then_succeeds(shell, capsys):
    shell.run_cell("attempts = []")
    source = "%%pipeline flaky --retries 2 --retry-delay 0.01\nattempts.append(1)\nif len(attempts) < 3:\n    raise ConnectionError('down')\nlen(attempts)"
    result = shell.run_cell(source)
    assert result.success and result.result == 3
    assert "(3 attempts)" in capsys.readouterr().out


def test_line_magic_run_binds_every_output_and_fails_on_failure(shell, capsys):
    shell.run_cell("%%pipeline a --no-run\n1")
    shell.run_cell("%%pipeline b --no-run\na + 1")
    shell.run_cell("%%pipeline c --no-run\nb * 10")
    result = shell.run_cell("%pipeline run")
    assert result.success
    assert (shell.user_ns["a"], shell.user_ns["b"], shell.user_ns["c"]) == (1, 2, 20)
    shell.run_cell("%%pipeline d --no-run\n1 / 0")
    shell.run_cell("%%pipeline e --no-run\nd + 1")
    result = shell.run_cell("%pipeline run")
    assert isinstance(result.error_in_exec, NodeExecutionError)
    runs = session_of(shell).last_runs
    assert runs["d"].status.value == "failed" and runs["e"].status.value == "skipped"
    assert runs["c"].status.value == "succeeded"


def test_run_only_and_from_reuse_kernel_values(shell):
    shell.run_cell("calls = []")
    shell.run_cell("%%pipeline a\ncalls.append('a')\n1")
    shell.run_cell("%%pipeline b\ncalls.append('b')\na + 1")
    shell.run_cell("%%pipeline c\ncalls.append('c')\nb + 1")
    shell.user_ns["calls"].clear()
    shell.run_cell("%pipeline run --only c")
    assert shell.user_ns["calls"] == ["c"]
    shell.user_ns["calls"].clear()
    shell.run_cell("%pipeline run --from b")
    assert shell.user_ns["calls"] == ["b", "c"]


@pytest.mark.parametrize("verb", ["show", "status", "nodes"])
def test_views_list_every_node(shell, capsys, verb):
    shell.run_cell("%%pipeline first\n1")
    shell.run_cell("%%pipeline second\nfirst + 1")
    capsys.readouterr()
    assert shell.run_cell(f"%pipeline {verb}").success
    out = capsys.readouterr().out
    assert "first" in out and "second" in out


def test_show_html_escapes_data(shell):
    from pipeline_lab.magics._display import NodeTable

    shell.run_cell("%%pipeline evil\nraise ValueError('<script>alert(1)</script>')")
    html = NodeTable(
        session_of(shell).pipeline, session_of(shell).last_runs, "status"
    )._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_remove_new_and_help(shell, capsys):
    shell.run_cell("%%pipeline a\n1")
    assert shell.run_cell("%pipeline remove a").success
    assert session_of(shell).pipeline.nodes == {}
    assert not shell.run_cell("%pipeline remove nope").success
    shell.run_cell("%pipeline new sales")
    assert session_of(shell).pipeline.name == "sales"
    capsys.readouterr()
    shell.run_cell("%pipeline help")
    assert "%%pipeline NAME [--inputs NODE ...]" in capsys.readouterr().out


def test_unknown_verb_is_a_usage_error(shell, capsys):
    result = shell.run_cell("%pipeline frobnicate")
    assert not result.success


def test_kernel_reads_bare_parameters_from_the_saved_notebook(shell, monkeypatch, tmp_path):
    import json

    nb = tmp_path / "flow.ipynb"
    nb.write_text(
        json.dumps(
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "metadata": {"tags": ["parameters"]},
                        "outputs": [],
                        "execution_count": None,
                        "source": "limit = 3",
                    }
                ],
                "metadata": {},
                "nbformat": 4,
                "nbformat_minor": 5,
            }
        )
    )
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    shell.run_cell("limit = 5")  # the kernel's current value wins over the cell's default
    shell.run_cell("%%pipeline capped\nlist(range(limit))")
    session = session_of(shell)
    assert session.pipeline.parameters_of("capped") == ("limit",)
    assert session.pipeline.params["limit"] == 5
    assert shell.user_ns["capped"] == [0, 1, 2, 3, 4]


def test_interactive_runs_are_recorded_and_save_versions_the_pipeline(shell, monkeypatch, capsys):
    from pipeline_lab.store import PipelineBuilder, RunRepository

    monkeypatch.setenv("PIPELINE_LAB_STORE", "on")
    run = partial(shell.run_cell, store_history=True)  # as a notebook kernel does
    run("import math")
    run("%pipeline new kernel_flow")
    run("%%pipeline radius\n2.0")
    run("%%pipeline area\nmath.pi * radius ** 2")
    runs = RunRepository().list_runs(pipeline="kernel_flow")
    assert len(runs) == 2 and {r.source for r in runs} == {"cell"}
    detail = RunRepository().get_run(runs[0].run_id)
    assert [n.name for n in detail.nodes] == ["area"] and detail.status == "succeeded"

    assert run("%pipeline save").success
    assert "saved pipeline 'kernel_flow' (2 nodes) as version 1" in capsys.readouterr().out
    saved = PipelineBuilder().get("kernel_flow")
    assert list(saved.nodes) == ["radius", "area"]
    assert [c.code for c in saved.setup] == ["import math"]  # from the kernel's history
    run("%%pipeline area\nround(math.pi * radius ** 2, 2)")
    run("%pipeline save")
    assert [v.version for v in PipelineBuilder().versions("kernel_flow")] == [1, 2]


def test_downstream_values_are_marked_stale_after_an_upstream_rerun(shell, capsys):
    shell.run_cell("%%pipeline a\n1")
    shell.run_cell("%%pipeline b\na + 1")
    shell.run_cell("%%pipeline c\nb + 1")
    shell.run_cell("%%pipeline a\n10")  # b and c still hold values computed from a = 1
    capsys.readouterr()
    shell.run_cell("%pipeline status")
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[2:]}
    assert "stale" in lines["b"] and "stale" in lines["c"] and "stale" not in lines["a"]
    shell.run_cell("%pipeline run --from b")
    assert shell.user_ns["c"] == 12 and session_of(shell).stale == set()


def _notebook(path, *sources):
    import json

    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": src}
        for src in sources
    ]
    path.write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    return path


def test_a_node_of_the_notebook_not_run_yet_gets_a_run_it_first_hint(shell, monkeypatch, tmp_path):
    nb = _notebook(tmp_path / "flow.ipynb", "%%pipeline clean\n[1]", "%%pipeline paid\nclean")
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    result = shell.run_cell("%%pipeline paid\nclean")
    message = str(result.error_in_exec)
    assert "has not run in this kernel" in message
    assert "run the cell of node 'clean' first" in message and "did you mean" not in message


def test_save_survives_a_broken_cell_in_the_saved_notebook(shell, monkeypatch, tmp_path, capsys):
    from pipeline_lab.store import PipelineBuilder

    monkeypatch.setenv("PIPELINE_LAB_STORE", "on")
    nb = _notebook(tmp_path / "flow.ipynb", "%%pipeline a\n1", "%%pipeline\nnot a node")
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    shell.run_cell("%pipeline new flow", store_history=True)
    shell.run_cell("%%pipeline a\n1", store_history=True)
    assert shell.run_cell("%pipeline save", store_history=True).success
    out = capsys.readouterr().out
    assert "could not be read" in out and "cell 2" in out
    assert list(PipelineBuilder().get("flow").nodes) == ["a"]


def test_a_node_knows_the_id_of_the_cell_that_defines_it(shell):
    assert shell.run_cell("%%pipeline orders\n[1, 2]", cell_id="cell-orders").success
    assert session_of(shell).pipeline.nodes["orders"].cell_id == "cell-orders"
    # Re-run from another front end that sends no id: the node keeps the one it had.
    assert shell.run_cell("%%pipeline orders\n[1, 2, 3]").success
    assert session_of(shell).pipeline.nodes["orders"].cell_id == "cell-orders"


def test_the_session_tells_observers_what_changes_and_forwards_run_events(shell):
    import threading

    from pipeline_lab.engine import NodeDefined, PipelineReset

    seen: list[tuple[str, str]] = []
    threads: set[str] = set()
    defined: list[NodeDefined] = []

    def observe(event: object) -> None:
        if isinstance(event, NodeDefined):
            defined.append(event)
        threads.add(threading.current_thread().name)
        name = getattr(event, "node", None) or getattr(event, "name", None)
        label = getattr(name, "name", name)
        seen.append((type(event).__name__, str(label)))

    stop = session_of(shell).observe(observe)
    shell.run_cell("%%pipeline a\n1")
    shell.run_cell("%%pipeline b\na + 1")
    shell.run_cell("%pipeline remove b")
    shell.run_cell("%pipeline new other")
    stop()
    shell.run_cell("%%pipeline c\n3")
    kinds = [kind for kind, _ in seen]
    assert kinds[:7] == [
        "NodeDefined",
        "RunStarted",
        "NodeStarted",
        "NodeFinished",
        "RunFinished",
        "OutputsBound",  # the outputs are bound: last runs and stale nodes are current
        "NodeDefined",
    ]
    assert ("NodeRemoved", "b") in seen and kinds[-1] == "PipelineReset"
    assert ("NodeDefined", "c") not in seen  # unsubscribed
    assert threads == {threading.current_thread().name}  # the kernel's thread only
    assert [e.node.name for e in defined] == ["a", "b"] and defined[1].replaced is None
    assert isinstance(session_of(shell).pipeline, type(defined[0].pipeline))
    assert PipelineReset.__name__ == kinds[-1]


def test_a_kernel_interrupt_inside_a_node_is_recorded_as_interrupted(shell, monkeypatch):
    monkeypatch.setenv("PIPELINE_LAB_STORE", "on")
    from pipeline_lab.store import RunRepository

    result = shell.run_cell("%%pipeline stuck\nraise KeyboardInterrupt")
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    [run] = RunRepository().list_runs(limit=1)
    assert (run.status, run.reason) == ("interrupted", "interrupt")
    detail = RunRepository().get_run(run.run_id)
    assert detail.node("stuck").status == "failed"


def test_a_rejected_cell_leaves_the_pipeline_as_it_was(shell):
    """A cell that would clash with another node is refused whole; later cells still work."""
    shell.run_cell("%%pipeline min_amount\n5")  # a node, whose output is a kernel variable
    before = dict(session_of(shell).pipeline.nodes)
    result = shell.run_cell("%%pipeline d\nparams.min_amount")
    assert not result.success
    assert "params.min_amount" in str(result.error_in_exec)
    assert dict(session_of(shell).pipeline.nodes) == before
    assert session_of(shell).pipeline.params == {}
    later = shell.run_cell("%%pipeline e\nmin_amount + 1")
    assert later.success and later.result == 6


def test_after_a_failed_check_the_output_is_there_to_inspect(shell, capsys):
    shell.run_cell("import polars as pl")
    result = shell.run_cell(
        "%%pipeline orders --check 'amount > 0'\npl.DataFrame({'amount': [5, -1, 7]})"
    )
    assert not result.success and "failed for 1 of 3 rows" in str(result.error_in_exec)
    assert shell.user_ns["orders"]["amount"].to_list() == [5, -1, 7]
    assert "the output that failed is bound as orders" in capsys.readouterr().err
    assert session_of(shell).last_runs["orders"].status.value == "failed"


def test_a_kernel_that_does_not_know_its_notebook_says_so_once(shell, capsys):
    shell.run_cell("%%pipeline a\n1")
    shell.run_cell("%%pipeline b\n2")
    err = capsys.readouterr().err
    assert err.count("its pipeline is named 'notebook'") == 1
    assert "%pipeline new NAME" in err


@pytest.mark.parametrize(
    ("where", "value"),
    [
        pytest.param("env", "reports/daily sales.ipynb", id="pipeline-lab-notebook"),
        pytest.param("__session__", "/work/revenue.ipynb", id="ipykernel-session"),
        pytest.param("__vsc_ipynb_file__", "/work/revenue.ipynb", id="vs-code"),
    ],
)
def test_the_pipeline_is_named_after_the_notebook_when_the_kernel_knows_it(
    where: str, value: str, monkeypatch
):
    from pipeline_lab.engine import InteractiveSession

    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    namespace: dict[str, object] = {}
    if where == "env":
        monkeypatch.setenv("PIPELINE_LAB_NOTEBOOK", value)
    else:
        namespace[where] = value
    assert InteractiveSession(namespace).pipeline.name == value.rsplit("/", 1)[1][: -len(".ipynb")]


def test_cell_runs_are_recorded_apart_and_hidden_from_runs_by_default(shell, monkeypatch):
    import json
    import subprocess
    import sys
    from pathlib import Path

    monkeypatch.setenv("PIPELINE_LAB_STORE", "on")
    shell.run_cell("%pipeline new sales")
    for _ in range(3):
        shell.run_cell("%%pipeline a\n1")
    shell.run_cell("%pipeline run")
    from pipeline_lab.store import close_stores

    close_stores()
    bin_ = Path(sys.executable).parent / "pipeline-lab"

    def runs(*args: str) -> list[dict[str, object]]:
        done = subprocess.run([str(bin_), "runs", "--json", *args], capture_output=True, text=True)
        return json.loads(done.stdout)

    assert [r["source"] for r in runs()] == ["kernel"]
    assert sorted(r["source"] for r in runs("--all")) == ["cell", "cell", "cell", "kernel"]
    listed = subprocess.run([str(bin_), "runs"], capture_output=True, text=True).stdout
    assert "3 run(s) of single notebook cells not listed" in listed


def test_a_check_on_an_empty_output_says_it_checked_no_rows(shell, capsys):
    shell.run_cell("import polars as pl")
    result = shell.run_cell(
        "%%pipeline none --check 'x > 0'\npl.DataFrame({'x': []}, schema={'x': pl.Int64})"
    )
    assert result.success
    assert "1 check passed (on 0 rows)" in capsys.readouterr().out
