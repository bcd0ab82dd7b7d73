"""``--check EXPR``: a SQL condition every output row must satisfy, enforced as a gate."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from pipeline_lab import Node, NodeStatus, Pipeline, QualityGateError
from pipeline_lab.graph import Cell
from pipeline_lab.quality import ChecksGate, check_issues, evaluate_check

ORDERS = pl.DataFrame(
    {
        "order_id": [1, 2, 3, 4],
        "amount": [10.0, -5.0, 20.0, None],
        "status": ["paid", "paid", "open", "refunded"],
    }
)


def run_checked(code: str, *checks: str) -> tuple[Pipeline, object]:
    pipeline = Pipeline("p", setup=[Cell("import polars as pl\nimport pandas as pd")])
    pipeline.add(Node("out", code=code, checks=checks))
    pipeline.add(Node("after", code="out"))
    return pipeline, pipeline.run(hooks=[ChecksGate()])


# -- evaluate_check -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "check",
    [
        pytest.param("order_id > 0", id="comparison"),
        pytest.param("status IN ('paid', 'open', 'refunded')", id="in-list"),
        pytest.param("order_id BETWEEN 1 AND 4 AND status <> 'lost'", id="and-between"),
        pytest.param(
            "amount > 0 OR amount IS NULL OR status = 'paid'", id="null-allowed-explicitly"
        ),
        pytest.param("length(status) >= 4", id="function"),
    ],
)
def test_passing_check(check: str) -> None:
    outcome = evaluate_check(ORDERS, check, node="orders")
    assert (outcome.rule, outcome.total_rows, outcome.failed_rows, outcome.passed) == (
        check,
        4,
        0,
        True,
    )


def test_failing_check_counts_and_shows_failing_rows() -> None:
    with pytest.raises(QualityGateError) as info:
        evaluate_check(ORDERS, "status = 'paid'", node="orders")
    error = info.value
    assert error.node == "orders"
    assert "failed for 2 of 4 rows" in error.message
    assert "refunded" in error.message and "open" in error.message
    # The shown rows are the failing ones, with their position in the output.
    rows = [line for line in error.message.splitlines() if line.startswith("│ ") and "┆" in line]
    cells = [[c.strip() for c in line.strip("│").split("┆")] for line in rows]
    assert cells[0] == ["row", "order_id", "amount", "status"]
    assert cells[-2:] == [["2", "3", "20.0", "open"], ["3", "4", "null", "refunded"]]
    assert len(cells) == 5  # header, "---" and dtype lines, then exactly the two failing rows


def test_null_values_count_as_failing() -> None:
    with pytest.raises(QualityGateError, match="failed for 2 of 4 rows") as info:
        evaluate_check(ORDERS, "amount > 0", node="orders")
    assert "null" in info.value.message
    assert "-5.0" in info.value.message


def test_failing_rows_are_limited() -> None:
    frame = pl.DataFrame({"x": list(range(100))})
    with pytest.raises(QualityGateError) as info:
        evaluate_check(frame, "x < 0", node="n")
    assert "failed for 100 of 100 rows" in info.value.message
    assert "shape: (5, 2)" in info.value.message


def test_a_frame_with_its_own_row_column_is_still_checked() -> None:
    frame = pl.DataFrame({"row": ["r1", "r2"], "x": [1, -1]})
    with pytest.raises(QualityGateError, match="failed for 1 of 2 rows") as info:
        evaluate_check(frame, "x > 0", node="n")
    assert "r2" in info.value.message


def test_missing_column_suggests_the_close_one() -> None:
    with pytest.raises(QualityGateError) as info:
        evaluate_check(ORDERS, "ammount > 0", node="orders")
    assert "names column(s) the output does not have: ammount" in info.value.message
    hint = info.value.hint or ""
    assert "did you mean 'amount'?" in hint
    assert "order_id, amount, status" in hint


def test_expression_that_is_not_a_condition() -> None:
    with pytest.raises(QualityGateError, match="is not a condition"):
        evaluate_check(ORDERS, "amount + 1", node="orders")


def test_condition_that_cannot_be_evaluated() -> None:
    with pytest.raises(QualityGateError, match="could not be evaluated"):
        evaluate_check(ORDERS, "status > 3", node="orders")


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(ORDERS.to_pandas(), id="pandas"),
        pytest.param(ORDERS.lazy(), id="polars-lazy"),
        pytest.param(ORDERS.to_arrow(), id="arrow"),
    ],
)
def test_other_frame_types(frame: object) -> None:
    assert evaluate_check(frame, "order_id > 0", node="n").failed_rows == 0
    with pytest.raises(QualityGateError, match="failed for 2 of 4 rows"):
        evaluate_check(frame, "amount > 0", node="n")


# -- invalid SQL is found before the run --------------------------------------------------------


@pytest.mark.parametrize(
    "check",
    [
        pytest.param("amount >", id="dangling-operator"),
        pytest.param("status IN ('paid'", id="unclosed-paren"),
        pytest.param("SELECT", id="keyword"),
    ],
)
def test_invalid_sql_is_a_validation_issue(check: str) -> None:
    node = Node("orders", code="1", checks=("amount > 0", check))
    (issue,) = check_issues(node)
    assert issue.code == "bad-check"
    assert issue.node == "orders"
    assert repr(check) in issue.message
    assert "amount > 0" in (issue.hint or "")
    pipeline = Pipeline("p")
    pipeline.add(node)
    assert [i.code for i in pipeline.validate()] == ["bad-check"]


def test_valid_checks_have_no_issues() -> None:
    assert check_issues(Node("n", code="1", checks=("a > 0", "b IS NOT NULL"))) == []


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("order_id IN (SELECT a FROM read_csv('{path}'))", id="subquery"),
        pytest.param("order_id IN (SELECT a FROM (\"read_csv\"('{path}')))", id="quoted"),
        pytest.param("read_csv('{path}') IS NULL", id="as-a-value"),
    ],
)
def test_a_check_that_reads_a_file_is_refused_before_polars_parses_it(
    template: str, tmp_path: Path
) -> None:
    path = tmp_path / "secret.csv"
    path.write_text("a,b\n1,SECRET\n")
    check = template.format(path=path)
    (issue,) = check_issues(Node("orders", code="1", checks=(check,)))
    assert issue.code == "bad-check" and issue.node == "orders"
    assert "reads files or URLs" in issue.message or "subquery" in issue.message
    assert "input" in (issue.hint or "")
    with pytest.raises(QualityGateError) as info:
        evaluate_check(ORDERS, check, node="orders")
    assert "SECRET" not in str(info.value)


# -- the gate in a run --------------------------------------------------------------------------


def test_check_passes_in_a_run() -> None:
    _, result = run_checked("pl.DataFrame({'amount': [1, 2]})", "amount > 0", "amount < 10")
    assert result.status == "succeeded"
    outcomes = result.node_runs["out"].checks
    assert [(o.rule, o.total_rows, o.failed_rows) for o in outcomes] == [
        ("amount > 0", 2, 0),
        ("amount < 10", 2, 0),
    ]


def test_failing_check_fails_the_node_and_skips_downstream() -> None:
    _, result = run_checked("pl.DataFrame({'amount': [1, -2, None]})", "amount > 0")
    out = result.node_runs["out"]
    assert out.status is NodeStatus.FAILED
    assert out.error is not None
    assert out.error.startswith("QualityGateError: check 'amount > 0' failed for 2 of 3 rows")
    assert result.node_runs["after"].status is NodeStatus.SKIPPED
    assert "out" not in result.outputs
    assert result.status == "failed"


def test_pandas_output_is_checked() -> None:
    _, ok = run_checked("pd.DataFrame({'amount': [1.5, 2.0]})", "amount > 0")
    assert ok.status == "succeeded"
    _, bad = run_checked("pd.DataFrame({'amount': [1.5, -2.0]})", "amount > 0")
    assert "failed for 1 of 2 rows" in (bad.node_runs["out"].error or "")


def test_lazy_frame_output_is_checked() -> None:
    _, ok = run_checked("pl.LazyFrame({'amount': [1, 2]})", "amount > 0")
    assert ok.status == "succeeded", ok.node_runs["out"].error
    _, bad = run_checked("pl.LazyFrame({'amount': [1, -2]})", "amount > 0")
    assert "failed for 1 of 2 rows" in (bad.node_runs["out"].error or "")


def test_missing_column_in_a_run_fails_the_node_with_a_hint() -> None:
    _, result = run_checked("pl.DataFrame({'amount': [1]})", "amonut > 0")
    error = result.node_runs["out"].error or ""
    assert "amonut" in error
    assert "did you mean 'amount'?" in error


@pytest.mark.parametrize(
    ("code", "returned"),
    [
        pytest.param("[1, 2, 3]", "returned list", id="list"),
        pytest.param("None", "produced no output (None)", id="none"),
        pytest.param("{'amount': [1]}", "returned dict", id="dict"),
    ],
)
def test_non_frame_output_is_a_clear_error(code: str, returned: str) -> None:
    _, result = run_checked(code, "amount > 0")
    out = result.node_runs["out"]
    assert out.status is NodeStatus.FAILED
    assert f"--check needs a frame output, but the node {returned}" in (out.error or "")


def test_node_without_checks_is_not_touched() -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("out", code="[1, 2]"))
    result = pipeline.run(hooks=[ChecksGate()])
    assert result.ok and result.node_runs["out"].checks == ()


def test_arrow_table_is_a_frame_for_checks() -> None:
    table = pa.table({"amount": [1, 2]})
    assert evaluate_check(table, "amount > 0", node="n").total_rows == 2


def test_pandas_index_is_not_a_column() -> None:
    frame = pd.DataFrame({"amount": [1, 2]}, index=["a", "b"])
    with pytest.raises(QualityGateError, match="names column"):
        evaluate_check(frame, "index = 'a'", node="n")


EMPTY = pl.DataFrame(schema={"amount": pl.Float64, "status": pl.String})


@pytest.mark.parametrize(
    ("frame", "check", "message"),
    [
        pytest.param(
            pl.DataFrame(),
            "amount > 0",
            "checked 0 rows: the output is an empty frame",
            id="no-columns",
        ),
        pytest.param(
            pd.DataFrame(), "amount > 0", "without even the column amount", id="pandas-no-columns"
        ),
        pytest.param(
            EMPTY,
            "count(*) > 0",
            "checked 0 rows: the output is empty, and the check gives one value",
            id="aggregate-on-no-rows",
        ),
    ],
)
def test_a_check_on_an_empty_output_says_it_checked_0_rows(
    frame: object, check: str, message: str
) -> None:
    with pytest.raises(QualityGateError, match=message) as info:
        evaluate_check(frame, check, node="orders")
    assert info.value.hint and "columns: " not in info.value.hint


def test_a_row_check_on_no_rows_passes_and_counts_0_rows() -> None:
    result = evaluate_check(EMPTY, "amount > 0", node="orders")
    assert (result.passed, result.total_rows, result.failed_rows) == (True, 0, 0)
