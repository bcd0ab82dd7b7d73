"""Secrets never shown in HTTP errors, whatever form a careless server repeats them in.

The real test server's ``/leaky`` answers 400 with a text body that repeats what it was
sent (see http_app.py), after ``pad`` dots: so a secret can sit across the point where the
shown part of the body is cut.
"""

from __future__ import annotations

import base64
from types import ModuleType
from typing import Any
from urllib.parse import quote

import pytest

from pipeline_lab.connectors import open_connector, read
from pipeline_lab.errors import ConnectorError

FAST = {"retries": 0}


def leaked(secret: str, text: str, shortest: int = 5) -> list[str]:
    """Every piece of ``secret`` at least ``shortest`` characters long that ``text`` shows."""
    return [
        secret[start : start + shortest]
        for start in range(len(secret) - shortest + 1)
        if secret[start : start + shortest] in text
    ]


def failure(url: str, **options: Any) -> str:
    with pytest.raises(ConnectorError, match="HTTP 400 Bad Request") as caught:
        read(url, **FAST, **options)
    return str(caught.value)


# The body is "<pad dots> <what was sent> (end)"; the shown part is cut at 160 characters:
# each pad puts the token across the cut (5 to 18 of its 19 characters before it).
@pytest.mark.parametrize("pad", [pytest.param(p, id=f"pad-{p}") for p in (141, 145, 148, 154)])
def test_a_secret_across_the_cut_is_masked_whole(
    http_api: Any, secrets: ModuleType, pad: int
) -> None:
    shown = failure(
        http_api.url(f"/leaky?echo=credential&pad={pad}"), secrets={"token": "env:TEST_TOKEN"}
    )
    assert leaked(secrets.BEARER_TOKEN, shown) == []
    assert "." * pad in shown  # the body is shown, up to the masked token


def test_a_secret_across_the_searched_part_of_a_huge_body_is_not_shown(
    http_api: Any, secrets: ModuleType
) -> None:
    """Only the first 64 KiB are searched; blank space before it collapses when shown."""
    pad = 64 * 1024 - 8  # the token starts 7 bytes before the end of the searched part
    shown = failure(
        http_api.url(f"/leaky?echo=credential&pad={pad}&pad_with=space"),
        secrets={"token": "env:TEST_TOKEN"},
    )
    assert leaked(secrets.BEARER_TOKEN, shown, 4) == []


@pytest.mark.parametrize(
    "echo",
    [
        pytest.param("credential", id="base64-user-password"),
        pytest.param("header", id="authorization-header"),
        pytest.param("decoded", id="user-colon-password"),
    ],
)
def test_basic_credentials_are_masked_in_every_form(
    http_api: Any, secrets: ModuleType, echo: str
) -> None:
    pair = f"{secrets.BASIC_USER}:{secrets.BASIC_PASSWORD}"
    shown = failure(
        http_api.url(f"/leaky?echo={echo}"),
        username=secrets.BASIC_USER,
        secrets={"password": "env:TEST_PASSWORD"},
    )
    for form in (secrets.BASIC_PASSWORD, base64.b64encode(pair.encode()).decode()):
        assert leaked(form, shown) == [], form
    assert "***" in shown


def test_a_url_encoded_secret_is_masked(http_api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    token = "tok/en+s3cret=v4lue&more"
    monkeypatch.setenv("ODD_TOKEN", token)
    shown = failure(http_api.url("/leaky?echo=urlencoded"), secrets={"token": "env:ODD_TOKEN"})
    assert leaked(quote(token, safe=""), shown) == []
    assert leaked(token, shown) == []
    assert "login?auth=***" in shown


@pytest.mark.parametrize(
    ("echo", "header", "value"),
    [
        pytest.param("cookie", "Cookie", "session=c00kie-v4lue-s3cret", id="cookie"),
        pytest.param("x-auth", "X-Auth", "xa-s3cret-v4lue-77", id="x-auth"),
        pytest.param(
            "proxy", "Proxy-Authorization", "Basic cHJveHk6czNjcmV0LXB3", id="proxy-authorization"
        ),
    ],
)
def test_echoed_credential_headers_are_masked(
    http_api: Any, echo: str, header: str, value: str
) -> None:
    """Headers given as options are no secret references: they are masked by their name."""
    shown = failure(http_api.url(f"/leaky?echo={echo}"), headers={header: value})
    assert leaked(value.split(" ")[-1], shown) == []
    assert f"{header}: ***" in shown or f'"{header}": "***' in shown


def test_an_api_key_in_the_query_is_masked(http_api: Any, secrets: ModuleType) -> None:
    shown = failure(
        http_api.url("/leaky?echo=api_key&pad=140"),  # the key across the cut
        secrets={"api_key": "env:TEST_API_KEY"},
        api_key_param="api_key",
    )
    assert leaked(secrets.API_KEY, shown) == []


def test_an_oauth2_access_token_is_masked(http_api: Any, secrets: ModuleType) -> None:
    """The token the source got from its token endpoint is a secret too, though no reference."""
    connector = open_connector(http_api.url("/leaky?echo=credential&pad=150"))
    with pytest.raises(ConnectorError, match="HTTP 400") as caught:
        connector.read(
            token_url=http_api.url("/oauth/token"),
            client_id=secrets.CLIENT_ID,
            secrets={"client_secret": "env:TEST_CLIENT_SECRET"},
            **FAST,
        )
    tokens = [t.value for t in connector._tokens.values()]  # type: ignore[attr-defined]
    assert tokens and all(leaked(t, str(caught.value), 4) == [] for t in tokens)
