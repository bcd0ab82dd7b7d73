"""The failing rows a check keeps (``CheckResult.sample``, stored with the run) and shows (its
error): columns that look like personal data are masked there; the row index and the other
columns are not."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from pipeline_lab import Node, NodeStatus, Pipeline
from pipeline_lab.graph import Cell
from pipeline_lab.quality import ChecksGate, judge_check

PEOPLE = pl.DataFrame(
    {
        "order_id": [1, 2, 3],
        "amount": [10.0, -5.0, -1.0],
        "email": ["ana@example.com", "bo@example.org", "cy@example.net"],
        "customer_name": ["Ana Lima", "Bo Berg", None],
        "contact": ["+33 6 12 34 56 78", "(555) 123-4567", "no phone"],
        "card": ["4111 1111 1111 1111", "5500 0000 0000 0004", "n/a"],
        "status": ["paid", "open", "open"],
    }
)
PERSONAL = ["bo@example.org", "cy@example.net", "Bo Berg", "(555) 123-4567", "5500 0000 0000 0004"]


@pytest.mark.parametrize(
    ("column", "values", "masked"),
    [
        pytest.param("email", ["a@x.io", "b@y.io"], True, id="email-by-name-and-value"),
        pytest.param("mail_to", ["a@x.io", "b@y.io"], True, id="email-by-name"),
        pytest.param("reach", ["a@x.io", "call me"], True, id="email-by-one-value"),
        pytest.param("phone", ["1", "2"], True, id="phone-by-name"),
        pytest.param("tel_no", ["+44 20 7946 0958", "n/a"], True, id="phone-by-value"),
        pytest.param("ssn", ["078-05-1120", "219-09-9999"], True, id="ssn"),
        pytest.param("payee", ["DE89 3704 0044 0532 0130 00", "x"], True, id="iban-by-value"),
        pytest.param("card_number", ["4111111111111111", "x"], True, id="card-number"),
        pytest.param("first_name", ["Ana", "Bo"], True, id="first-name"),
        pytest.param("name", ["Ana", "Bo"], True, id="name"),
        pytest.param("product_name", ["Chair", "Desk"], False, id="product-name"),
        pytest.param("status", ["paid", "open"], False, id="status"),
        pytest.param("day", ["2024-03-31", "31.03.2024"], False, id="dates"),
        pytest.param("email_verified", [True, False], False, id="flags-named-like-pii"),
    ],
)
def test_which_columns_of_failing_rows_are_masked(
    column: str, values: list[Any], masked: bool
) -> None:
    frame = pl.DataFrame({"amount": [-1, -2], column: values})
    result, error = judge_check(frame, "amount > 0", node="n")
    assert error is not None
    shown = [row[column] for row in result.sample]
    assert shown == (["***", "***"] if masked else values)
    for value in values:
        if isinstance(value, str) and len(value) > 3:
            assert (value in error.message) is not masked, value
    assert [row["row"] for row in result.sample] == [0, 1]  # the index is kept
    assert [row["amount"] for row in result.sample] == [-1, -2]


def test_failing_rows_keep_the_index_the_other_columns_and_their_nulls() -> None:
    result, error = judge_check(PEOPLE, "amount > 0", node="orders")
    assert error is not None
    assert result.sample == (
        {
            "row": 1,
            "order_id": 2,
            "amount": -5.0,
            "email": "***",
            "customer_name": "***",
            "contact": "***",
            "card": "***",
            "status": "open",
        },
        {
            "row": 2,
            "order_id": 3,
            "amount": -1.0,
            "email": "***",
            "customer_name": None,  # a null stays visible: it may be why the row failed
            "contact": "***",
            "card": "***",
            "status": "open",
        },
    )
    assert all(value not in error.message for value in PERSONAL)
    assert "email, customer_name, contact, card masked: they look like personal data" in (
        error.message
    )
    assert "failed for 2 of 3 rows" in error.message and "open" in error.message


def test_a_run_stores_and_reports_masked_rows() -> None:
    pipeline = Pipeline("p", setup=[Cell("import polars as pl")])
    code = "pl.DataFrame({'amount': [5, -1], 'email': ['ana@example.com', 'bo@example.org']})"
    pipeline.add(Node("out", code=code, checks=("amount > 0",)))
    result = pipeline.run(hooks=[ChecksGate()])
    run = result.node_runs["out"]
    assert run.status is NodeStatus.FAILED
    assert "bo@example.org" not in (run.error or "")
    (check,) = run.checks
    assert check.sample == ({"row": 1, "amount": -1, "email": "***"},)


def test_passing_checks_keep_no_sample() -> None:
    result, error = judge_check(PEOPLE, "order_id > 0", node="n")
    assert error is None and result.sample == ()
