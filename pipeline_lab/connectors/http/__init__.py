"""HTTP APIs as data sources: JSON records from REST (kind ``http``) and GraphQL endpoints.

>>> pipeline_lab.read(
...     "https://api.example.com/v1/orders",
...     params={"status": "paid"},
...     records_path="data.items",
...     pagination={"type": "page", "size": 100, "total_path": "meta.total"},
...     secrets={"token": "env:SHOP_TOKEN"},
... )

Options (:class:`RestOptions`; a managed source's options are defaults a read overrides):
``method`` (GET, POST), ``params`` (query string; ``read(params=...)`` adds to them),
``body`` (JSON), ``headers``; ``auth`` (bearer, basic, api_key, oauth2 — by default
implied by the secret references in ``secrets``: token, password, api_key,
client_secret), ``username``, ``api_key_header`` or ``api_key_param``, ``token_url``,
``client_id``, ``scope``, ``client_auth``; ``records_path``, ``flatten``; ``pagination``
(``page``, ``offset``, ``cursor``, ``link`` or a dict with its options), ``max_pages``,
``limit``; ``timeout``, ``retries``, ``backoff``, ``backoff_cap``, ``max_retry_wait``.
``table=`` is a path appended to the source's URL (a managed source at
``https://api.example.com/v1`` reads ``table="orders"``).

GraphQL endpoints are read by :class:`GraphQLConnector` (``graphql=True``).
"""

from __future__ import annotations

from pipeline_lab.connectors.http._graphql import GraphQLConnector
from pipeline_lab.connectors.http._options import GraphQLOptions, RestOptions, secret_problem
from pipeline_lab.connectors.http._rest import RestConnector

__all__ = ["GraphQLConnector", "GraphQLOptions", "RestConnector", "RestOptions", "secret_problem"]
