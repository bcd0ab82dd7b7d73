"""A small JSON and GraphQL API for the HTTP connector tests (stdlib WSGI, one thread per request).

:class:`ApiServer` runs :class:`ApiApp` on 127.0.0.1 on a free port in a daemon thread. The
app counts requests per ``key`` query parameter (so tests that share the server do not
share counters) and serves:

=========================  ====================================================================
``/items``                 25 items; ``page``/``per_page`` or ``offset``/``limit``; ``meta.total``
``/cursor``                ``{"items": [...], "meta": {"next": cursor | null}}``
``/link``                  a plain list per page, next page in a ``Link: rel="next"`` header
``/bearer/items``          needs ``Authorization: Bearer <BEARER_TOKEN>``
``/basic/items``           needs basic auth ``BASIC_USER``/``BASIC_PASSWORD``
``/apikey/items``          needs ``X-API-Key`` or ``?api_key=`` = ``API_KEY``
``/oauth/token``           OAuth2 client credentials (basic or body client auth)
``/oauth/items``           paged items, needs a token from ``/oauth/token`` that has not expired
``/echo``                  the request as one record; ``?next=URL`` adds a ``Link`` to ``URL``
``/redirect``              302 to ``/items`` (same origin)
``/flaky``                 ``fail`` times 503, then 200; ``/always500``: always 500
``/html``, ``/badjson``    a web page; a truncated JSON body
``/ratelimited``           the first request of a key gets 429 + ``Retry-After: retry_after``
``/slow``                  sleeps ``seconds`` before answering
``/leaky``                 an error (``status``, 400) whose text body repeats what was sent
                           (``echo``: credential, header, decoded, urlencoded, cookie, x-auth,
                           proxy, api_key) after ``pad`` dots (or spaces: ``pad_with=space``),
                           as careless servers do
``/graphql``               ``orders(first, after)`` relay connection; errors for bad queries
=========================  ====================================================================
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from email.utils import formatdate
from io import StringIO
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qsl, quote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

BEARER_TOKEN = "bearer-s3cret-token"
BASIC_USER, BASIC_PASSWORD = "ana", "basic-s3cret-pw"
API_KEY = "apikey-s3cret-value"
CLIENT_ID, CLIENT_SECRET = "pipeline-lab", "oauth-s3cret-client"

Response = tuple[int, dict[str, str], bytes]
Environ = dict[str, Any]


def item(i: int) -> dict[str, Any]:
    """Item ``i``: nested owner; ``code`` is a number on the first page and text after it;
    ``discount`` only appears on later pages; ``note`` is null on the first page."""
    record: dict[str, Any] = {
        "id": i,
        "name": f"item {i}",
        "price": 10 if i % 2 else 10.5,
        "tags": ["even" if i % 2 == 0 else "odd"],
        "owner": {"name": f"owner {i % 3}", "address": {"city": "Paris" if i % 2 else "Lyon"}},
        "code": i if i <= 10 else f"C{i}",
        "note": None if i <= 10 else f"note {i}",
    }
    if i > 20:
        record["discount"] = 0.5
    return record


ITEMS = [item(i) for i in range(1, 26)]
ORDERS = [
    {
        "id": f"o{i}",
        "amount": round(9.5 * i, 2),
        "status": "paid" if i % 3 else "refunded",
        "customer": {"name": f"customer {i}", "email": f"c{i}@example.com"},
        "items": [f"sku-{i}", f"sku-{i + 1}"],
    }
    for i in range(1, 8)
]


def _json(status: int, body: Any, **headers: str) -> Response:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(body).encode()


class ApiApp:
    """The WSGI application; its counters and token lifetime are what tests look at or set."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.times: dict[str, list[float]] = {}
        self.tokens: dict[str, float] = {}  # access token -> expiry (monotonic)
        self.token_lifetime = 3600  # the expires_in the token endpoint announces
        self.token_validity: float | None = None  # how long tokens are accepted (default: that)
        self.routes: dict[str, Callable[[Environ, dict[str, str]], Response]] = {
            "/items": self.items,
            "/cursor": self.cursor,
            "/link": self.link,
            "/bearer/items": self.bearer,
            "/basic/items": self.basic,
            "/apikey/items": self.apikey,
            "/oauth/token": self.oauth_token,
            "/oauth/items": self.oauth_items,
            "/echo": self.echo,
            "/redirect": self.redirect,
            "/flaky": self.flaky,
            "/always500": self.always500,
            "/html": self.html,
            "/badjson": self.badjson,
            "/ratelimited": self.ratelimited,
            "/slow": self.slow,
            "/leaky": self.leaky,
            "/graphql": self.graphql,
        }

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        path = environ.get("PATH_INFO", "/")
        self.count(f"{path}:{query.get('key', '')}")
        route = self.routes.get(path)
        status, headers, body = route(environ, query) if route else _json(404, {"error": "nope"})
        reason = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized"}.get(
            status,
            {404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}.get(
                status, "Service Unavailable"
            ),
        )
        start_response(f"{status} {reason}", [*headers.items(), ("Content-Length", str(len(body)))])
        return [body]

    def count(self, key: str) -> int:
        with self.lock:
            self.hits[key] += 1
            self.times.setdefault(key, []).append(time.monotonic())
            return self.hits[key]

    # -- pages -----------------------------------------------------------------------------------
    def items(self, environ: Environ, query: dict[str, str]) -> Response:
        if "offset" in query:
            start, size = int(query["offset"]), int(query.get("limit", 10))
        else:
            size = int(query.get("per_page", 10))
            start = (int(query.get("page", 1)) - 1) * size
        return _json(200, {"data": ITEMS[start : start + size], "meta": {"total": len(ITEMS)}})

    def cursor(self, environ: Environ, query: dict[str, str]) -> Response:
        start = int(query.get("cursor", "c0")[1:])
        following = f"c{start + 10}" if start + 10 < len(ITEMS) else None
        return _json(200, {"items": ITEMS[start : start + 10], "meta": {"next": following}})

    def link(self, environ: Environ, query: dict[str, str]) -> Response:
        page = int(query.get("page", 1))
        base = f"http://{environ['HTTP_HOST']}/link"
        links = [f'<{base}?page=3>; rel="last"']
        if page < 3:
            links.insert(0, f'<{base}?page={page + 1}>; rel="next"')
        return _json(200, ITEMS[(page - 1) * 10 : page * 10], Link=", ".join(links))

    # -- authentication --------------------------------------------------------------------------
    def _refuse(self) -> Response:
        return _json(401, {"error": "unauthorized"}, **{"WWW-Authenticate": "Bearer"})

    def bearer(self, environ: Environ, query: dict[str, str]) -> Response:
        if environ.get("HTTP_AUTHORIZATION") != f"Bearer {BEARER_TOKEN}":
            return self._refuse()
        return _json(200, {"data": ITEMS[:3]})

    def basic(self, environ: Environ, query: dict[str, str]) -> Response:
        pair = base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode()
        if environ.get("HTTP_AUTHORIZATION") != f"Basic {pair}":
            return self._refuse()
        return _json(200, {"data": ITEMS[:3]})

    def apikey(self, environ: Environ, query: dict[str, str]) -> Response:
        if API_KEY not in (environ.get("HTTP_X_API_KEY"), query.get("api_key")):
            return self._refuse()
        return _json(200, {"data": ITEMS[:3]})

    def oauth_token(self, environ: Environ, query: dict[str, str]) -> Response:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(size).decode()))
        client = (form.get("client_id"), form.get("client_secret"))
        header = environ.get("HTTP_AUTHORIZATION", "")
        if header.startswith("Basic "):
            client = tuple(base64.b64decode(header[6:]).decode().split(":", 1))  # type: ignore[assignment]
        if client != (CLIENT_ID, CLIENT_SECRET) or form.get("grant_type") != "client_credentials":
            return _json(401, {"error": "invalid_client"})
        number = self.count("oauth-token")
        token = f"access-{number}"
        with self.lock:
            validity = self.token_lifetime if self.token_validity is None else self.token_validity
            self.tokens[token] = time.monotonic() + validity
        return _json(
            200, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime}
        )

    def oauth_items(self, environ: Environ, query: dict[str, str]) -> Response:
        token = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
        with self.lock:
            expiry = self.tokens.get(token)
        if expiry is None or expiry < time.monotonic():
            return self._refuse()
        return self.items(environ, query)

    # -- requests as records ---------------------------------------------------------------------
    def echo(self, environ: Environ, query: dict[str, str]) -> Response:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(size) if size else b""
        headers = {k[5:].lower(): v for k, v in environ.items() if k.startswith("HTTP_X_")}
        record = {
            "method": environ["REQUEST_METHOD"],
            "query": query,
            "json": json.loads(raw) if raw else None,
            "headers": headers,
            "accept": environ.get("HTTP_ACCEPT"),
            "authorized": "HTTP_AUTHORIZATION" in environ,
            "host": environ.get("HTTP_HOST"),
        }
        following = query.get("next")  # a Link to follow, possibly on another origin
        return _json(200, record, **({"Link": f'<{following}>; rel="next"'} if following else {}))

    def redirect(self, environ: Environ, query: dict[str, str]) -> Response:
        return 302, {"Location": "/items?per_page=4"}, b""

    # -- failures --------------------------------------------------------------------------------
    def flaky(self, environ: Environ, query: dict[str, str]) -> Response:
        attempt = self.hits[f"/flaky:{query.get('key', '')}"]
        if attempt <= int(query.get("fail", 2)):
            return _json(503, {"error": "try later"})
        return _json(200, {"data": [{"attempt": attempt}]})

    def always500(self, environ: Environ, query: dict[str, str]) -> Response:
        return 500, {"Content-Type": "text/plain"}, b"database on fire"

    def html(self, environ: Environ, query: dict[str, str]) -> Response:
        page = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Please sign in</body></html>"
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page

    def badjson(self, environ: Environ, query: dict[str, str]) -> Response:
        return 200, {"Content-Type": "application/json"}, b'{"data": [{"id": 1}, {"id": 2'

    def ratelimited(self, environ: Environ, query: dict[str, str]) -> Response:
        if self.hits[f"/ratelimited:{query.get('key', '')}"] == 1:
            wait = query.get("retry_after", "1")
            if wait == "date":
                wait = formatdate(time.time() + 2, usegmt=True)
            return _json(429, {"error": "slow down"}, **{"Retry-After": wait})
        return _json(200, {"data": [{"ok": True}]})

    def slow(self, environ: Environ, query: dict[str, str]) -> Response:
        time.sleep(float(query.get("seconds", 1)))
        return _json(200, {"data": [{"slow": True}]})

    def leaky(self, environ: Environ, query: dict[str, str]) -> Response:
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        credential = authorization.split(" ", 1)[-1]
        decoded = ""
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(credential).decode()
        said = {
            "credential": credential,
            "header": f"Authorization: {authorization}",
            "decoded": f"user and password {decoded}",
            "urlencoded": f"login?auth={quote(decoded or credential, safe='')}",
            "cookie": f"Cookie: {environ.get('HTTP_COOKIE', '')}",
            "x-auth": f'{{"X-Auth": "{environ.get("HTTP_X_AUTH", "")}"}}',
            "proxy": f"Proxy-Authorization: {environ.get('HTTP_PROXY_AUTHORIZATION', '')}",
            "api_key": f"unknown key {query.get('api_key', '')}",
        }[query.get("echo", "credential")]
        padding = (" " if query.get("pad_with") == "space" else ".") * int(query.get("pad", 0))
        body = padding + " " + said + " (end)"
        return int(query.get("status", 400)), {"Content-Type": "text/plain"}, body.encode()

    # -- GraphQL ---------------------------------------------------------------------------------
    def graphql(self, environ: Environ, query: dict[str, str]) -> Response:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        request = json.loads(environ["wsgi.input"].read(size) or b"{}")
        try:
            selection = parse_graphql(request.get("query", ""))
        except GraphQLSyntaxError as exc:
            return _json(400, {"errors": [exc.as_error()]})
        errors: list[dict[str, Any]] = []
        data = resolve(selection, "Query", None, request.get("variables") or {}, [], errors)
        # A field unknown to the schema is one validation error, however many nodes there are.
        errors = list({json.dumps(e, sort_keys=True): e for e in errors}.values())
        return _json(
            200,
            {
                "data": None if any("path" not in e for e in errors) else data,
                **({"errors": errors} if errors else {}),
            },
        )


# -- a GraphQL subset: one query, fields with arguments and variables ----------------------------
_TOKEN = re.compile(r'\s*(?:(#[^\n]*)|([{}():!,\[\]=$])|("[^"]*")|(-?\d+)|([A-Za-z_]\w*))')
SCHEMA: dict[str, dict[str, str]] = {
    "Query": {"orders": "OrderConnection", "__typename": "String"},
    "OrderConnection": {
        "edges": "OrderEdge",
        "nodes": "Order",
        "pageInfo": "PageInfo",
        "totalCount": "Int",
    },
    "OrderEdge": {"cursor": "String", "node": "Order"},
    "Order": {
        "id": "ID",
        "amount": "Float",
        "status": "String",
        "customer": "Customer",
        "items": "String",
        "failing": "String",
    },
    "Customer": {"name": "String", "email": "String"},
    "PageInfo": {"hasNextPage": "Boolean", "endCursor": "String"},
}


class GraphQLSyntaxError(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line, self.column = line, column

    def as_error(self) -> dict[str, Any]:
        return {
            "message": f"Syntax Error: {self}",
            "locations": [{"line": self.line, "column": self.column}],
        }


Field = tuple[
    str, str, dict[str, Any], list[Any], tuple[int, int]
]  # alias, name, args, fields, loc


def parse_graphql(text: str) -> list[Field]:
    tokens: list[tuple[str, tuple[int, int]]] = []
    position = 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None:
            line = text.count("\n", 0, position) + 1
            raise GraphQLSyntaxError(
                f"unexpected {text[position]!r}", line, position - text.rfind("\n", 0, position)
            )
        if match.group(1) is None:
            start = match.start(match.lastindex or 0)
            loc = (text.count("\n", 0, start) + 1, start - text.rfind("\n", 0, start))
            tokens.append((match.group(match.lastindex or 0), loc))
        position = match.end()
    stream = iter([*tokens, ("<end>", (0, 0))])
    current = next(stream)

    def take(expected: str | None = None) -> tuple[str, tuple[int, int]]:
        nonlocal current
        token = current
        if token[0] == "<end>" or (expected is not None and token[0] != expected):
            found = "the end" if token[0] == "<end>" else token[0]
            raise GraphQLSyntaxError(f"expected {expected or 'more'}, found {found}", *token[1])
        current = next(stream)
        return token

    def value() -> Any:
        token = take()[0]
        if token == "$":
            return ("var", take()[0])
        if token.startswith('"'):
            return token[1:-1]
        if re.fullmatch(r"-?\d+", token):
            return int(token)
        return {"true": True, "false": False, "null": None}.get(token, token)

    def selection() -> list[Field]:
        take("{")
        fields: list[Field] = []
        while current[0] != "}":
            name, loc = take()
            alias = name
            if current[0] == ":":
                take(":")
                name, loc = take()
            args: dict[str, Any] = {}
            if current[0] == "(":
                take("(")
                while current[0] != ")":
                    key = take()[0]
                    take(":")
                    args[key] = value()
                    if current[0] == ",":
                        take(",")
                take(")")
            fields.append((alias, name, args, selection() if current[0] == "{" else [], loc))
        take("}")
        return fields

    if current[0] == "query":
        take()
        if current[0] not in ("{", "("):
            take()
        if current[0] == "(":
            while current[0] != ")":
                take()
            take(")")
    fields = selection()
    if current[0] != "<end>":
        raise GraphQLSyntaxError(f"unexpected {current[0]} after the query", *current[1])
    return fields


def resolve(
    fields: list[Field],
    kind: str,
    parent: Any,
    variables: dict[str, Any],
    path: list[Any],
    errors: list[dict[str, Any]],
) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for alias, name, args, sub, (line, column) in fields:
        where = [*path, alias]
        if name not in SCHEMA[kind]:
            errors.append(
                {
                    "message": f'Cannot query field "{name}" on type "{kind}".',
                    "locations": [{"line": line, "column": column}],
                }
            )
            continue
        args = {k: variables.get(v[1]) if isinstance(v, tuple) else v for k, v in args.items()}
        child = SCHEMA[kind][name]
        if name == "__typename":
            out[alias] = kind
        elif name == "orders":
            first, after = int(args.get("first") or 3), args.get("after")
            start = int(after.split(":")[1]) + 1 if after else 0
            chunk = list(enumerate(ORDERS))[start : start + first]
            value = {
                "edges": [{"cursor": f"cursor:{i}", "node": order} for i, order in chunk],
                "nodes": [order for _, order in chunk],
                "pageInfo": {
                    "hasNextPage": start + first < len(ORDERS),
                    "endCursor": f"cursor:{chunk[-1][0]}" if chunk else None,
                },
                "totalCount": len(ORDERS),
            }
            out[alias] = resolve(sub, child, value, variables, where, errors)
        elif name == "failing":
            errors.append(
                {
                    "message": "the failing field always fails",
                    "path": where,
                    "locations": [{"line": line, "column": column}],
                }
            )
            out[alias] = None
        else:
            value = parent.get(name) if isinstance(parent, dict) else None
            if child in SCHEMA and isinstance(value, list):
                out[alias] = [
                    resolve(sub, child, v, variables, [*where, n], errors)
                    for n, v in enumerate(value)
                ]
            elif child in SCHEMA:
                out[alias] = (
                    resolve(sub, child, value, variables, where, errors)
                    if value is not None
                    else None
                )
            else:
                out[alias] = value
    return out


# -- the server ----------------------------------------------------------------------------------
class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log in test output."""

    def get_stderr(self) -> StringIO:
        # A client that timed out closes its socket; the late write's error is expected.
        return StringIO()


class ApiServer:
    """:class:`ApiApp` served on 127.0.0.1:<free port> until :meth:`stop`."""

    def __init__(self) -> None:
        self.app = ApiApp()
        self.server = make_server(
            "127.0.0.1", 0, self.app, server_class=_Server, handler_class=_QuietHandler
        )
        self.port = self.server.server_port
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="http-api", daemon=True
        )
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str, key: str = "") -> int:
        with self.app.lock:
            return self.app.hits[f"{path}:{key}"]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
