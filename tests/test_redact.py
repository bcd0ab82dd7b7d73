"""Masking secrets: URL passwords and resolved secret values, before anything is shown."""

from __future__ import annotations

import pytest

from pipeline_lab.redact import MASK, safe_url, scrub

CASES = [
    # (text, secrets, limit, shown)
    pytest.param(
        "postgresql+psycopg://me:s3cret@db:5432/shop",
        [],
        None,
        "postgresql+psycopg://me:***@db:5432/shop",
        id="url-password",
    ),
    pytest.param(
        "postgresql://me@db/shop", [], None, "postgresql://me@db/shop", id="url-no-password"
    ),
    pytest.param(
        "postgresql://:s3cret@db/x", [], None, "postgresql://:***@db/x", id="password-no-user"
    ),
    pytest.param(
        "mysql://me:p@ss@db/shop", [], None, "mysql://me:***@db/shop", id="at-in-password"
    ),
    pytest.param(
        "https://api.example.com:8443/users/me@example.com?x=1",
        [],
        None,
        "https://api.example.com:8443/users/me@example.com?x=1",
        id="port-and-at-in-path",
    ),
    pytest.param("/data/orders.csv", [], None, "/data/orders.csv", id="path"),
    pytest.param(
        "copy from postgresql://a:one1@h1/x to mysql://b:two2@h2/y failed",
        [],
        None,
        "copy from postgresql://a:***@h1/x to mysql://b:***@h2/y failed",
        id="urls-in-text",
    ),
    pytest.param(
        'FATAL: password authentication failed for "me" (hunter22)',
        ["hunter22"],
        None,
        'FATAL: password authentication failed for "me" (***)',
        id="secret-value",
    ),
    pytest.param(
        "token abcdef, again abcdef",
        ["abc", "abcdef"],
        None,
        "token ***, again ***",
        id="longest-first",
    ),
    pytest.param("ab cab", ["ab"], None, "ab cab", id="too-short-to-search"),
    pytest.param("no secret here", [None, ""], None, "no secret here", id="unresolved-secrets"),
    pytest.param(
        "line one\n   line two\r\n\tthree", [], None, "line one line two three", id="one-line"
    ),
    pytest.param("aaaa hunter22 bbbb", ["hunter22"], 8, "aaaa ***...", id="masked-before-cut"),
    pytest.param(
        "x postgresql://me:hunter22@db/x",
        [],
        20,
        "x postgresql://me:**...",
        id="url-masked-before-cut",
    ),
]


@pytest.mark.parametrize(("text", "secrets", "limit", "shown"), CASES)
def test_scrub(text: str, secrets: list[str | None], limit: int | None, shown: str) -> None:
    assert scrub(text, secrets, limit=limit) == shown
    for secret in secrets:
        if secret and len(secret) >= 3:
            assert secret not in scrub(text, secrets, limit=limit)


def test_safe_url_is_scrub_for_one_url() -> None:
    """What ``safe_url`` shows is what ``scrub`` shows of a URL: masked the same way."""
    for case in CASES:
        text, secrets, limit, shown = case.values
        if not secrets and limit is None and text == " ".join(text.split()):
            assert safe_url(text) == shown, case.id
    assert MASK == "***"
