"""Secret references (``env:NAME``, ``keyring:SERVICE/USER``), resolved only to connect.

A reference is ``PROVIDER:TARGET``. Providers are a registry: ``env`` and ``keyring`` are
built in, and an installed package adds its own under the ``pipeline_lab.secret_providers``
entry-point group, pointing to a :class:`SecretProvider` instance::

    [project.entry-points."pipeline_lab.secret_providers"]
    vault = "acme_secrets:vault"
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from typing import ClassVar

from pipeline_lab._deps import import_optional
from pipeline_lab.errors import ConnectorError
from pipeline_lab.registry import Registry

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SecretProvider(ABC):
    """Where the secrets of one kind of reference live (``env`` -> environment variables)."""

    target: ClassVar[str] = "NAME"
    """The form of what follows ``PROVIDER:``, for hints (``SERVICE/USER``)."""

    def problem(self, target: str) -> str | None:
        """What is wrong with ``target`` as written (``None`` if nothing); never quote it."""
        return None if target else f"it names no {self.target}"

    @abstractmethod
    def resolve(self, target: str, *, ref: str, source: str | None) -> str:
        """The secret ``target`` names; a missing one is a ``ConnectorError`` naming ``ref``."""


class EnvironmentVariables(SecretProvider):
    """``env:NAME``: the environment variable ``NAME``."""

    target = "NAME"

    def problem(self, target: str) -> str | None:
        if _ENV_NAME.match(target):
            return None
        return "an environment variable name has letters, digits and '_' only"

    def resolve(self, target: str, *, ref: str, source: str | None) -> str:
        value = os.environ.get(target)
        if value is None:
            raise ConnectorError(
                f"the secret reference {ref!r} points to environment variable {target}, "
                "which is not set",
                dataset=source,
                hint=f"export {target}=... before running",
            )
        return value


class Keyring(SecretProvider):
    """``keyring:SERVICE/USER``: the system keyring's password for a service and user."""

    target = "SERVICE/USER"

    def problem(self, target: str) -> str | None:
        service, slash, user = target.partition("/")
        return None if service and slash and user else "a keyring reference is SERVICE/USER"

    def resolve(self, target: str, *, ref: str, source: str | None) -> str:
        service, _, user = target.partition("/")
        keyring = import_optional("keyring", purpose="a keyring: secret reference")
        value = keyring.get_password(service, user)
        if value is None:
            raise ConnectorError(
                f"the keyring has no secret for service {service!r}, user {user!r} ({ref!r})",
                dataset=source,
                hint=f"store it: keyring set {service} {user}",
            )
        return str(value)


SECRET_PROVIDERS: Registry[SecretProvider] = Registry(
    "secret provider", entry_point_group="pipeline_lab.secret_providers"
)
SECRET_PROVIDERS.register("env", EnvironmentVariables())
SECRET_PROVIDERS.register("keyring", Keyring())


def reference_forms() -> str:
    """The references one may write, for hints: ``env:NAME or keyring:SERVICE/USER``."""
    forms = [f"{name}:{SECRET_PROVIDERS.get(name).target}" for name in SECRET_PROVIDERS.names()]
    return ", ".join(forms[:-1]) + f" or {forms[-1]}" if len(forms) > 1 else "".join(forms)


def reference_problem(ref: object) -> str | None:
    """What keeps ``ref`` from being a secret reference (``None`` if nothing); never quotes it."""
    if not isinstance(ref, str) or ":" not in ref:
        return "it has no PROVIDER: prefix"
    provider, _, target = ref.partition(":")
    if provider not in SECRET_PROVIDERS:
        return f"it names no known secret provider (known: {', '.join(SECRET_PROVIDERS.names())})"
    return SECRET_PROVIDERS.get(provider).problem(target)


def resolve_secret(ref: str, *, source: str | None = None) -> str:
    """The secret ``ref`` points to; errors name the reference, never a value."""
    provider, _, target = ref.partition(":")
    if provider not in SECRET_PROVIDERS:
        raise ConnectorError(
            "a secret reference names no known secret provider "
            f"(known: {', '.join(SECRET_PROVIDERS.names())})",
            dataset=source,
            hint=f"write it as {reference_forms()}",
        )
    return SECRET_PROVIDERS.get(provider).resolve(target, ref=ref, source=source)
