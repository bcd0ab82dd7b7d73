"""Managed connections: named data sources kept in a catalog, tested, inspected, read, written.

The manager knows nothing of where sources are kept: it works on any :class:`ManagedCatalog`
(the store's ``StoreSourceCatalog``, or a dict in a test). It guarantees that what reaches the
catalog holds no secret value: URLs without passwords or secret-looking query parameters,
options without credentials, and secrets only as references (``env:NAME``,
``keyring:SERVICE/USER``) that are resolved when a connector connects.
"""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from pipeline_lab.connectors._base import (
    ConnectionTest,
    Connector,
    TableInfo,
    WriteMode,
    WriteResult,
)
from pipeline_lab.connectors._catalogs import NAME_PATTERN, SourceCatalog, unknown_source
from pipeline_lab.connectors._config import DataSourceConfig
from pipeline_lab.connectors._resolve import connector_class, kind_of
from pipeline_lab.connectors._secrets import reference_forms, reference_problem
from pipeline_lab.errors import ConnectorError, PipelineLabError
from pipeline_lab.redact import safe_url, secret_name, secret_value

if TYPE_CHECKING:
    import polars as pl

NAME_MAX = 255


class ManagedCatalog(SourceCatalog, Protocol):
    """A :class:`SourceCatalog` that can also add, replace, remove and list sources."""

    def add(self, config: DataSourceConfig) -> DataSourceConfig: ...

    def update(self, config: DataSourceConfig) -> DataSourceConfig: ...

    def remove(self, name: str) -> None: ...

    def list(self) -> builtins.list[DataSourceConfig]: ...


def looks_secret(key: str) -> bool:
    """Whether an option, header or query parameter named ``key`` would carry a credential."""
    return secret_name(key)


def check_secret_reference(key: str, ref: object, *, source: str | None = None) -> None:
    """Refuse anything but a reference a secret provider resolves (never echoing the value)."""
    problem = reference_problem(ref)
    if problem is None:
        return
    raise ConnectorError(
        f"secret '{key}' is not a reference ({problem}): Pipeline Lab keeps where a secret is, "
        "never its value",
        dataset=source,
        hint=f"pass a reference, e.g. {key}=env:{_env_suggestion(key)} (an environment variable); "
        f"the forms: {reference_forms()}",
    )


def check_source(config: DataSourceConfig) -> None:
    """Refuse a source that cannot be managed by name, or that would store a secret's value."""
    name = config.name
    shown = safe_url(config.url)
    if not name or not NAME_PATTERN.match(name) or len(name) > NAME_MAX:
        raise ConnectorError(
            f"'{name or ''}' cannot name a data source",
            dataset=shown,
            hint="use letters, digits, '_' and '-', starting with a letter or '_' "
            f"(at most {NAME_MAX} characters), e.g. warehouse or sales_db",
        )
    # DataSourceConfig already refused a password in the URL; the query string may hold one too.
    if "://" in config.url:
        for key, value in parse_qsl(urlsplit(config.url).query, keep_blank_values=True):
            if looks_secret(key) or secret_value(value):
                raise ConnectorError(
                    f"the URL's query parameter '{key}' holds a credential; "
                    "it would be stored and shown",
                    dataset=_without_query(config.url),
                    hint=f"remove it from the URL and pass a reference instead: "
                    f"--secret {key}=env:{_env_suggestion(key, name)} "
                    f"(Python: secrets={{'{key}': 'env:...'}})",
                )
    _check_options(config.options, name, shown)
    for key, ref in config.secrets.items():
        check_secret_reference(key, ref, source=shown)


def _check_options(options: Mapping[Any, Any], name: str, shown: str, where: str = "") -> None:
    """Refuse credentials among the options, nested ones too (``headers``, ``storage_options``).

    An option is a credential by its name (``password``, ``Cookie``, ``X-Auth-Token``) or by
    its value (a URL with a password, ``Bearer ...``, a JSON Web Token, a private key).
    """
    for key, value in options.items():
        path = f"{where}{key}"
        if where == "" and key == "secrets" and isinstance(value, Mapping):
            # An HTTP source's per-read references: allowed, but only as references.
            for ref_key, ref in value.items():
                check_secret_reference(str(ref_key), ref, source=shown)
            continue
        _check_option(path, str(key), value, name, shown)


def _check_option(path: str, key: str, value: Any, name: str, shown: str) -> None:
    looks = None if looks_secret(key) else secret_value(value)
    if looks is None and not looks_secret(key):
        if isinstance(value, Mapping):
            _check_options(value, name, shown, f"{path}.")
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                _check_option(f"{path}[{index}]", key, item, name, shown)
        return
    why = f"holds {looks}" if looks else "holds a credential"
    if path.lower().startswith("headers."):
        hint = (
            f"send it from a secret reference instead: auth='api_key', api_key_header='{key}', "
            f"secrets={{'api_key': 'env:{_env_suggestion(key, name)}'}} "
            "(or auth='bearer' / 'basic' for an Authorization header)"
        )
    elif looks == "a URL with a password":
        hint = (
            "remove the password from the URL: pass it as a secret reference "
            f"(--secret password=env:{_env_suggestion('password', name)}), or set it where the "
            "source runs (e.g. HTTPS_PROXY=http://user:pass@proxy:3128 for a proxy)"
        )
    else:
        hint = (
            f"pass a reference instead: --secret {key}=env:{_env_suggestion(key, name)} "
            f"(Python: secrets={{'{key}': 'env:...'}})"
        )
    raise ConnectorError(
        f"option '{path}' {why}; options are stored and shown as they are",
        dataset=shown,
        hint=hint,
    )


def source_config(
    name: str,
    url: str,
    *,
    kind: str | None = None,
    options: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> DataSourceConfig:
    """A managed source's configuration, its kind taken from the URL when not given.

    Relative file paths and SQLite database files are made absolute, so the source means the
    same thing from every working directory (a notebook's, the scheduler's).
    """
    options = dict(options or {})
    secrets = dict(secrets or {})
    for key, ref in secrets.items():  # before DataSourceConfig, for the hint on what to pass
        check_secret_reference(key, ref, source=safe_url(url))
    if kind is None:
        kind = kind_of(url, **options)
    connector_class(kind)  # an unknown kind fails here, listing the known ones
    return DataSourceConfig(
        kind=kind,
        url=_absolute(kind, url),
        name=name,
        options=options,
        secrets=secrets,
    )


class ConnectionManager:
    """Add, list, test, inspect, preview, read and write managed data sources by name.

    Parameters
    ----------
    catalog
        Where the sources are kept: ``pipeline_lab.store.StoreSourceCatalog()`` for the
        Pipeline Lab store, or any :class:`ManagedCatalog`.

    Examples
    --------
    >>> manager = ConnectionManager(StoreSourceCatalog())
    >>> manager.add(source_config("shop", "postgresql+psycopg://me@db/shop",
    ...                           secrets={"password": "env:SHOP_PASSWORD"}), test=True)
    >>> manager.test("shop").latency_s
    >>> manager.read("shop", table="orders")
    """

    def __init__(self, catalog: ManagedCatalog) -> None:
        self.catalog = catalog

    # -- the catalog ---------------------------------------------------------------------
    def add(
        self, config: DataSourceConfig, *, test: bool = False, replace: bool = False
    ) -> ConnectionTest | None:
        """Keep ``config`` under its name; with ``test``, only if a real round trip succeeds.

        Returns the round trip's outcome when ``test`` is set (a failed test raises
        :class:`ConnectorError` and keeps nothing). ``replace`` overwrites a source of the
        same name; without it, an existing name is refused.
        """
        check_source(config)
        connector_class(config.kind)
        outcome = None
        if test:
            outcome = self._round_trip(config)
            if not outcome.ok:
                raise ConnectorError(
                    f"data source '{config.name}' was not added: {outcome.message}",
                    dataset=safe_url(config.url),
                    hint="fix the URL, options or secrets (are the referenced variables set?), "
                    "or add it without testing",
                )
        if replace and self.catalog.get_source(config.name or "") is not None:
            self.catalog.update(config)
        else:
            self.catalog.add(config)
        return outcome

    def list(self) -> builtins.list[DataSourceConfig]:
        """Every managed source, by name."""
        return self.catalog.list()

    def get(self, name: str) -> DataSourceConfig:
        """The source ``name``; an unknown name is an error naming the closest ones."""
        config = self.catalog.get_source(name)
        if config is None:
            raise unknown_source(name, self.catalog.source_names())
        return config

    def remove(self, name: str) -> None:
        """Forget the source ``name`` (its data is untouched)."""
        self.get(name)
        self.catalog.remove(name)

    # -- the sources ---------------------------------------------------------------------
    def connector(self, name: str) -> Connector:
        """A connector on the source ``name`` (it resolves secrets only when it connects)."""
        config = self.get(name)
        return connector_class(config.kind)(config)

    def test(self, name: str) -> ConnectionTest:
        """A real round trip to the source (a query, a request, a listing), with its latency."""
        return self._round_trip(self.get(name))

    def inspect(self, name: str) -> builtins.list[TableInfo]:
        """The source's tables (or files, or endpoints): columns, types and row estimates."""
        return self.connector(name).inspect()

    def preview(
        self,
        name: str,
        *,
        table: str | None = None,
        query: str | None = None,
        limit: int = 20,
    ) -> pl.DataFrame:
        """The first ``limit`` rows of a table, a query or the source itself."""
        return self.connector(name).preview(table=table, query=query, limit=limit)

    def read(
        self,
        name: str,
        *,
        table: str | None = None,
        query: str | None = None,
        params: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> pl.DataFrame:
        """Read a table or a query's result (``:name`` placeholders bind ``params``)."""
        return self.connector(name).read(table=table, query=query, params=params, **options)

    def write(
        self,
        frame: Any,
        name: str,
        *,
        table: str | None = None,
        mode: WriteMode | None = None,
        key: str | builtins.list[str] | None = None,
        **options: Any,
    ) -> WriteResult:
        """Write ``frame`` to the source atomically (append, replace, or upsert on ``key``)."""
        return self.connector(name).write(frame, table=table, mode=mode, key=key, **options)

    def _round_trip(self, config: DataSourceConfig) -> ConnectionTest:
        try:
            connector = connector_class(config.kind)(config)
        except PipelineLabError as exc:  # a missing driver, a bad option
            return ConnectionTest(False, 0.0, str(exc))
        return connector.test()


def _absolute(kind: str, url: str) -> str:
    if "://" not in url:
        return os.path.abspath(os.path.expanduser(url)) if kind == "file" else url
    scheme, _, rest = url.partition("://")
    if scheme.split("+", 1)[0].lower() != "sqlite" or not rest.startswith("/"):
        return url
    path, sep, query = rest[1:].partition("?")
    if not path or path == ":memory:" or path.startswith(("/", "file:")):
        return url
    return f"{scheme}:///{os.path.abspath(os.path.expanduser(path))}{sep}{query}"


def _without_query(url: str) -> str:
    return urlsplit(safe_url(url))._replace(query="").geturl()


def _env_suggestion(key: str, name: str | None = None) -> str:
    prefix = re.sub(r"[^A-Za-z0-9]+", "_", name).upper() + "_" if name else ""
    return prefix + re.sub(r"[^A-Za-z0-9]+", "_", key).upper()
