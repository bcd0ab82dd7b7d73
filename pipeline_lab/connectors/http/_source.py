"""What REST and GraphQL connectors share: options, credentials, a session, the dataset identity."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pipeline_lab.connectors import ColumnInfo, Connector, DataSourceConfig, TableInfo
from pipeline_lab.connectors.http._auth import Credentials, Token, auth_kind
from pipeline_lab.connectors.http._client import TRANSIENT_ERRORS, HttpSession, Request, origin
from pipeline_lab.connectors.http._options import HttpOptions, parse_options
from pipeline_lab.connectors.http._pagination import Page, Paginator, walk
from pipeline_lab.connectors.http._records import records_frame
from pipeline_lab.errors import ConnectorError
from pipeline_lab.lineage import DatasetRef

if TYPE_CHECKING:
    import polars as pl

OptionsT = TypeVar("OptionsT", bound=HttpOptions)
# Options that pick the connector (see _resolve.split_options), not options of a read.
_PICKING = frozenset({"graphql"})


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pipeline-lab")
    except PackageNotFoundError:  # running from a source tree
        return "0"


class HttpSource(Connector, Generic[OptionsT]):
    """An HTTP API; the URL is the endpoint (REST) or the GraphQL endpoint."""

    Options: ClassVar[type[HttpOptions]]

    def __init__(self, config: DataSourceConfig) -> None:
        super().__init__(config)
        # OAuth2 access tokens of this source, reused until shortly before they expire.
        self._tokens: dict[tuple[str, ...], Token] = {}

    # -- identity ----------------------------------------------------------------------------------
    def endpoint(self, table: str | None = None) -> str:
        """The URL to read: the source's URL, with ``table`` appended to its path."""
        parts = urlsplit(self.config.url)
        netloc = parts.netloc.rsplit("@", 1)[-1]
        path = parts.path
        if table:
            path = f"{path.rstrip('/')}/{table.lstrip('/')}"
        return urlunsplit(parts._replace(netloc=netloc, path=path))

    def dataset(self, *, table: str | None = None, query: str | None = None) -> DatasetRef:
        """``https://host:port`` and the URL's path: no credentials, no query string."""
        url = self.endpoint(table)
        scheme, host, port = origin(url)
        return DatasetRef(f"{scheme}://{host}:{port}", urlsplit(url).path or "/")

    def is_transient(self, exc: BaseException) -> bool:
        return isinstance(exc, TRANSIENT_ERRORS) or super().is_transient(exc)

    def secret_values(self) -> list[str | None]:
        """The source's secrets, and the OAuth2 access tokens it got with them."""
        return [*super().secret_values(), *(token.value for token in self._tokens.values())]

    # -- options and sessions ----------------------------------------------------------------------
    def options(self, overrides: Mapping[str, Any]) -> OptionsT:
        """The source's options with this read's ``overrides``, validated."""
        values = {k: v for k, v in self.config.options.items() if k not in _PICKING}
        values.update({k: v for k, v in overrides.items() if k not in _PICKING})
        return parse_options(self.Options, values, source=self.describe())  # type: ignore[return-value]

    def session(self, options: HttpOptions) -> HttpSession:
        if options.secrets:
            # Secret references given to an ad-hoc read join the source's own, so they are
            # resolved, and scrubbed from messages, like those of a managed source.
            self.config = replace(self.config, secrets={**self.config.secrets, **options.secrets})
        kind = auth_kind(options, set(self.config.secrets))
        credentials = Credentials(
            kind,
            options,
            self.secret,
            source=self.describe(),
            username=urlsplit(self.config.url).username,
            tokens=self._tokens,
        )
        return HttpSession(
            options,
            credentials,
            base_url=self.config.url,
            source=self.describe(),
            scrub=self.scrub,
            version=_version(),
        )

    def _inspect(self) -> list[TableInfo]:
        """The endpoint, with the columns and types of its first records."""
        frame = self._read(table=None, query=None, params=None, limit=100)
        columns = tuple(ColumnInfo(n, str(t)) for n, t in frame.schema.items())
        return [TableInfo(self.dataset().name, columns, extra={"sampled_rows": frame.height})]

    def read_pages(
        self,
        options: HttpOptions,
        pages: Paginator,
        request: Request,
        fetch: Callable[[HttpSession, Request], Page],
    ) -> pl.DataFrame:
        """Every record of every page ``fetch`` gets, within the limits, as one frame."""
        with self.naming_source(), self.session(options) as session:
            records = list(
                walk(
                    pages,
                    request,
                    lambda request: fetch(session, request),
                    max_pages=options.max_pages,
                    limit=options.limit,
                    render=session.where,
                )
            )
        return records_frame(records, flatten=options.flatten)

    @contextmanager
    def naming_source(self) -> Iterator[None]:
        """Our errors raised without a dataset (paths, pagination) name this source."""
        try:
            yield
        except ConnectorError as exc:
            if exc.dataset is None:
                exc.dataset = self.describe()
            raise
