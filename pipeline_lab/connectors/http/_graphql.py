"""GraphQL endpoints as data sources (kind ``graphql``): a query, its variables, relay pages.

>>> pipeline_lab.read(
...     "https://api.example.com/graphql",
...     graphql=True,
...     query='''query($after: String) {
...         orders(first: 100, after: $after) {
...             edges { node { id amount customer { name } } }
...             pageInfo { hasNextPage endCursor }
...         }
...     }''',
...     secrets={"token": "env:SHOP_TOKEN"},
... )

The records are the nodes of a relay connection (``edges[*].node``, or ``nodes``) found at
``connection_path`` below ``data`` (by default the only root field, when it is a
connection); while its ``pageInfo.hasNextPage`` is true the query runs again with
``endCursor`` in the ``after`` variable (``cursor_variable``). Without a connection,
``records_path`` (below ``data``) points to a list. ``params=`` (or ``variables=``) are the
query's variables. A response with ``errors`` fails with their messages and paths, even
when it holds partial data. Authentication, retries and limits are those of REST reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pipeline_lab.connectors import TableInfo, register_connector
from pipeline_lab.connectors.http._client import HttpSession, Request
from pipeline_lab.connectors.http._options import GraphQLOptions
from pipeline_lab.connectors.http._pagination import Page, Paginator
from pipeline_lab.connectors.http._records import (
    find_records,
    guess_records_path,
    lookup,
)
from pipeline_lab.connectors.http._source import HttpSource
from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    import polars as pl

_SHOWN_ERRORS = 5


@register_connector
class GraphQLConnector(HttpSource[GraphQLOptions]):
    """A GraphQL query's records (every page of a relay connection) as one frame."""

    kind = "graphql"
    Options = GraphQLOptions

    def _read(
        self,
        *,
        table: str | None,
        query: str | None,
        params: Mapping[str, Any] | None,
        **options: Any,
    ) -> pl.DataFrame:
        if table is not None:
            raise ConnectorError(
                "a GraphQL source takes query=, not table=",
                dataset=self.describe(),
                hint="pass the query text as query='{ orders { ... } }'",
            )
        opts = self.options({**options, **({"query": query} if query is not None else {})})
        if params:
            opts = opts.model_copy(update={"variables": {**opts.variables, **params}})
        if not opts.query:
            raise ConnectorError(
                "no GraphQL query to run",
                dataset=self.describe(),
                hint="pass query='query($after: String) { orders(after: $after) { ... } }'",
            )
        request = Request(
            "POST", self.endpoint(), body={"query": opts.query, "variables": opts.variables}
        )
        pages = Relay(opts)
        return self.read_pages(opts, pages, request, pages.fetch)

    def _ping(self) -> None:
        request = Request("POST", self.endpoint(), body={"query": "{ __typename }"})
        with self.session(self.options({})) as session:
            graphql_data(session, request)

    def _inspect(self) -> list[TableInfo]:
        # Without a configured query there is nothing to sample (no schema introspection yet).
        return super()._inspect() if self.config.options.get("query") else []


def graphql_data(session: HttpSession, request: Request) -> tuple[Any, Any]:
    """The ``data`` of a GraphQL response; its ``errors`` (on any status) fail the read."""
    response = session.fetch(request)
    try:
        body = session.decode(response, request)
    except ConnectorError:
        if response.is_success:
            raise
        body = None  # an error status without a JSON body: report the status
    if isinstance(body, dict) and body.get("errors"):
        raise ConnectorError(
            session.scrub(
                f"GraphQL errors from {session.where(request)}: {_errors(body['errors'])}"
            ),
            dataset=session.source,
            hint="fix the query (field names, arguments, variable types) or its variables",
        )
    session.check(response, request)
    if not isinstance(body, dict) or "data" not in body:
        raise ConnectorError(
            f"not a GraphQL response (no 'data') from {session.where(request)}",
            dataset=session.source,
            hint="check that the URL is the GraphQL endpoint",
        )
    return body["data"], response


def _errors(errors: Any) -> str:
    if not isinstance(errors, list):
        return str(errors)
    shown = []
    for error in errors[:_SHOWN_ERRORS]:
        if not isinstance(error, dict):
            shown.append(str(error))
            continue
        text = str(error.get("message", error))
        where = []
        if error.get("path"):
            where.append("at " + ".".join(map(str, error["path"])))
        for loc in error.get("locations") or []:
            if isinstance(loc, dict):
                where.append(f"line {loc.get('line')}, column {loc.get('column')}")
        shown.append(text + (f" ({'; '.join(where)})" if where else ""))
    more = len(errors) - _SHOWN_ERRORS
    return " | ".join(shown) + (f" | and {more} more" if more > 0 else "")


class Relay(Paginator):
    """Relay cursor pagination: ``pageInfo { hasNextPage endCursor }`` into ``$after``."""

    def __init__(self, options: GraphQLOptions) -> None:
        self.options = options

    def connection(self, data: Any) -> dict[str, Any] | None:
        """The relay connection in ``data``: at ``connection_path``, or the only root field."""
        path = self.options.connection_path
        if path:
            value = lookup(data, path, what="connection_path")
            if value is None:
                return None
            if not isinstance(value, dict) or not ({"edges", "nodes"} & value.keys()):
                raise ConnectorError(
                    f"connection_path {path!r} is not a relay connection (no edges or nodes)",
                    hint="select edges { node { ... } } or nodes { ... } in the query, or use "
                    "records_path= for a plain list",
                )
            return value
        if isinstance(data, dict) and len(data) == 1:
            value = next(iter(data.values()))
            if isinstance(value, dict) and {"edges", "nodes"} & value.keys():
                return value
        return None

    def fetch(self, session: HttpSession, request: Request) -> Page:
        data, response = graphql_data(session, request)
        return data, response, self.records(data)

    def records(self, data: Any) -> list[Any]:
        if self.options.records_path:
            return find_records(data, self.options.records_path)
        connection = self.connection(data)
        if connection is None:
            return find_records(data, guess_records_path(data))
        if connection.get("edges") is not None:
            return [e["node"] for e in connection["edges"] if isinstance(e, dict) and "node" in e]
        return list(connection.get("nodes") or [])

    def next(self, request: Request, page: Page) -> Request | None:
        connection = self.connection(page[0])
        info = (connection or {}).get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return None
        cursor, variable = info.get("endCursor"), self.options.cursor_variable
        if not cursor:
            raise ConnectorError(
                "the connection has a next page but no pageInfo.endCursor",
                hint="select pageInfo { hasNextPage endCursor } in the query",
            )
        if not re.search(rf"\${re.escape(variable)}\b", self.options.query or ""):
            raise ConnectorError(
                f"the connection has more pages but the query does not use ${variable}",
                hint=f"declare query(${variable}: String) and pass {variable}: ${variable} to "
                "the connection, or set cursor_variable=",
            )
        body = dict(request.body)
        body["variables"] = {**body.get("variables", {}), variable: cursor}
        return replace(request, body=body)
