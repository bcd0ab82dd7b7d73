"""REST endpoints as a connector: one request, or every page, of JSON records as one frame."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipeline_lab.connectors import register_connector
from pipeline_lab.connectors.http._client import HttpSession, Request
from pipeline_lab.connectors.http._options import RestOptions
from pipeline_lab.connectors.http._pagination import Page, paginator
from pipeline_lab.connectors.http._records import find_records, guess_records_path
from pipeline_lab.connectors.http._source import HttpSource
from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    import polars as pl


@register_connector
class RestConnector(HttpSource[RestOptions]):
    """JSON over HTTP: one request, or every page of a paginated endpoint, as one frame."""

    kind = "http"
    schemes = ("http", "https")
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
