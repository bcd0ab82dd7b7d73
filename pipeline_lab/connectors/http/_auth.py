"""Credentials on HTTP requests: bearer, basic, API key (header or query), OAuth2 client credentials.

Secrets come from the connector (resolved references) only when a request is built, and go
only to the source's own origin: a ``Link`` or redirect to another host gets no credentials.
An OAuth2 token is kept on the connector (``tokens``) until shortly before it expires, so
every page of a read, and the next read through the same connector, reuse it.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline_lab.connectors.http._options import SECRET_OF_AUTH, HttpOptions
from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    from pipeline_lab.connectors.http._client import HttpSession

Secret = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Token:
    """An OAuth2 access token and when to stop using it."""

    value: str
    expires_at: float

    def fresh(self) -> bool:
        return time.monotonic() < self.expires_at


def auth_kind(options: HttpOptions, available: set[str]) -> str:
    """The authentication to use: the one asked for, else the one the secrets given imply."""
    if options.auth is not None:
        return options.auth
    for kind in ("oauth2", "bearer", "api_key", "basic"):
        if SECRET_OF_AUTH[kind] in available:
            return kind
    return "none"


class Credentials:
    """Adds one source's credentials to its requests."""

    def __init__(
        self,
        kind: str,
        options: HttpOptions,
        secret: Secret,
        *,
        source: str,
        username: str | None,
        tokens: dict[tuple[str, ...], Token],
    ) -> None:
        self.kind = kind
        self.options = options
        self.source = source
        self.username = options.username or username
        self._secret = secret
        self._tokens = tokens
        self._token_key = (options.token_url or "", options.client_id or "", options.scope or "")
        if kind == "none":
            return
        self._require(SECRET_OF_AUTH[kind])
        if kind == "basic" and not self.username:
            raise ConnectorError(
                "basic auth needs a user name",
                dataset=source,
                hint="pass username=..., or put it in the URL (https://user@host/...)",
            )
        if kind == "oauth2" and not (options.token_url and options.client_id):
            raise ConnectorError(
                "OAuth2 client credentials need token_url and client_id",
                dataset=source,
                hint="pass token_url='https://.../oauth/token', client_id='...', "
                "secrets={'client_secret': 'env:CLIENT_SECRET'}",
            )

    def _require(self, key: str) -> str:
        value = self._secret(key)
        if not value:
            raise ConnectorError(
                f"auth '{self.kind}' needs the secret '{key}'",
                dataset=self.source,
                hint=f"pass secrets={{'{key}': 'env:NAME'}} (a reference, never the value)",
            )
        return value

    @property
    def secret_param(self) -> str | None:
        """The query parameter that carries a secret (never rendered in a URL)."""
        return self.options.api_key_param if self.kind == "api_key" else None

    def apply(self, headers: dict[str, str], params: dict[str, str], session: HttpSession) -> None:
        """Add the credentials to a request's headers, or to its secret query ``params``."""
        if self.kind == "bearer":
            headers["Authorization"] = f"Bearer {self._require('token')}"
        elif self.kind == "basic":
            pair = f"{self.username}:{self._require('password')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        elif self.kind == "api_key":
            if self.options.api_key_param:
                params[self.options.api_key_param] = self._require("api_key")
            else:
                headers[self.options.api_key_header] = self._require("api_key")
        elif self.kind == "oauth2":
            headers["Authorization"] = f"Bearer {self.access_token(session)}"

    def forget_token(self) -> bool:
        """Drop a cached OAuth2 token the server refused; whether there was one."""
        return self._tokens.pop(self._token_key, None) is not None

    def access_token(self, session: HttpSession) -> str:
        token = self._tokens.get(self._token_key)
        if token is None or not token.fresh():
            token = self._tokens[self._token_key] = self._request_token(session)
        return token.value

    def _request_token(self, session: HttpSession) -> Token:
        options = self.options
        form = {"grant_type": "client_credentials"}
        if options.scope:
            form["scope"] = options.scope
        headers: dict[str, str] = {"Accept": "application/json"}
        secret = self._require("client_secret")
        if options.client_auth == "basic":
            pair = f"{options.client_id}:{secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        else:
            form.update(client_id=options.client_id or "", client_secret=secret)
        started = time.monotonic()
        body = session.token_request(options.token_url or "", form, headers)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ConnectorError(
                f"the OAuth2 token endpoint {options.token_url} returned no access_token",
                dataset=self.source,
                hint="check token_url and that the client may use the client_credentials grant",
            )
        lifetime = body.get("expires_in")
        try:
            seconds = float(lifetime) if lifetime is not None else 3600.0
        except (TypeError, ValueError):
            seconds = 3600.0
        # Renew a little early, so a token does not expire between the check and the request.
        return Token(token, started + seconds - min(30.0, seconds / 10))
