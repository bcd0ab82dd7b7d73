"""One read's HTTP conversation: requests with credentials, retries, redirects and JSON checks.

Requests that may succeed later (429, 5xx other than 501/505, timeouts, refused or dropped
connections) are retried with full-jitter backoff, or after the ``Retry-After`` the server
asks for; when retries run out the error is a :class:`TransientConnectorError`, so the
node's own retries may try again. Everything else fails at once with the status, the
method and the URL (rendered without its secret query parameter) and the first characters
of the body, taken once the whole body is scrubbed (a secret cut in two would escape the mask).
"""

from __future__ import annotations

import json
import logging
import random
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx

from pipeline_lab._backoff import next_delay
from pipeline_lab.connectors.http._auth import Credentials
from pipeline_lab.connectors.http._options import HttpOptions
from pipeline_lab.connectors.http._retry import retry_after_seconds
from pipeline_lab.errors import ConnectorError, TransientConnectorError

log = logging.getLogger(__name__)

_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 5
_SNIPPET = 160
_SCRUBBED = 64 * 1024  # how much of an error body is searched for secrets, to show its start
# Transport failures a retry may fix; UnsupportedProtocol, LocalProtocolError and the like
# are mistakes in the request and fail at once.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


SECRET_QUERY = "pipeline_lab.secret_query"


class SecretQueryTransport(httpx.HTTPTransport):
    """Adds secret query parameters (an API key) on the way to the wire.

    httpx logs each request's URL (logger ``httpx``, level INFO) and keeps it on the
    response; both see the request as built, without the key, which only the copy sent
    carries.
    """

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        extensions = dict(request.extensions)
        secret = extensions.pop(SECRET_QUERY, None)
        if secret:
            request = httpx.Request(
                request.method,
                request.url.copy_merge_params(secret),
                headers=request.headers,
                stream=request.stream,
                extensions=extensions,
            )
        return super().handle_request(request)


def env_proxy(url: str) -> str | None:
    """The proxy the environment sets for ``url`` (``HTTPS_PROXY``, ``NO_PROXY``, ...), if any."""
    scheme, host, _ = origin(url)
    if urllib.request.proxy_bypass(host):
        return None
    proxies = urllib.request.getproxies_environment()
    return proxies.get(scheme) or proxies.get("all")


@dataclass(frozen=True)
class Request:
    """What to send; credentials are added when it is sent (and only to the source's origin)."""

    method: str
    url: str
    params: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None
    form: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    authenticated: bool = True


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def retryable_status(code: int) -> bool:
    return code == 429 or (code >= 500 and code not in (501, 505))


class HttpSession:
    """An ``httpx.Client`` for one read, with the source's credentials and retry policy."""

    def __init__(
        self,
        options: HttpOptions,
        credentials: Credentials,
        *,
        base_url: str,
        source: str,
        scrub: Callable[..., str],
        version: str = "0",
    ) -> None:
        self.options = options
        self.credentials = credentials
        self.origin = origin(base_url)
        self.source = source
        self.scrub = scrub
        self.rng = random.Random()
        headers = {"Accept": "application/json", "User-Agent": f"pipeline-lab/{version}"}
        scheme, host, port = self.origin
        self.client = httpx.Client(
            timeout=options.timeout,
            follow_redirects=False,
            headers={**headers, **options.headers},
            mounts={f"{scheme}://{host}:{port}": SecretQueryTransport(proxy=env_proxy(base_url))},
        )

    def __enter__(self) -> HttpSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    # -- rendering -------------------------------------------------------------------------------
    def render(self, url: str, params: Mapping[str, Any] | None = None) -> str:
        """``url`` with ``params``, as it may be shown: no user info, no secret parameter."""
        parts = urlsplit(without_userinfo(url))
        secret = self.credentials.secret_param
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != secret]
        query += [(k, str(v)) for k, v in (params or {}).items() if k != secret]
        return urlunsplit(parts._replace(query=urlencode(query)))

    def where(self, request: Request) -> str:
        return f"{request.method} {self.render(request.url, request.params)}"

    def _fail(
        self, message: str, *, hint: str | None = None, transient: bool = False
    ) -> ConnectorError:
        kind = TransientConnectorError if transient else ConnectorError
        return kind(self.scrub(message), dataset=self.source, hint=hint)

    def snippet(self, response: httpx.Response) -> str:
        """The body's first characters, once every secret in (the start of) it is masked.

        Only the first ``_SCRUBBED`` bytes are searched, without the word the limit cuts: a
        secret there could not be masked whole (a secret is one word).
        """
        text = response.content[:_SCRUBBED].decode("utf-8", errors="replace")
        if len(response.content) > _SCRUBBED:
            words = text.rsplit(None, 1)
            text = (words[0] if len(words) == 2 else "") + " ..."
        return self.scrub(text, limit=_SNIPPET)

    # -- sending ---------------------------------------------------------------------------------
    def fetch(self, request: Request, *, retries: int | None = None) -> httpx.Response:
        """The response to ``request`` once no retry is due (any status a retry cannot fix)."""
        retries = self.options.retries if retries is None else retries
        attempt, renewed = 0, False
        while True:
            attempt += 1
            try:
                response = self._send(request)
            except TRANSIENT_ERRORS as exc:
                if attempt > retries:
                    raise self._transport_failure(request, exc, attempt) from exc
                self._pause(attempt, None, request, type(exc).__name__)
                continue
            except httpx.TransportError as exc:
                raise self._transport_failure(request, exc, attempt) from exc
            code = response.status_code
            # A cached OAuth2 token the server no longer accepts: fetch a new one, once.
            if code == 401 and request.authenticated and not renewed:
                renewed = self.credentials.forget_token()
                if renewed:
                    continue
            if not retryable_status(code):
                return response
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            status = f"HTTP {code} {response.reason_phrase}"
            if attempt > retries:
                raise self._fail(
                    f"{status} from {self.where(request)} after {attempt} attempt(s): "
                    f"{self.snippet(response)}",
                    hint="the service is failing or rate limiting; try again later, or raise "
                    "retries=",
                    transient=True,
                )
            if wait is not None and wait > self.options.max_retry_wait:
                raise self._fail(
                    f"{status} from {self.where(request)}: the server asks to wait {wait:g} s "
                    f"(Retry-After), more than max_retry_wait={self.options.max_retry_wait:g} s",
                    hint="run again later, or raise max_retry_wait=",
                    transient=True,
                )
            self._pause(attempt, wait, request, status)

    def _pause(self, attempt: int, wait: float | None, request: Request, why: str) -> None:
        if wait is None:
            wait = next_delay(
                attempt, self.options.backoff, 2.0, self.options.backoff_cap, self.rng
            )
        log.info(
            "%s from %s; retry %d/%d in %.2f s",
            why,
            self.where(request),
            attempt,
            self.options.retries,
            wait,
        )
        time.sleep(wait)

    def _send(self, request: Request) -> httpx.Response:
        """Send once, following redirects; credentials go only to the source's own origin."""
        method, url, params = request.method, request.url, dict(request.params)
        body, form = request.body, request.form
        for _ in range(_MAX_REDIRECTS + 1):
            headers, secret_query = dict(request.headers), dict[str, str]()
            if request.authenticated and origin(url) == self.origin:
                self.credentials.apply(headers, secret_query, self)
            # Merged here: httpx's params= would replace the query string the URL already has.
            target = httpx.URL(without_userinfo(url)).copy_merge_params(params)
            response = self.client.request(
                method,
                target,
                json=body,
                data=form,
                headers=headers,
                extensions={SECRET_QUERY: secret_query} if secret_query else None,
            )
            location = response.headers.get("Location")
            if response.status_code not in _REDIRECTS or not location:
                return response
            url, params = urljoin(str(response.url), location), {}
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method != "GET"
            ):
                method, body, form = "GET", None, None
        raise self._fail(f"more than {_MAX_REDIRECTS} redirects from {self.where(request)}")

    def _transport_failure(self, request: Request, exc: Exception, attempts: int) -> ConnectorError:
        _, host, port = origin(request.url)
        transient = isinstance(exc, TRANSIENT_ERRORS)
        tried = f" after {attempts} attempt(s)" if transient else ""
        if isinstance(exc, httpx.TimeoutException):
            return self._fail(
                f"no response from {self.where(request)} within {self.options.timeout:g} s "
                f"({type(exc).__name__}){tried}",
                hint="the service is slow or down; raise timeout= or try again later",
                transient=True,
            )
        if isinstance(exc, httpx.ConnectError):
            return self._fail(
                f"cannot connect to {host}:{port} for {self.where(request)}: {exc}{tried}",
                hint="check that the service runs and the host and port are right",
                transient=True,
            )
        return self._fail(
            f"{type(exc).__name__} from {self.where(request)}: {exc}{tried}", transient=transient
        )

    # -- checking --------------------------------------------------------------------------------
    def check(self, response: httpx.Response, request: Request, *, what: str = "") -> None:
        """Fail with the status, the method and URL, and the body's first bytes, unless 2xx."""
        code = response.status_code
        if 200 <= code < 300:
            return
        hint = None
        if code in (401, 403):
            kind = self.credentials.kind
            hint = (
                "the source needs credentials: pass auth= and secrets={...: 'env:NAME'}"
                if kind == "none"
                else f"check the credentials of auth '{kind}' (the secret may be wrong or expired)"
            )
        elif code == 404:
            hint = "check the URL's path (and table=, which is appended to it)"
        raise self._fail(
            f"{what}HTTP {code} {response.reason_phrase} from {self.where(request)}"
            + (f": {self.snippet(response)}" if response.content else ""),
            hint=hint,
        )

    def decode(self, response: httpx.Response, request: Request, *, show: bool = True) -> Any:
        """The JSON body; HTML, XML and malformed JSON fail with the first bytes (if ``show``)."""
        if response.status_code == 204 or not response.content.strip():
            return None
        ctype = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        first = f": {self.snippet(response)!r}" if show else ""
        if ctype and "json" not in ctype and ctype != "text/plain":
            raise self._fail(
                f"expected JSON, got {ctype} from {self.where(request)}{first}",
                hint="check the URL: it may point to a web page, a login page or a proxy error",
            )
        try:
            return json.loads(response.content)
        except ValueError as exc:
            at = (
                f" (line {exc.lineno}, column {exc.colno}: {exc.msg})"
                if isinstance(exc, json.JSONDecodeError)
                else ""
            )
            raise self._fail(
                f"invalid JSON from {self.where(request)}{at}{first}",
                hint="the service sent a broken or truncated body; try again, or report it",
            ) from None

    def get_json(self, request: Request) -> tuple[Any, httpx.Response]:
        """Fetch, check the status, decode: the body and the response (for its headers)."""
        response = self.fetch(request)
        self.check(response, request)
        return self.decode(response, request), response

    def ping(self, request: Request) -> None:
        """One round trip without retries; fails unless the status is 2xx."""
        response = self.fetch(request, retries=0)
        self.check(response, request)

    def token_request(self, url: str, form: dict[str, str], headers: dict[str, str]) -> Any:
        """POST an OAuth2 token request (no source credentials; the body is never shown)."""
        request = Request("POST", url, form=form, headers=headers, authenticated=False)
        response = self.fetch(request)
        self.check(response, request, what="the OAuth2 token request failed: ")
        return self.decode(response, request, show=False)
