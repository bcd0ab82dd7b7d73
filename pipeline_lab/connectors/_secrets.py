"""Secret references (``env:NAME``, ``keyring:SERVICE/USER``), resolved only to connect."""

from __future__ import annotations

import os

from pipeline_lab._deps import import_optional
from pipeline_lab.errors import ConnectorError


def resolve_secret(ref: str, *, source: str | None = None) -> str:
    """The secret ``ref`` points to; errors name the reference, never a value."""
    scheme, _, target = ref.partition(":")
    if scheme == "env":
        value = os.environ.get(target)
        if value is None:
            raise ConnectorError(
                f"the secret reference {ref!r} points to environment variable {target}, "
                "which is not set",
                dataset=source,
                hint=f"export {target}=... before running",
            )
        return value
    if scheme == "keyring":
        service, _, user = target.partition("/")
        keyring = import_optional("keyring", purpose="a keyring: secret reference")
        value = keyring.get_password(service, user)
        if value is None:
            raise ConnectorError(
                f"the keyring has no secret for service {service!r}, user {user!r} ({ref!r})",
                dataset=source,
                hint=f"store it: keyring set {service} {user}",
            )
        return value
    raise ConnectorError(
        f"unknown secret reference {ref!r}",
        dataset=source,
        hint="use env:NAME (an environment variable) or keyring:SERVICE/USER",
    )
