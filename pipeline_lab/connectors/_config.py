"""A data source's configuration: where it is and how to reach it, with secrets as references."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pipeline_lab.connectors._secrets import reference_forms
from pipeline_lab.errors import ConnectorError
from pipeline_lab.redact import safe_url


@dataclass(frozen=True)
class DataSourceConfig:
    """A managed (named) or ad-hoc data source.

    ``url`` never holds a secret: passwords, tokens and keys are *references* in ``secrets``
    (``{"password": "env:PG_PASSWORD"}``, ``{"token": "keyring:github/me"}``) resolved only
    when connecting, never stored, logged or shown.
    """

    kind: str
    url: str
    name: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if "://" in self.url:
            _check_authority(self.url)
        if "://" in self.url and urlsplit(self.url).password:
            raise ConnectorError(
                "the URL contains a password; it would be stored and shown",
                dataset=self.safe_url,
                hint="remove it from the URL and pass it as a secret reference, "
                "e.g. secrets={'password': 'env:PG_PASSWORD'}",
            )
        for key, ref in self.secrets.items():
            if not isinstance(ref, str) or ":" not in ref:
                raise ConnectorError(
                    f"secret '{key}' must be a reference such as {reference_forms()}",
                    dataset=self.safe_url,
                )

    @property
    def safe_url(self) -> str:
        """The URL with any password replaced by ``***`` (safe to display)."""
        return safe_url(self.url)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "url": self.url,
            "options": dict(self.options),
            "secrets": dict(self.secrets),
        }


def _check_authority(url: str) -> None:
    """Refuse a URL whose host and port cannot be read (``db:54x2``, ``db:``, ``[::1``)
    before a driver fails on it with its own words (``invalid literal for int()``)."""
    shown = safe_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        netloc = url.split("://", 1)[1].split("/", 1)[0].rpartition("@")[2]
        if "[" in netloc or "]" in netloc:
            what, hint = (
                f"its IPv6 host is not closed ('{netloc}')",
                "write an IPv6 host in brackets, e.g. postgresql://user@[::1]:5432/db",
            )
        else:
            port_text = netloc.rpartition(":")[2]
            what, hint = _port_problem(port_text, exc)
        raise ConnectorError(f"the URL is malformed: {what}", dataset=shown, hint=hint) from None
    host_and_port = parts.netloc.rpartition("@")[2]
    if port is None and host_and_port.endswith(":"):
        what, hint = _port_problem("", None)
        raise ConnectorError(f"the URL is malformed: {what}", dataset=shown, hint=hint)


def _port_problem(port: str, error: ValueError | None) -> tuple[str, str]:
    hint = (
        "write host:PORT with PORT a number from 1 to 65535 (e.g. db:5432), or leave out "
        "':PORT' for the default port"
    )
    if not port:
        return "its port is empty (nothing after ':')", hint
    if port.isdigit():
        return f"its port {port} is out of range (1 to 65535)", hint
    return f"its port '{port}' is not a number", hint
