"""REST APIs as data sources (kind ``http``): JSON records from one request or many pages.

>>> pipeline_lab.read(
...     "https://api.example.com/v1/orders",
...     params={"status": "paid"},
...     records_path="data.items",
...     pagination={"type": "page", "size": 100, "total_path": "meta.total"},
...     secrets={"token": "env:SHOP_TOKEN"},
... )

Options (:class:`RestOptions`; a managed source's options are defaults a read overrides):
``method`` (GET, POST), ``params`` (query string; ``read(params=...)`` adds to them),
``body`` (JSON), ``headers``; ``auth`` (bearer, basic, api_key, oauth2 — by default
implied by the secret references in ``secrets``: token, password, api_key,
client_secret), ``username``, ``api_key_header`` or ``api_key_param``, ``token_url``,
``client_id``, ``scope``, ``client_auth``; ``records_path``, ``flatten``; ``pagination``
(``page``, ``offset``, ``cursor``, ``link`` or a dict with its options), ``max_pages``,
``limit``; ``timeout``, ``retries``, ``backoff``, ``backoff_cap``, ``max_retry_wait``.
``table=`` is a path appended to the source's URL (a managed source at
``https://api.example.com/v1`` reads ``table="orders"``).

GraphQL endpoints are read by :mod:`pipeline_lab.connectors.graphql` (``graphql=True``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipeline_lab.connectors._http_client import HttpSession, Request
from pipeline_lab.connectors._http_options import GraphQLOptions, RestOptions, secret_problem
from pipeline_lab.connectors._http_source import HttpSource
from pipeline_lab.connectors._pagination import Page, paginator
from pipeline_lab.connectors._records import find_records, guess_records_path
from pipeline_lab.connectors._resolve import CONNECTORS
from pipeline_lab.connectors.graphql import GraphQLConnector
from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["GraphQLConnector", "GraphQLOptions", "RestConnector", "RestOptions", "secret_problem"]


class RestConnector(HttpSource[RestOptions]):
    """JSON over HTTP: one request, or every page of a paginated endpoint, as one frame."""

    kind = "http"
    Options = RestOptions

    def _read(
        self,
        *,
        table: str | None,
        query: str | None,
        params: Mapping[str, Any] | None,
        **options: Any,
    ) -> pl.DataFrame:
        if query is not None:
            raise ConnectorError(
                "a REST source takes no query=",
                dataset=self.describe(),
                hint="pass query-string parameters as params={...}; read a GraphQL endpoint "
                "with graphql=True",
            )
        opts = self.options(options)
        if params:
            opts = opts.model_copy(update={"params": {**opts.params, **params}})
        request = Request(opts.method, self.endpoint(table), opts.params, opts.body)
        path = opts.records_path

        def fetch(session: HttpSession, request: Request) -> Page:
            nonlocal path
            body, response = session.get_json(request)
            try:
                # Found on the first page, kept for the others (a last, empty page too).
                path = guess_records_path(body) if path is None else path
                return body, response, find_records(body, path)
            except ConnectorError as exc:
                exc.message = f"{exc.message}, from {session.where(request)}"
                raise

        return self.read_pages(opts, paginator(opts.pagination), request, fetch)

    def _ping(self) -> None:
        opts = self.options({})
        request = Request(opts.method, self.endpoint(), opts.params, opts.body)
        with self.session(opts) as session:
            session.ping(request)


CONNECTORS.register("http", RestConnector)
