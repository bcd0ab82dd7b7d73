"""``Pipeline.run``: outputs, node records, failures, parameters, setup/report cells, subsets."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from pipeline_lab import (
    Node,
    NodeStatus,
    Pipeline,
    PipelineDefinitionError,
    PipelineLabError,
    RunInterrupted,
    RunStatus,
)
from pipeline_lab.graph import Cell

NOTEBOOKS = Path(__file__).resolve().parents[1] / "data" / "notebooks"


def chain(**codes: str) -> Pipeline:
    pipeline = Pipeline("p")
    for name, code in codes.items():
        pipeline.add(Node(name, code=code))
    return pipeline


# -- outputs and records ------------------------------------------------------------------------


def test_sales_notebook_runs_headless() -> None:
    pipeline = Pipeline.from_notebook(NOTEBOOKS / "sales.ipynb")
    result = pipeline.run(hooks=[])
    assert result.status == "succeeded", result
    assert result.ok
    by_region = result.outputs["by_region"]
    assert by_region.to_dicts() == [
        {"region": "East", "revenue": 40.0},
        {"region": "North", "revenue": 22.0},
        {"region": "South", "revenue": 25.5},
    ]
    assert result.outputs["paid_orders"]["order_id"].to_list() == [1, 2, 4, 5]
    assert result.params == {"min_amount": 0, "region": "North", "limit": 3}
    assert result.report_errors == {}
    assert result.setup_error is None


def test_node_runs_record_what_happened() -> None:
    pipeline = chain(
        frame="pl.DataFrame({'a': [1, 2, 3], 'b': ['x', 'y', 'z']})",
        pandas_frame="pd.DataFrame({'a': [1, 2], 'b': [3, 4], 'c': [5, 6]})",
        value="sum(frame['a'])",
    )
    pipeline.setup.append(Cell("import polars as pl\nimport pandas as pd"))
    result = pipeline.run(hooks=[])
    assert result.status == "succeeded"
    runs = result.node_runs
    assert list(runs) == ["frame", "pandas_frame", "value"]
    assert (runs["frame"].rows, runs["frame"].columns) == (3, 2)
    assert (runs["pandas_frame"].rows, runs["pandas_frame"].columns) == (2, 3)
    assert (runs["value"].rows, runs["value"].columns) == (None, None)
    assert isinstance(result.outputs["frame"], pl.DataFrame)
    assert isinstance(result.outputs["pandas_frame"], pd.DataFrame)
    assert result.outputs["value"] == 6
    for run in runs.values():
        assert run.status is NodeStatus.SUCCEEDED
        assert run.attempts == 1
        assert run.error is None
        assert isinstance(run.started_at, datetime) and isinstance(run.ended_at, datetime)
        assert run.started_at <= run.ended_at
        assert run.started_at.tzinfo is not None
        assert run.duration_s is not None and run.duration_s >= 0
        assert run.cpu_s is not None and run.cpu_s >= 0
    assert result.started_at <= runs["frame"].started_at
    assert result.ended_at >= runs["value"].ended_at


def test_cpu_time_is_measured() -> None:
    pipeline = chain(
        busy="sum(i * i for i in range(300_000))", idle="__import__('time').sleep(0.1)"
    )
    runs = pipeline.run(hooks=[], executor="sequential").node_runs
    assert runs["busy"].cpu_s > 0.005
    assert runs["idle"].cpu_s < 0.05 < runs["idle"].duration_s


def test_result_serialization() -> None:
    result = chain(a="[1, 2]", b="a + [3]").run(hooks=[])
    data = result.to_dict()
    assert data["status"] == "succeeded"
    assert data["nodes"]["b"] == {
        "status": "succeeded",
        "rows": None,
        "duration_s": result.node_runs["b"].duration_s,
        "attempts": 1,
        "error": None,
        "checks": [],
    }
    assert (data["reason"], data["error"]) == (None, None)
    assert "2 succeeded" in str(result)


# -- failures -----------------------------------------------------------------------------------


@pytest.fixture
def failing() -> Pipeline:
    """good -> bad -> after_bad -> further; good -> sibling; lonely."""
    return chain(
        good="[1, 2, 3]",
        bad="values = list(good)\ntotal = sum(values)\nratio = total / 0\nratio",
        after_bad="bad + 1",
        further="after_bad * 2",
        sibling="len(good)",
        lonely="'still runs'",
    )


@pytest.mark.parametrize(
    "executor", [pytest.param("threads", id="threads"), pytest.param("sequential", id="sequential")]
)
def test_failing_node_does_not_crash_the_caller(failing: Pipeline, executor: str) -> None:
    result = failing.run(hooks=[], executor=executor)
    assert result.status == "failed"
    assert not result.ok
    assert result.failed == ["bad"]
    runs = result.node_runs
    assert runs["bad"].status is NodeStatus.FAILED
    assert runs["bad"].error == "ZeroDivisionError: division by zero"
    assert isinstance(runs["bad"].exception, ZeroDivisionError)
    assert runs["after_bad"].status is NodeStatus.SKIPPED
    assert runs["further"].status is NodeStatus.SKIPPED
    assert "'bad'" in (runs["after_bad"].error or "")
    assert "'after_bad'" in (runs["further"].error or "")
    assert runs["further"].attempts == 0
    assert {n: r.status for n, r in runs.items() if r.status.ok} == {
        "good": NodeStatus.SUCCEEDED,
        "sibling": NodeStatus.SUCCEEDED,
        "lonely": NodeStatus.SUCCEEDED,
    }
    assert result.outputs == {"good": [1, 2, 3], "sibling": 3, "lonely": "still runs"}


def test_traceback_shows_the_users_line_and_none_of_ours(failing: Pipeline) -> None:
    tb = failing.run(hooks=[]).node_runs["bad"].traceback or ""
    assert 'File "<pipeline node bad>", line 4' in tb
    assert "ratio = total / 0" in tb
    assert tb.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "pipeline_lab" not in tb
    assert "_node_runner" not in tb


def test_traceback_goes_into_the_users_helpers() -> None:
    pipeline = chain(n="helper(0)")
    pipeline.setup.append(Cell("def helper(x):\n    return 1 / x", index=4))
    tb = pipeline.run(hooks=[]).node_runs["n"].traceback or ""
    assert 'File "<pipeline node n>", line 2' in tb
    assert 'File "<notebook cell 5>", line 2, in helper' in tb
    assert "return 1 / x" in tb
    assert "pipeline_lab" not in tb


def test_traceback_of_a_redefined_node_shows_its_new_code() -> None:
    chain(x="y = 1\nraise ValueError('first version')").run(hooks=[])
    tb = (
        chain(x="y = 2\nz = 3\nraise KeyError('second version')")
        .run(hooks=[])
        .node_runs["x"]
        .traceback
    )
    assert "line 4" in (tb or "")
    assert "raise KeyError('second version')" in (tb or "")


def test_traceback_of_a_function_node() -> None:
    def explode() -> None:
        raise RuntimeError("inside the function")

    pipeline = Pipeline("p")
    pipeline.add(Node.from_function(explode))
    tb = pipeline.run(hooks=[]).node_runs["explode"].traceback or ""
    assert "in explode" in tb
    assert 'raise RuntimeError("inside the function")' in tb
    assert "pipeline_lab" not in tb


@pytest.mark.parametrize("executor", ["sequential", "threads"])
def test_keyboard_interrupt_is_not_swallowed(executor: str) -> None:
    """A node raising KeyboardInterrupt (a kernel interrupt) stops the run, which says so."""
    pipeline = chain(first="1", n="assert first == 1\nraise KeyboardInterrupt", after="n")
    with pytest.raises(RunInterrupted) as info:
        pipeline.run(hooks=[], executor=executor)
    assert isinstance(info.value, KeyboardInterrupt)
    result = info.value.result
    assert (result.status, result.reason) == (RunStatus.INTERRUPTED, "interrupt")
    assert result.node_runs["first"].status is NodeStatus.SUCCEEDED
    assert result.node_runs["n"].status is NodeStatus.FAILED
    assert result.node_runs["after"].status is NodeStatus.SKIPPED


def test_unknown_executor() -> None:
    with pytest.raises(PipelineLabError, match="unknown executor 'thread'") as info:
        chain(a="1").run(hooks=[], executor="thread")
    assert "'threads'" in (info.value.hint or "")


# -- parameters ---------------------------------------------------------------------------------


def test_params_by_attribute_and_bare_name() -> None:
    pipeline = Pipeline("p", params={"n": 3, "label": "x"})
    pipeline.add(Node("a", code="[params.label] * params.n"))
    pipeline.add(Node("b", code="label * n"))
    pipeline.add(Node("c", code="dict(params)"))
    assert pipeline.run(hooks=[]).outputs == {
        "a": ["x", "x", "x"],
        "b": "xxx",
        "c": {"n": 3, "label": "x"},
    }


def test_overrides_win_over_defaults() -> None:
    pipeline = Pipeline("p", params={"n": 3, "label": "x"})
    pipeline.add(Node("a", code="label * params.n"))
    result = pipeline.run(hooks=[], params={"n": 2})
    assert result.outputs == {"a": "xx"}
    assert result.params == {"n": 2, "label": "x"}
    assert pipeline.params == {"n": 3, "label": "x"}  # the pipeline's defaults are untouched


def test_unknown_param_in_run() -> None:
    pipeline = Pipeline("p", params={"min_amount": 0})
    pipeline.add(Node("a", code="params.min_amount"))
    with pytest.raises(PipelineDefinitionError) as info:
        pipeline.run(hooks=[], params={"min_amout": 5})
    assert "'min_amout'" in info.value.message
    assert "min_amount" in info.value.message
    assert info.value.hint == "did you mean 'min_amount'?"


def test_params_are_read_only_in_a_node() -> None:
    pipeline = Pipeline("p", params={"n": 1})
    pipeline.add(Node("a", code="params.n = 2"))
    result = pipeline.run(hooks=[])
    assert (
        result.node_runs["a"].error
        == "AttributeError: pipeline parameters are read-only inside a run"
    )


def test_parameters_cell_runs_headless() -> None:
    pipeline = Pipeline(
        "p", params={"day": "monday", "size": None}, param_code="day = 'monday'\nsize = len(day)"
    )
    pipeline.add(Node("a", code="(params.size, size)"))
    assert pipeline.run(hooks=[]).outputs == {"a": (6, 6)}
    assert pipeline.run(hooks=[], params={"size": 2}).outputs == {"a": (2, 2)}


def test_failing_parameters_cell_fails_the_run() -> None:
    pipeline = Pipeline("p", params={"x": None}, param_code="x = int('nope')")
    pipeline.add(Node("a", code="x"))
    result = pipeline.run(hooks=[])
    assert result.status == "failed"
    assert "ValueError" in (result.setup_error or "")
    assert result.node_runs["a"].status is NodeStatus.SKIPPED


# -- setup and report cells ---------------------------------------------------------------------


def test_setup_cells_run_first_in_order() -> None:
    pipeline = Pipeline(
        "p",
        setup=[Cell("steps = ['import']", index=1), Cell("steps.append('helper')", index=2)],
    )
    pipeline.add(Node("a", code="list(steps)"))
    assert pipeline.run(hooks=[]).outputs == {"a": ["import", "helper"]}


def test_failing_setup_cell_skips_every_node() -> None:
    pipeline = Pipeline(
        "p", setup=[Cell("x = 1", index=0), Cell("import no_such_module_here", index=5)]
    )
    pipeline.add(Node("a", code="1"))
    pipeline.add(Node("b", code="a + 1"))
    result = pipeline.run(hooks=[])
    assert result.status == "failed"
    assert result.setup_error is not None
    assert result.setup_error.startswith("ModuleNotFoundError")
    assert '<notebook cell 6>", line 1' in result.setup_error
    assert "(in the setup cell 6)" in result.setup_error
    assert {n: r.status for n, r in result.node_runs.items()} == {
        "a": NodeStatus.SKIPPED,
        "b": NodeStatus.SKIPPED,
    }
    assert result.node_runs["a"].error == "skipped: the setup cells failed"
    assert result.outputs == {}


def test_report_cells_run_after_nodes_and_failures_do_not_fail_the_run(tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    pipeline = Pipeline(
        "p",
        params={"out": str(out)},
        reports=[
            Cell("summary = f'total={total}'", index=3),
            Cell("open(params.out, 'w').write(summary)", index=4),
            Cell("total / 0", index=5),
        ],
    )
    pipeline.add(Node("numbers", code="[1, 2, 3]"))
    pipeline.add(Node("total", code="sum(numbers)"))
    result = pipeline.run(hooks=[])
    assert result.status == "succeeded"
    assert out.read_text() == "total=6"
    assert list(result.report_errors) == [6]  # cell numbers as Jupyter shows them
    assert "ZeroDivisionError" in result.report_errors[6]
    assert '<notebook cell 6>", line 1' in result.report_errors[6]


def test_report_cell_of_a_failed_node_is_skipped() -> None:
    pipeline = Pipeline("p", reports=[Cell("print(bad)", index=2)])
    pipeline.add(Node("bad", code="1 / 0"))
    result = pipeline.run(hooks=[])
    assert result.report_errors == {3: "skipped: node(s) bad did not produce a value"}


def test_report_cell_with_a_syntax_error_is_reported_not_raised() -> None:
    pipeline = Pipeline("p", reports=[Cell("print(a", index=2)])
    pipeline.add(Node("a", code="1"))
    result = pipeline.run(hooks=[])
    assert result.status == "succeeded"
    assert "syntax error" in result.report_errors[3]


def test_run_reports_false_skips_them(tmp_path: Path) -> None:
    pipeline = Pipeline("p", reports=[Cell("1 / 0", index=2)])
    pipeline.add(Node("a", code="1"))
    assert pipeline.run(hooks=[], run_reports=False).report_errors == {}


# -- subsets ------------------------------------------------------------------------------------


@pytest.fixture
def counted() -> tuple[Pipeline, list[str]]:
    """a -> b -> c, a -> d; each node records that it ran."""
    ran: list[str] = []
    pipeline = Pipeline("p", params={"ran": ran})
    pipeline.add(Node("a", code="ran.append('a')\n1"))
    pipeline.add(Node("b", code="ran.append('b')\na + 1"))
    pipeline.add(Node("c", code="ran.append('c')\nb + 1"))
    pipeline.add(Node("d", code="ran.append('d')\na * 10"))
    return pipeline, ran


def test_only_runs_the_node_and_the_upstream_it_needs(counted: tuple[Pipeline, list[str]]) -> None:
    pipeline, ran = counted
    result = pipeline.run(hooks=[], only="c", executor="sequential")
    assert ran == ["a", "b", "c"]
    assert list(result.node_runs) == ["a", "b", "c"]
    assert result.outputs == {"a": 1, "b": 2, "c": 3}


def test_only_reuses_given_upstream_values(counted: tuple[Pipeline, list[str]]) -> None:
    pipeline, ran = counted
    result = pipeline.run(hooks=[], only=["c"], values={"b": 100})
    assert ran == ["c"]
    assert list(result.node_runs) == ["c"]
    assert result.outputs == {"c": 101}


def test_from_runs_the_node_and_everything_downstream(counted: tuple[Pipeline, list[str]]) -> None:
    pipeline, ran = counted
    result = pipeline.run(hooks=[], from_="b", values={"a": 5}, executor="sequential")
    assert ran == ["b", "c"]
    assert result.outputs == {"b": 6, "c": 7}


def test_from_without_values_runs_upstream(counted: tuple[Pipeline, list[str]]) -> None:
    pipeline, ran = counted
    pipeline.run(hooks=[], from_="b", executor="sequential")
    assert ran == ["a", "b", "c"]


def test_only_and_from_together(counted: tuple[Pipeline, list[str]]) -> None:
    pipeline, ran = counted
    pipeline.run(hooks=[], only=["d"], from_="c", values={"a": 1, "b": 2}, executor="sequential")
    assert sorted(ran) == ["c", "d"]


@pytest.mark.parametrize(
    ("only", "from_"),
    [pytest.param(["cc"], None, id="only"), pytest.param(None, "cc", id="from")],
)
def test_unknown_subset_node(
    counted: tuple[Pipeline, list[str]], only: list[str] | None, from_: str | None
) -> None:
    pipeline, ran = counted
    with pytest.raises(PipelineDefinitionError, match="has no node 'cc'") as info:
        pipeline.run(hooks=[], only=only, from_=from_)
    assert "'c'" in (info.value.hint or "")
    assert ran == []


def test_default_hooks_without_store_run_checks() -> None:
    pipeline = Pipeline("p")
    pipeline.add(
        Node("a", code="__import__('polars').DataFrame({'x': [1, -1]})", checks=("x > 0",))
    )
    result = pipeline.run()
    a = result.node_runs["a"]
    assert a.status is NodeStatus.FAILED
    assert "failed for 1 of 2 rows" in (a.error or "")
    assert [(c.rule, c.passed, c.failed_rows, c.total_rows) for c in a.checks] == [
        ("x > 0", False, 1, 2)
    ]
    assert a.checks[0].sample == ({"row": 1, "x": -1},)


def test_a_stop_request_stops_the_run_even_if_its_interrupt_was_lost() -> None:
    """A signal's KeyboardInterrupt can be dropped by Python (raised inside a gc callback);
    the stop it requested is not: the run ends interrupted at the next step."""
    from pipeline_lab.engine import stop

    pipeline = chain(
        first="from pipeline_lab.engine import stop\nstop.request('interrupt')\n1",
        second="first + 1",
    )
    try:
        with pytest.raises(RunInterrupted) as info:
            pipeline.run(hooks=[], executor="threads")
    finally:
        stop.clear()
    result = info.value.result
    assert result.status is RunStatus.INTERRUPTED
    assert result.node_runs["first"].status is NodeStatus.SUCCEEDED
    assert result.node_runs["second"].status is NodeStatus.SKIPPED


def test_a_second_interrupt_while_the_run_is_recorded_does_not_leave_it_running() -> None:
    from pipeline_lab.store import RunRepository, StoreObserver

    def impatient(event: object) -> None:
        if type(event).__name__ == "RunFinished":
            raise KeyboardInterrupt  # Ctrl-C again, while the run is being recorded

    pipeline = chain(a="1", b="raise KeyboardInterrupt")
    with pytest.raises(RunInterrupted):
        pipeline.run(hooks=[impatient, StoreObserver()], executor="sequential")
    [run] = RunRepository().list_runs(limit=1)
    assert (run.status, run.reason) == ("interrupted", "interrupt")


def test_a_pipeline_edited_while_it_runs_changes_neither_the_run_nor_its_records() -> None:
    import threading

    from pipeline_lab.store import RunRepository, StoreObserver

    started, edited = threading.Event(), threading.Event()
    pipeline = Pipeline("live", params={"started": started, "edited": edited})
    pipeline.add(Node("a", code="started.set()\nedited.wait(10)\n1"))
    pipeline.add(Node("b", code="a + 1"))
    outcome: list[object] = []
    runner = threading.Thread(target=lambda: outcome.append(pipeline.run(hooks=[StoreObserver()])))
    runner.start()
    assert started.wait(10)
    pipeline.remove("b")  # another cell (or thread) edits the pipeline mid-run
    pipeline.add(Node("c", code="2"))
    edited.set()
    runner.join(20)
    [result] = outcome
    assert result.ok and set(result.node_runs) == {"a", "b"}  # type: ignore[attr-defined]
    assert result.hook_errors == ()  # type: ignore[attr-defined]
    detail = RunRepository().get_run(result.run_id)  # type: ignore[attr-defined]
    assert [n.name for n in detail.nodes] == ["a", "b"]


@pytest.mark.parametrize(
    ("cell", "where"),
    [
        pytest.param("setup", "setup", id="setup-cell"),
        pytest.param("params", "parameters", id="parameters-cell"),
    ],
)
def test_sys_exit_in_a_setup_or_parameters_cell_fails_the_setup_only(cell: str, where: str) -> None:
    code = "import sys\nsys.exit(0)"
    pipeline = Pipeline(
        "exits",
        param_code=code if cell == "params" else None,
        setup=[Cell(code)] if cell == "setup" else [],
    )
    pipeline.add(Node("a", code="1"))
    result = pipeline.run(hooks=[])
    assert (result.status, result.reason) == (RunStatus.FAILED, "setup_failed")
    assert (result.setup_error or "").startswith("SystemExit: sys.exit(0) was called")
    assert f"(in the {where}" in (result.setup_error or "")
    assert result.node_runs["a"].status is NodeStatus.SKIPPED


def test_sys_exit_in_a_report_cell_is_a_report_error() -> None:
    pipeline = Pipeline("reports", reports=[Cell("import sys\nprint(a)\nsys.exit(9)", index=3)])
    pipeline.add(Node("a", code="1"))
    result = pipeline.run(hooks=[])
    assert result.ok
    assert "SystemExit" in result.report_errors[4]


def test_names_longer_than_a_record_keeps_are_refused_before_running() -> None:
    pipeline = Pipeline("p" * 256)
    pipeline.add(Node("n" * 300, code="1"))
    with pytest.raises(PipelineDefinitionError) as info:
        pipeline.run(hooks=[])
    assert "300 characters long" in str(info.value)
    assert "the pipeline's name is 256 characters long" in str(info.value)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({}, ("2025-01-01", "output/2025-01-01.csv"), id="defaults"),
        pytest.param(
            {"run_date": "2025-06-30"},
            ("2025-06-30", "output/2025-06-30.csv"),
            id="derived-follows",
        ),
        pytest.param(
            {"run_date": "2025-06-30", "out_path": "elsewhere.csv"},
            ("2025-06-30", "elsewhere.csv"),
            id="override-of-derived-wins",
        ),
    ],
)
def test_values_derived_in_the_parameters_cell_follow_the_overrides(
    overrides: dict[str, str], expected: tuple[str, str]
) -> None:
    """papermill's trap: -p run_date=... left out_path at the default date's file."""
    code = 'run_date = "2025-01-01"\nout_path = f"output/{run_date}.csv"'
    pipeline = Pipeline(
        "derived", params={"run_date": "2025-01-01", "out_path": None}, param_code=code
    )
    pipeline.add(Node("target", code="(params.run_date, params.out_path)"))
    pipeline.add(Node("bare", code="out_path"))
    result = pipeline.run(params=overrides, hooks=[])
    assert result.outputs["target"] == expected
    assert result.outputs["bare"] == expected[1]
    assert result.params["out_path"] == expected[1]
