"""The options of REST and GraphQL reads, as typed models.

The same models are the parameters of the ``read_rest`` and ``read_graphql`` components,
so the builder's form, a managed source's options and ``pipeline_lab.read(..., **options)``
accept exactly the same names and values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from pipeline_lab.connectors import reference_forms, reference_problem
from pipeline_lab.errors import ConnectorError

AuthKind = Literal["none", "bearer", "basic", "api_key", "oauth2"]
SECRET_OF_AUTH: dict[str, str] = {
    "bearer": "token",
    "basic": "password",
    "api_key": "api_key",
    "oauth2": "client_secret",
}
"""The secret each kind of authentication needs (references in ``secrets``)."""


def secret_problem(secrets: Any) -> str | None:
    """What is wrong with ``secrets`` (names and references), never quoting a value."""
    if not isinstance(secrets, Mapping):
        return None  # the model reports the wrong type
    known = sorted(set(SECRET_OF_AUTH.values()))
    for key, ref in secrets.items():
        if key not in known:
            return f"unknown secret {key!r} (known: {', '.join(known)})"
        if reference_problem(ref) is not None:
            return (
                f"secret {key!r} must be a reference such as env:API_TOKEN "
                f"({reference_forms()}), never the secret itself (it would be stored)"
            )
    return None


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- pagination ----------------------------------------------------------------------------------
class PagePagination(_Options):
    """``?page=1&per_page=100``, then 2, 3, ... until a page is empty or short, or ``total``."""

    type: Literal["page"]
    page_param: str = Field("page", description="query parameter of the page number")
    size_param: str | None = Field("per_page", description="query parameter of the page size")
    size: int | None = Field(None, ge=1, description="records per page (sent when set)")
    start: int = Field(1, ge=0, description="number of the first page")
    total_path: str | None = Field(None, description="JSON path to the total record count")


class OffsetPagination(_Options):
    """``?offset=0&limit=100``, then 100, 200, ... until a page is empty or short, or ``total``."""

    type: Literal["offset"]
    offset_param: str = Field("offset", description="query parameter of the offset")
    limit_param: str = Field("limit", description="query parameter of the page size")
    size: int = Field(100, ge=1, description="records per page")
    start: int = Field(0, ge=0, description="offset of the first page")
    total_path: str | None = Field(None, description="JSON path to the total record count")


class CursorPagination(_Options):
    """The next cursor is in the body (``meta.next``); sent back as ``?cursor=...``."""

    type: Literal["cursor"]
    cursor_path: str = Field(description="JSON path to the next cursor in the response body")
    cursor_param: str = Field("cursor", description="query parameter the cursor is sent as")


class LinkPagination(_Options):
    """Follow the ``Link: <...>; rel="next"`` response header (GitHub style)."""

    type: Literal["link"]


def _pagination_shorthand(value: Any) -> Any:
    return {"type": value} if isinstance(value, str) else value


Pagination = Annotated[
    PagePagination | OffsetPagination | CursorPagination | LinkPagination,
    Field(discriminator="type"),
]


# -- what every HTTP read shares -------------------------------------------------------------------
class HttpOptions(_Options):
    """Authentication, records, limits and retries of a REST or GraphQL read."""

    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers")
    auth: AuthKind | None = Field(
        None, description="authentication (default: from the secrets given, else none)"
    )
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description="secret references by name (token, password, api_key, client_secret), "
        "e.g. {token: env:API_TOKEN}; never the secrets themselves",
    )
    username: str | None = Field(None, description="basic auth user")
    api_key_header: str = Field("X-API-Key", description="header that carries the API key")
    api_key_param: str | None = Field(
        None, description="query parameter that carries the API key (instead of the header)"
    )
    token_url: str | None = Field(None, description="OAuth2 token endpoint")
    client_id: str | None = Field(None, description="OAuth2 client id")
    scope: str | None = Field(None, description="OAuth2 scope")
    client_auth: Literal["basic", "body"] = Field(
        "basic", description="how the OAuth2 client authenticates to the token endpoint"
    )
    records_path: str | None = Field(
        None, description="JSON path to the records, e.g. data.items (default: found)"
    )
    flatten: bool = Field(True, description="nested objects become 'parent.child' columns")
    limit: int | None = Field(None, ge=0, description="stop after this many records")
    max_pages: int = Field(1000, ge=1, description="safety limit on requests for pages")
    timeout: float = Field(30.0, gt=0, description="seconds to wait for each response")
    retries: int = Field(3, ge=0, description="retries of a request on 429, 5xx and timeouts")
    backoff: float = Field(0.5, ge=0, description="first backoff ceiling in seconds (doubles)")
    backoff_cap: float = Field(30.0, ge=0, description="largest backoff in seconds")
    max_retry_wait: float = Field(
        60.0, ge=0, description="longest Retry-After honoured; a longer one fails at once"
    )

    @field_validator("secrets")
    @classmethod
    def _references(cls, secrets: dict[str, str]) -> dict[str, str]:
        problem = secret_problem(secrets)
        if problem:
            raise ValueError(problem)
        return secrets


class RestOptions(HttpOptions):
    """A REST read: one request, or one per page."""

    method: Literal["GET", "POST"] = Field("GET", description="HTTP method")
    params: dict[str, Any] = Field(default_factory=dict, description="query-string parameters")
    body: Any = Field(None, description="JSON body (POST)")
    pagination: Annotated[Pagination | None, BeforeValidator(_pagination_shorthand)] = Field(
        None, description="how to ask for the next page: page, offset, cursor or link"
    )

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class GraphQLOptions(HttpOptions):
    """A GraphQL read: a query, its variables, and the relay connection to page through."""

    query: str | None = Field(None, description="the GraphQL query")
    variables: dict[str, Any] = Field(default_factory=dict, description="the query's variables")
    connection_path: str | None = Field(
        None,
        description="path below data to a relay connection, e.g. orders (default: the only "
        "root field, when it is a connection)",
    )
    cursor_variable: str = Field("after", description="variable that receives pageInfo.endCursor")


OptionsT = TypeVar("OptionsT", bound=HttpOptions)


def parse_options(model: type[OptionsT], values: Mapping[str, Any], *, source: str) -> OptionsT:
    """``values`` validated as ``model``; a wrong name or value is a :class:`ConnectorError`."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"] if not isinstance(p, int))
            if error["type"] == "extra_forbidden":
                problems.append(f"unknown option '{where}'")
            else:
                problems.append(f"option '{where}': {error['msg']}")
        raise ConnectorError(
            "; ".join(problems),
            dataset=source,
            hint=f"{model.__name__} options: {', '.join(model.model_fields)}",
        ) from None
