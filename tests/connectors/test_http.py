"""REST and GraphQL connectors against a real HTTP server on 127.0.0.1 (see http_app.py)."""

from __future__ import annotations

import logging
import socket
import time
import uuid
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from types import ModuleType
from typing import Any

import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import pipeline_lab
from pipeline_lab import Node, Pipeline, RetryPolicy
from pipeline_lab.components import get_component
from pipeline_lab.connectors import DataSourceConfig, open_connector, read
from pipeline_lab.connectors.http._records import lookup, records_frame
from pipeline_lab.connectors.http._retry import retry_after_seconds
from pipeline_lab.errors import ConnectorError, TransientConnectorError, TransientError
from pipeline_lab.lineage import DatasetRef, DatasetUse

FAST = {"backoff": 0.01, "backoff_cap": 0.02}
ORDERS_QUERY = """
query Orders($after: String) {
  orders(first: 3, after: $after) {
    edges { node { id amount customer { name } items } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.fixture
def key() -> str:
    """A fresh counter key: the server counts requests per ?key=."""
    return uuid.uuid4().hex[:12]


def ids(frame: pl.DataFrame) -> list[int]:
    return frame["id"].to_list()


# -- pagination ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pagination", "requests"),
    [
        pytest.param({"type": "page", "size": 10, "total_path": "meta.total"}, 3, id="page-total"),
        pytest.param({"type": "page", "size": 10}, 3, id="page-short-last"),
        pytest.param({"type": "page", "size": 5}, 6, id="page-empty-last"),
        pytest.param("page", 4, id="page-server-size"),
        pytest.param({"type": "offset", "size": 7}, 4, id="offset"),
        pytest.param(
            {"type": "offset", "size": 5, "total_path": "meta.total"}, 5, id="offset-total"
        ),
    ],
)
def test_page_and_offset_pagination_read_every_record_once(
    http_api: Any, http_app: ModuleType, key: str, pagination: Any, requests: int
) -> None:
    frame = read(
        http_api.url("/items"), records_path="data", params={"key": key}, pagination=pagination
    )
    assert ids(frame) == list(range(1, 26))
    assert http_api.hits("/items", key) == requests


def test_cursor_in_the_body(http_api: Any, key: str) -> None:
    frame = read(
        http_api.url(f"/cursor?key={key}"),
        pagination={"type": "cursor", "cursor_path": "meta.next"},
    )
    assert ids(frame) == list(range(1, 26))
    assert http_api.hits("/cursor", key) == 3


def test_link_header(http_api: Any) -> None:
    frame = read(http_api.url("/link"), pagination="link")
    assert ids(frame) == list(range(1, 26))


def test_records_path_is_found_when_the_body_has_one_list(http_api: Any) -> None:
    frame = read(http_api.url("/items"), params={"per_page": 4})
    assert ids(frame) == [1, 2, 3, 4]


def test_schema_is_stable_across_pages(http_api: Any) -> None:
    """Keys that appear on later pages, numbers that become text, ints and floats together."""
    frame = read(
        http_api.url("/items"), records_path="data[*]", pagination={"type": "page", "size": 10}
    )
    assert frame.schema == pl.Schema(
        {
            "id": pl.Int64,
            "name": pl.String,
            "price": pl.Float64,  # 10 and 10.5
            "tags": pl.List(pl.String),
            "owner.name": pl.String,
            "owner.address.city": pl.String,
            "code": pl.String,  # 1..10 on page 1, "C11".. after: nothing lost
            "note": pl.String,  # null on page 1
            "discount": pl.Float64,  # only on page 3
        }
    )
    assert frame["code"].to_list()[9:11] == ["10", "C11"]
    assert frame["discount"].null_count() == 20
    assert frame["owner.address.city"][0] == "Paris"


def test_nested_objects_can_stay_structs(http_api: Any) -> None:
    frame = read(http_api.url("/items"), records_path="data", flatten=False, params={"per_page": 3})
    assert frame.schema["owner"] == pl.Struct(
        {"name": pl.String, "address": pl.Struct({"city": pl.String})}
    )
    assert frame["owner"].struct.field("address").struct.field("city").to_list() == [
        "Paris",
        "Lyon",
        "Paris",
    ]


def test_wrong_records_path_lists_the_keys(http_api: Any) -> None:
    with pytest.raises(ConnectorError) as caught:
        read(http_api.url("/items"), records_path="results")
    message = str(caught.value)
    assert "records_path 'results' is not in the response" in message
    assert "keys at the top level: data, meta" in message
    assert f"GET {http_api.url('/items')}" in message


def test_max_pages_is_an_error_not_a_silent_truncation(http_api: Any, key: str) -> None:
    with pytest.raises(ConnectorError, match=r"more than max_pages=2 pages") as caught:
        read(
            http_api.url("/items"),
            params={"key": key},
            pagination={"type": "page", "size": 5},
            max_pages=2,
        )
    assert "page=3" in str(caught.value)
    assert http_api.hits("/items", key) == 2


def test_limit_stops_early(http_api: Any, key: str) -> None:
    frame = read(
        http_api.url("/items"), params={"key": key}, pagination={"type": "page", "size": 5}, limit=7
    )
    assert ids(frame) == list(range(1, 8))
    assert http_api.hits("/items", key) == 2


def test_a_cursor_that_repeats_is_a_loop(http_api: Any) -> None:
    with pytest.raises(ConnectorError, match="pagination loops"):
        read(http_api.url("/items"), pagination={"type": "cursor", "cursor_path": "meta.total"})


# -- requests ------------------------------------------------------------------------------------
def test_post_with_json_body_headers_and_params(http_api: Any) -> None:
    frame = read(
        http_api.url("/echo"),
        method="post",
        body={"filter": {"status": "paid"}, "ids": [1, 2]},
        headers={"X-Trace": "abc"},
        params={"q": "x y"},
    )
    row = frame.row(0, named=True)
    assert row["method"] == "POST"
    assert row["query.q"] == "x y"
    assert row["json.filter.status"] == "paid"
    assert row["json.ids"] == [1, 2]
    assert row["headers.x_trace"] == "abc"
    assert row["accept"] == "application/json"


def test_table_is_a_path_below_the_source_url(http_api: Any) -> None:
    config = DataSourceConfig("http", http_api.url("/"), options={"records_path": "data"})
    frame = open_connector(config).read(table="items", params={"per_page": 2})
    assert ids(frame) == [1, 2]


def test_managed_source_options_are_defaults_a_read_overrides(http_api: Any) -> None:
    config = DataSourceConfig(
        "http", http_api.url("/items"), options={"records_path": "data", "params": {"per_page": 2}}
    )
    connector = open_connector(config)
    assert ids(connector.read()) == [1, 2]
    assert ids(connector.read(params={"per_page": 3})) == [1, 2, 3]


def test_same_origin_redirects_are_followed(http_api: Any) -> None:
    assert ids(read(http_api.url("/redirect"))) == [1, 2, 3, 4]


def test_unknown_options_are_named(http_api: Any) -> None:
    with pytest.raises(ConnectorError, match=r"unknown option 'record_path'") as caught:
        read(http_api.url("/items"), record_path="data")
    assert "records_path" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("url", "namespace", "name"),
    [
        pytest.param(
            "https://api.example.com/v1/orders?status=paid",
            "https://api.example.com:443",
            "/v1/orders",
            id="https",
        ),
        pytest.param(
            "http://me@api.example.com:8080/items",
            "http://api.example.com:8080",
            "/items",
            id="user-dropped",
        ),
        pytest.param("http://api.example.com", "http://api.example.com:80", "/", id="root"),
    ],
)
def test_dataset_identity_has_no_credentials_nor_query(url: str, namespace: str, name: str) -> None:
    connector = open_connector(url)
    assert connector.dataset() == DatasetRef(namespace, name)


# -- authentication ------------------------------------------------------------------------------
AUTH_CASES = [
    pytest.param("/bearer/items", {}, "token", "TEST_TOKEN", id="bearer"),
    pytest.param("/basic/items", {"username": "ana"}, "password", "TEST_PASSWORD", id="basic"),
    pytest.param("/apikey/items", {}, "api_key", "TEST_API_KEY", id="api-key-header"),
    pytest.param(
        "/apikey/items", {"api_key_param": "api_key"}, "api_key", "TEST_API_KEY", id="api-key-query"
    ),
]


@pytest.mark.parametrize(("path", "options", "secret", "variable"), AUTH_CASES)
def test_auth_with_secret_references(
    http_api: Any,
    secrets: ModuleType,
    path: str,
    options: dict[str, Any],
    secret: str,
    variable: str,
) -> None:
    frame = read(http_api.url(path), secrets={secret: f"env:{variable}"}, **options)
    assert ids(frame) == [1, 2, 3]


@pytest.mark.parametrize(("path", "options", "secret", "variable"), AUTH_CASES)
def test_refused_credentials_are_not_retried_nor_shown(
    http_api: Any,
    secrets: ModuleType,
    path: str,
    options: dict[str, Any],
    secret: str,
    variable: str,
) -> None:
    key = uuid.uuid4().hex[:12]
    with pytest.raises(ConnectorError) as caught:
        read(http_api.url(f"{path}?key={key}"), secrets={secret: "env:WRONG_SECRET"}, **options)
    error = caught.value
    assert not isinstance(error, TransientError)
    assert "HTTP 401 Unauthorized" in str(error)
    assert "wrong-s3cret-value" not in str(error)
    assert "api_key=" not in str(error)  # the key's query parameter is never rendered
    assert "check the credentials of auth" in (error.hint or "")
    assert http_api.hits(path, key) == 1


def test_missing_credentials_hint_at_auth(http_api: Any) -> None:
    with pytest.raises(ConnectorError, match="HTTP 401") as caught:
        read(http_api.url("/bearer/items"))
    assert "pass auth=" in (caught.value.hint or "")


def test_unset_secret_names_the_reference_not_a_value(
    http_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_TOKEN", raising=False)
    with pytest.raises(ConnectorError, match="NO_SUCH_TOKEN, which is not set"):
        read(http_api.url("/bearer/items"), secrets={"token": "env:NO_SUCH_TOKEN"})


def test_a_literal_secret_is_refused_without_echoing_it(http_api: Any) -> None:
    with pytest.raises(ConnectorError, match="must be a reference") as caught:
        read(http_api.url("/bearer/items"), secrets={"token": "literal-s3cret"})
    assert "literal-s3cret" not in str(caught.value)


def test_credentials_go_only_to_the_source_origin(http_api: Any, secrets: ModuleType) -> None:
    elsewhere = f"http://localhost:{http_api.port}/echo"  # same server, another origin
    frame = read(
        http_api.url(f"/echo?next={elsewhere}"),
        pagination="link",
        secrets={"token": "env:TEST_TOKEN"},
    )
    assert frame.select("host", "authorized").rows() == [
        (f"127.0.0.1:{http_api.port}", True),
        (f"localhost:{http_api.port}", False),
    ]


def test_basic_auth_user_from_the_url(http_api: Any, secrets: ModuleType) -> None:
    url = f"http://ana@127.0.0.1:{http_api.port}/basic/items"
    connector = open_connector(url)
    assert ids(connector.read(secrets={"password": "env:TEST_PASSWORD"})) == [1, 2, 3]
    assert connector.dataset() == DatasetRef(f"http://127.0.0.1:{http_api.port}", "/basic/items")


def oauth_options(http_api: Any, **extra: Any) -> dict[str, Any]:
    return {
        "token_url": http_api.url("/oauth/token"),
        "client_id": "pipeline-lab",
        "secrets": {"client_secret": "env:TEST_CLIENT_SECRET"},
        "records_path": "data",
        "pagination": {"type": "page", "size": 10},
        **extra,
    }


@pytest.mark.parametrize("client_auth", ["basic", "body"])
def test_oauth2_token_is_cached_until_it_expires(
    http_api: Any, secrets: ModuleType, client_auth: str
) -> None:
    before = http_api.app.hits["oauth-token"]
    connector = open_connector(http_api.url("/oauth/items"))
    options = oauth_options(http_api, client_auth=client_auth)
    assert ids(connector.read(**options)) == list(range(1, 26))  # 3 pages
    assert ids(connector.read(**options)) == list(range(1, 26))  # 3 more
    assert http_api.app.hits["oauth-token"] - before == 1


def test_oauth2_token_is_renewed_when_it_expires(
    http_api: Any, secrets: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_api.app, "token_lifetime", 0)  # announced: expired at once
    monkeypatch.setattr(http_api.app, "token_validity", 60)
    before = http_api.app.hits["oauth-token"]
    assert ids(read(http_api.url("/oauth/items"), **oauth_options(http_api))) == list(range(1, 26))
    assert http_api.app.hits["oauth-token"] - before == 3  # one per page


def test_oauth2_token_refused_before_its_expiry_is_renewed_once(
    http_api: Any, secrets: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_api.app, "token_validity", 0)  # announced 3600 s, revoked at once
    before = http_api.app.hits["oauth-token"]
    with pytest.raises(ConnectorError, match="HTTP 401"):
        read(http_api.url("/oauth/items"), **oauth_options(http_api))
    assert http_api.app.hits["oauth-token"] - before == 2  # the first token and one renewal


def test_oauth2_refused_client_secret(http_api: Any, secrets: ModuleType) -> None:
    options = oauth_options(http_api, secrets={"client_secret": "env:WRONG_SECRET"})
    with pytest.raises(ConnectorError, match="the OAuth2 token request failed: HTTP 401") as caught:
        read(http_api.url("/oauth/items"), **options)
    assert "wrong-s3cret-value" not in str(caught.value)


def test_secrets_are_not_logged(
    http_api: Any, secrets: ModuleType, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    read(
        http_api.url(f"/flaky?key={key}&fail=1"),
        secrets={"api_key": "env:TEST_API_KEY"},
        api_key_param="api_key",
        **FAST,
    )
    assert "retry 1/3" in caplog.text
    assert secrets.API_KEY not in caplog.text


# -- bad input -----------------------------------------------------------------------------------
def test_404_is_not_retried_and_names_url_and_status(http_api: Any, key: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        read(http_api.url(f"/nowhere?key={key}"))
    assert not isinstance(caught.value, TransientError)
    assert f"HTTP 404 Not Found from GET {http_api.url('/nowhere')}?key={key}" in str(caught.value)
    assert http_api.hits("/nowhere", key) == 1


def test_500_is_retried_then_transient(http_api: Any, key: str) -> None:
    with pytest.raises(TransientConnectorError) as caught:
        read(http_api.url(f"/always500?key={key}"), retries=2, **FAST)
    assert "HTTP 500 Internal Server Error" in str(caught.value)
    assert "after 3 attempt(s): database on fire" in str(caught.value)
    assert http_api.hits("/always500", key) == 3


def test_503_then_success(http_api: Any, key: str) -> None:
    frame = read(http_api.url(f"/flaky?key={key}&fail=2"), **FAST)
    assert frame["attempt"].to_list() == [3]
    assert http_api.hits("/flaky", key) == 3


def test_html_instead_of_json(http_api: Any) -> None:
    with pytest.raises(ConnectorError) as caught:
        read(http_api.url("/html"))
    message = str(caught.value)
    assert "expected JSON, got text/html" in message
    assert "<!DOCTYPE html> <html><head><title>Sign in" in message


def test_invalid_json(http_api: Any) -> None:
    with pytest.raises(ConnectorError) as caught:
        read(http_api.url("/badjson"))
    message = str(caught.value)
    assert "invalid JSON from GET" in message
    assert "line 1, column 30" in message
    assert '{"data": [{"id": 1}, {"id": 2' in message


@pytest.mark.parametrize("retry_after", ["1", "date"])
def test_429_waits_as_long_as_retry_after_says(http_api: Any, key: str, retry_after: str) -> None:
    started = time.monotonic()
    frame = read(http_api.url(f"/ratelimited?key={key}&retry_after={retry_after}"), **FAST)
    elapsed = time.monotonic() - started
    assert frame["ok"].to_list() == [True]
    times = http_api.app.times[f"/ratelimited:{key}"]
    assert len(times) == 2
    # An HTTP date has whole seconds: 2 s ahead is between 1 and 2 s away.
    assert 0.95 <= times[1] - times[0] <= 3.0
    assert elapsed < 4.0


def test_retry_after_longer_than_max_retry_wait_fails_at_once(http_api: Any, key: str) -> None:
    started = time.monotonic()
    with pytest.raises(TransientConnectorError, match=r"asks to wait 1 s .*max_retry_wait=0.5 s"):
        read(http_api.url(f"/ratelimited?key={key}"), max_retry_wait=0.5)
    assert time.monotonic() - started < 0.9
    assert http_api.hits("/ratelimited", key) == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_is_transient_and_names_host_and_port() -> None:
    port = free_port()
    with pytest.raises(TransientConnectorError) as caught:
        read(f"http://127.0.0.1:{port}/items", retries=1, **FAST)
    assert f"cannot connect to 127.0.0.1:{port}" in str(caught.value)
    assert "after 2 attempt(s)" in str(caught.value)


def test_timeout_is_transient(http_api: Any, key: str) -> None:
    started = time.monotonic()
    with pytest.raises(TransientConnectorError, match=r"within 0.2 s \(ReadTimeout\) after 2"):
        read(http_api.url(f"/slow?key={key}&seconds=1"), timeout=0.2, retries=1, **FAST)
    assert time.monotonic() - started < 0.9
    assert http_api.hits("/slow", key) == 2


def test_transient_errors_are_recognised() -> None:
    connector = open_connector("http://127.0.0.1:1/")
    request = httpx.Request("GET", "http://127.0.0.1:1/")
    assert connector.is_transient(httpx.ConnectError("refused", request=request))
    assert connector.is_transient(httpx.ReadTimeout("slow", request=request))
    assert not connector.is_transient(httpx.UnsupportedProtocol("ftp", request=request))


# -- test and inspect ----------------------------------------------------------------------------
def test_connection_test_is_a_real_round_trip(http_api: Any) -> None:
    result = open_connector(http_api.url("/items")).test()
    assert result.ok and result.latency_s > 0
    port = free_port()
    result = open_connector(f"http://127.0.0.1:{port}/items").test()
    assert not result.ok
    assert f"127.0.0.1:{port}" in result.message


def test_inspect_samples_the_endpoint(http_api: Any) -> None:
    config = DataSourceConfig("http", http_api.url("/items"), options={"records_path": "data"})
    (table,) = open_connector(config).inspect()
    assert table.name == "/items"
    assert ("id", "Int64") in [(c.name, c.type) for c in table.columns]
    assert ids(open_connector(config).preview(limit=3)) == [1, 2, 3]


# -- GraphQL -------------------------------------------------------------------------------------
def test_graphql_relay_pages(http_api: Any, http_app: ModuleType) -> None:
    before = http_api.hits("/graphql")
    frame = read(http_api.url("/graphql"), graphql=True, query=ORDERS_QUERY)
    assert frame["id"].to_list() == [f"o{i}" for i in range(1, 8)]
    assert frame.columns == ["id", "amount", "customer.name", "items"]
    assert frame["items"][0].to_list() == ["sku-1", "sku-2"]
    assert http_api.hits("/graphql") - before == 3  # 3 + 3 + 1


def test_graphql_variables_and_nodes_at_a_connection_path(http_api: Any) -> None:
    query = """query($n: Int, $after: String) {
      shop: orders(first: $n, after: $after) { nodes { id status } pageInfo { hasNextPage endCursor } }
    }"""
    frame = read(
        http_api.url("/graphql"), graphql=True, query=query, params={"n": 5}, connection_path="shop"
    )
    assert frame.height == 7
    assert frame.columns == ["id", "status"]


def test_graphql_records_path_without_a_connection(http_api: Any) -> None:
    query = "{ orders(first: 2) { edges { cursor } } }"
    frame = read(http_api.url("/graphql"), graphql=True, query=query, records_path="orders.edges")
    assert frame["cursor"].to_list() == ["cursor:0", "cursor:1"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(
            "{ orders { edges { node { id nope } } } }",
            'Cannot query field "nope" on type "Order". (line 1, column 30)',
            id="unknown-field",
        ),
        pytest.param(
            "{ orders(first: 2) { nodes { id failing } } }",
            "the failing field always fails (at orders.nodes.0.failing; line 1, column 33) | "
            "the failing field always fails (at orders.nodes.1.failing",
            id="field-error-with-path",
        ),
        pytest.param(
            "{ orders { nodes { id }", "Syntax Error: expected more, found the end", id="syntax-400"
        ),
    ],
)
def test_graphql_errors_are_surfaced(http_api: Any, query: str, expected: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        read(http_api.url("/graphql"), graphql=True, query=query)
    assert not isinstance(caught.value, TransientError)
    assert f"GraphQL errors from POST {http_api.url('/graphql')}: " in str(caught.value)
    assert expected in str(caught.value)


def test_graphql_more_pages_without_an_after_variable(http_api: Any) -> None:
    query = "{ orders(first: 3) { nodes { id } pageInfo { hasNextPage endCursor } } }"
    with pytest.raises(ConnectorError, match=r"does not use \$after"):
        read(http_api.url("/graphql"), graphql=True, query=query)


def test_graphql_needs_a_query(http_api: Any) -> None:
    with pytest.raises(ConnectorError, match="no GraphQL query"):
        read(http_api.url("/graphql"), graphql=True)


def test_graphql_connection_test_and_inspect(http_api: Any) -> None:
    assert open_connector(http_api.url("/graphql"), graphql=True).test().ok
    assert open_connector(http_api.url("/graphql"), graphql=True).inspect() == []
    config = DataSourceConfig("graphql", http_api.url("/graphql"), options={"query": ORDERS_QUERY})
    (table,) = open_connector(config).inspect()
    assert [c.name for c in table.columns] == ["id", "amount", "customer.name", "items"]


# -- components and pipelines --------------------------------------------------------------------
def test_read_rest_node_reports_its_dataset(http_api: Any) -> None:
    pipeline = Pipeline("rest")
    params = {
        "url": http_api.url("/items"),
        "records_path": "data",
        "pagination": {"type": "page", "size": 10},
    }
    pipeline.add(Node("items", component="read_rest", params=params))
    pipeline.add(
        Node("cheap", component="filter", params={"input": "items", "condition": "price < 10.5"})
    )
    assert pipeline.validate() == []
    result = pipeline.run(hooks=[])
    assert result.status == "succeeded", result.node_runs["items"].error
    assert result.outputs["cheap"]["id"].to_list() == list(range(1, 26, 2))
    dataset = DatasetRef(f"http://127.0.0.1:{http_api.port}", "/items")
    assert result.node_runs["items"].datasets == (DatasetUse(dataset, "input"),)
    assert result.node_runs["items"].datasets[0].dataset.facets["schema"]["id"] == "Int64"


def test_read_graphql_node(http_api: Any) -> None:
    pipeline = Pipeline("gql")
    pipeline.add(
        Node(
            "orders",
            component="read_graphql",
            params={"url": http_api.url("/graphql"), "query": ORDERS_QUERY},
        )
    )
    result = pipeline.run(hooks=[])
    assert result.status == "succeeded", result.node_runs["orders"].error
    assert result.outputs["orders"].height == 7
    assert result.node_runs["orders"].datasets[0].dataset.name == "/graphql"


def test_transient_source_failures_are_retried_by_the_node(http_api: Any, key: str) -> None:
    pipeline = Pipeline("flaky")
    params = {"url": http_api.url(f"/flaky?key={key}&fail=3"), "retries": 1, **FAST}
    pipeline.add(
        Node("data", component="read_rest", params=params, retry=RetryPolicy(retries=1, delay=0.01))
    )
    result = pipeline.run(hooks=[])
    assert result.status == "succeeded", result.node_runs["data"].error
    assert result.node_runs["data"].attempts == 2
    assert http_api.hits("/flaky", key) == 4


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        pytest.param(
            "read_rest",
            {
                "records_path": "data",
                "params": {"per_page": 5},
                "pagination": {"type": "page", "size": 5},
                "limit": 12,
            },
            id="rest",
        ),
        pytest.param(
            "read_graphql", {"query": ORDERS_QUERY, "variables": {"unused": 1}}, id="graphql"
        ),
    ],
)
def test_to_code_reads_the_same_frame(http_api: Any, kind: str, params: dict[str, Any]) -> None:
    path = "/items" if kind == "read_rest" else "/graphql"
    component = get_component(kind)({"url": http_api.url(path), **params})
    built = component.build({}).collect()
    code = component.to_code()
    assert code.startswith(f"pipeline_lab.read({http_api.url(path)!r}, ")
    namespace: dict[str, Any] = {"pipeline_lab": pipeline_lab}
    exec(f"result = {code}", namespace)  # our generated code
    assert_frame_equal(namespace["result"], built)


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        pytest.param(
            {"secrets": {"token": "literal-s3cret"}}, "must be a reference", id="literal-secret"
        ),
        pytest.param({"pagination": {"type": "pages"}}, "parameter 'pagination'", id="pagination"),
        pytest.param(
            {"url": "ftp://example.com/x"}, "expected an http:// or https:// URL", id="url"
        ),
        pytest.param({"method": "DELETE"}, "parameter 'method'", id="method"),
    ],
)
def test_bad_component_parameters(params: dict[str, Any], problem: str) -> None:
    pipeline = Pipeline("bad")
    pipeline.add(
        Node("src", component="read_rest", params={"url": "https://example.com/x", **params})
    )
    issues = pipeline.validate()
    assert [(i.code, i.node) for i in issues] == [("bad-parameters", "src")]
    assert problem in issues[0].message
    assert "literal-s3cret" not in issues[0].message


def test_component_json_schema_offers_the_options() -> None:
    schema = get_component("read_rest").json_schema()
    assert {"url", "auth", "secrets", "pagination", "records_path"} <= set(schema["properties"])
    assert get_component("read_rest").category == "source"
    assert set(get_component("read_graphql").json_schema()["required"]) == {"url", "query"}


# -- records ------------------------------------------------------------------------------------
def test_mixed_json_types_become_text_not_nulls() -> None:
    frame = records_frame(
        [{"a": 1, "b": True, "c": "x"}, {"a": 2.5, "b": 1}, {"b": None, "c": {"k": [1]}}],
        flatten=False,
    )
    assert frame.schema == pl.Schema({"a": pl.Float64, "b": pl.String, "c": pl.String})
    assert frame.rows() == [(1.0, "true", "x"), (2.5, "1", None), (None, None, '{"k": [1]}')]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("data.items", [{"id": 1}, {"id": 2}], id="dotted"),
        pytest.param("$.data.items[*]", [{"id": 1}, {"id": 2}], id="jsonpath-style"),
        pytest.param("data.items[-1].id", 2, id="index"),
        pytest.param("groups[*].members", ["a", "b", "c"], id="map-and-concatenate"),
    ],
)
def test_json_paths(path: str, expected: Any) -> None:
    body = {
        "data": {"items": [{"id": 1}, {"id": 2}]},
        "groups": [{"members": ["a", "b"]}, {"members": ["c"]}],
    }
    assert lookup(body, path) == expected


# -- Retry-After ---------------------------------------------------------------------------------
def test_retry_after_seconds_or_http_date() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("3", now) == 3.0
    assert (
        retry_after_seconds(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90.0
    )
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=5), usegmt=True), now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"headers": {"Cookie": "session=abc123def456"}}, id="cookie-header"),
        pytest.param({"headers": {"X-Custom": "Bearer abc.def.ghi"}}, id="bearer-by-value"),
        pytest.param({"headers": {"Proxy-Authorization": "Basic dXNlcjpwdw=="}}, id="proxy-auth"),
        pytest.param({"params": {"api_key": "k-12345678"}}, id="api-key-query"),
    ],
)
def test_a_rest_component_never_keeps_a_credential_in_its_parameters(
    params: dict[str, object],
) -> None:
    """A node's parameters are saved in the notebook and in versions: credentials go in as
    secret references, never as values; the error never repeats the value."""
    from pipeline_lab import Node, Pipeline

    pipeline = Pipeline("creds")
    pipeline.add(
        Node("api", component="read_rest", params={"url": "https://api.example.com/v1", **params})
    )
    [issue] = [i for i in pipeline.validate() if i.node == "api"]
    assert "holds a credential" in issue.message and "secrets:" in (issue.hint or "")
    for value in ("abc123def456", "abc.def.ghi", "dXNlcjpwdw==", "k-12345678"):
        assert value not in str(issue)
