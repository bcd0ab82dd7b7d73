"""No component keeps a literal credential: its parameters go into the notebook, the graph,
the builder's cells and exported notebooks."""

from __future__ import annotations

import pytest

from pipeline_lab import Node, Pipeline


@pytest.mark.parametrize(
    ("component", "params", "what"),
    [
        pytest.param(
            "read_csv",
            {"path": "http://me:s3cret@files.example/x.csv"},
            "a URL with a password",
            id="file-url-password",
        ),
        pytest.param(
            "read_parquet",
            {"path": "s3://key:s3cret@bucket/x.parquet"},
            "a URL with a password",
            id="object-store-password",
        ),
        pytest.param(
            "read_rest",
            {"url": "https://api.example/items?api_key=s3cret"},
            "a key or token in its query",
            id="rest-query-key",
        ),
        pytest.param(
            "read_rest",
            {
                "url": "https://api.example/items",
                "params": {"next": "https://x.example/?access_token=s3cret"},
            },
            "a key or token in its query",
            id="nested-url",
        ),
    ],
)
def test_a_literal_credential_is_refused_and_not_echoed(
    component: str, params: dict[str, object], what: str
) -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("n", component=component, params=params))
    [issue] = pipeline.validate()
    assert issue.code == "bad-parameters" and what in issue.message
    assert "s3cret" not in issue.message + (issue.hint or "")
    assert "secret reference" in (issue.hint or "")


def test_urls_without_credentials_are_fine() -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("a", component="read_rest", params={"url": "https://api.example/x?page=2"}))
    pipeline.add(Node("b", component="read_csv", params={"path": "https://files.example/x.csv"}))
    assert pipeline.validate() == []
