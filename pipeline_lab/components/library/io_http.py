"""Sources from HTTP APIs: ``read_rest`` (JSON over REST) and ``read_graphql``.

Their parameters are the connectors' own option models (plus the ``url``), so a component
node, a managed source and ``pipeline_lab.read(url, **options)`` take the same options; see
:mod:`pipeline_lab.connectors.http` and :mod:`pipeline_lab.connectors.http (GraphQLConnector)`. Secrets are
references (``secrets: {token: env:API_TOKEN}``): a literal token is refused, since the
parameters are stored in the notebook.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, Field

from pipeline_lab.components import component
from pipeline_lab.components._base import (
    ColumnLineage,
    Component,
    ComponentError,
    ComponentParams,
)
from pipeline_lab.connectors.http import GraphQLOptions, RestOptions, secret_problem
from pipeline_lab.redact import masked_options

if TYPE_CHECKING:
    import polars as pl


def _http_url(url: str) -> str:
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"expected an http:// or https:// URL, got {url!r}")
    return url


HttpUrl = Annotated[str, AfterValidator(_http_url)]


class ReadRestParams(ComponentParams, RestOptions):
    url: HttpUrl = Field(description="the endpoint, e.g. https://api.example.com/v1/orders")


class ReadGraphQLParams(ComponentParams, GraphQLOptions):
    url: HttpUrl = Field(description="the GraphQL endpoint, e.g. https://api.example.com/graphql")
    query: str = Field(description="the GraphQL query (declare $after to page a connection)")


class _HttpSource(Component[Any]):
    """A source that reads ``url`` with its options when the node runs."""

    category = "source"
    picking: dict[str, Any] = {}

    def __init__(self, params: Mapping[str, Any] | ComponentParams, *, node: str | None = None):
        # Checked before the model: its validation errors quote the input, and a literal
        # secret typed where a reference belongs must not be echoed into the output.
        if isinstance(params, Mapping):
            problem = secret_problem(params.get("secrets"))
            if problem:
                raise ComponentError(
                    f"component '{self.name}': parameter 'secrets': {problem}", node=node
                )
            # A node's parameters are kept in the notebook and in saved versions: a credential
            # among them (a Cookie header, a bearer token, a URL with a password) is refused,
            # by name or by value, as for managed sources; say where, never what.
            if masked_options(params) != dict(params):
                where = [k for k, v in params.items() if masked_options({k: v})[k] != v]
                raise ComponentError(
                    f"component '{self.name}': parameter {where[0]!r} holds a credential, which "
                    "would be kept in the notebook and in every saved version",
                    node=node,
                    hint="pass it as a secret reference: secrets: {token: env:API_TOKEN} with "
                    "auth: bearer (or basic, api_key), resolved only when the node runs",
                )
        super().__init__(params, node=node)

    def options(self) -> dict[str, Any]:
        """The options that differ from the defaults, as ``pipeline_lab.read`` takes them."""
        return self.params.model_dump(exclude_defaults=True, exclude={"url"})

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        from pipeline_lab.connectors import read

        return read(self.params.url, **self.picking, **self.options()).lazy()

    def columns(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> list[ColumnLineage]:
        # A source's columns are known only by reading it; it has no input columns to trace.
        return []

    def to_code(self) -> str:
        options = {**self.picking, **self.options()}
        args = [repr(self.params.url), *(f"{k}={v!r}" for k, v in options.items())]
        return f"pipeline_lab.read({', '.join(args)})"


@component
class ReadRest(_HttpSource):
    """Read JSON records from a REST endpoint: every page, one frame with a stable schema."""

    name = "read_rest"
    description = "Read JSON records from a REST API (auth, pagination, retries)"
    Params = ReadRestParams


@component
class ReadGraphQL(_HttpSource):
    """Read the records of a GraphQL query, following a relay connection's pages."""

    name = "read_graphql"
    description = "Read the records of a GraphQL query (relay pagination)"
    Params = ReadGraphQLParams
    picking = {"graphql": True}
