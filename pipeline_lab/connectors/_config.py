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
