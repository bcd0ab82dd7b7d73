"""Masking secrets: URL passwords and resolved secret values, before anything is shown;
credentials among options; personal data in rows."""

from __future__ import annotations

import base64
import time

import pytest

from pipeline_lab.redact import (
    MASK,
    masked_options,
    pii_column,
    pii_columns,
    pii_value,
    safe_url,
    scrub,
    secret_name,
    secret_value,
)

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


# -- forms a secret travels in -------------------------------------------------------------------
BASIC = base64.b64encode(b"ana:hunter22").decode()  # Basic auth's user:password

FORMS = [
    # (text, secrets, limit, what must not show)
    pytest.param(f"sent {BASIC} back", ["hunter22"], None, BASIC, id="base64-user-password"),
    pytest.param(
        f"sent {BASIC.rstrip('=')}", ["hunter22"], None, BASIC.rstrip("="), id="base64-unpadded"
    ),
    pytest.param(
        "auth=" + base64.urlsafe_b64encode(b"me:p>?>?s3cret").decode(),
        ["p>?>?s3cret"],
        None,
        base64.urlsafe_b64encode(b"me:p>?>?s3cret").decode(),
        id="base64-url-safe",
    ),
    pytest.param("u=p%40ss%2Fw0rd", ["p@ss/w0rd"], None, "p%40ss%2Fw0rd", id="url-encoded"),
    pytest.param("u=p%40ss%2fw0rd", ["p@ss/w0rd"], None, "p%40ss%2fw0rd", id="url-encoded-lower"),
    pytest.param("q=a+b%26c", ["a b&c"], None, "a+b%26c", id="form-encoded"),
    pytest.param('{"pw": "s3\\"cret"}', ['s3"cret'], None, 's3\\"cret', id="json-escaped"),
    pytest.param('{"t": "s3\\/cr3t"}', ["s3/cr3t"], None, "s3\\/cr3t", id="json-slash-escaped"),
    pytest.param(
        "<p>you sent t0ken&amp;more</p>", ["t0ken&more"], None, "t0ken&amp;", id="html-escaped"
    ),
    pytest.param("u=p%2540ss%252F1", ["p@ss/1"], None, "p%2540ss", id="url-encoded-twice"),
    pytest.param(
        "." * 150 + " token tok3n-0123456789abcdef",
        ["tok3n-0123456789abcdef"],
        160,
        "tok3n-0",
        id="across-the-cut",
    ),
    pytest.param(
        "Authorization: Basic " + BASIC, [], None, BASIC, id="authorization-header-unknown-secret"
    ),
    pytest.param('{"Cookie": "sid=abc123; theme=dark"}', [], None, "abc123", id="cookie-header"),
    pytest.param("X-Auth-Token: zz9-plural-z-alpha", [], None, "zz9-plural", id="x-auth-header"),
    pytest.param(
        "Ocp-Apim-Subscription-Key: 3f2a9c1b7e5d", [], None, "3f2a9c1b", id="subscription-key"
    ),
    pytest.param(
        "Proxy-Authorization: Bearer p4ss.w0rd", [], None, "p4ss.w0rd", id="proxy-authorization"
    ),
]


@pytest.mark.parametrize(("text", "secrets", "limit", "hidden"), FORMS)
def test_scrub_masks_the_forms_a_secret_travels_in(
    text: str, secrets: list[str], limit: int | None, hidden: str
) -> None:
    shown = scrub(text, secrets, limit=limit)
    assert hidden not in shown
    assert MASK in shown


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a." * 50_000 + " http://x", id="dotted-words-and-a-url"),
        pytest.param("x-" * 50_000 + "://", id="a-long-scheme"),
        pytest.param("a" * 100_000 + " b@", id="a-long-word-and-an-at"),
    ],
)
def test_scrub_is_linear_on_long_text(text: str) -> None:
    """Whole bodies and driver errors are scrubbed: no search may take quadratic time."""
    started = time.perf_counter()
    scrub(text, ["hunter22"], limit=160)
    pii_value(text)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("GET /items?echo=cookie failed: missing cookie", id="cookie-as-a-word"),
        pytest.param("Basic authentication is required", id="scheme-as-a-word"),
        pytest.param("the authorization server is down", id="authorization-as-a-word"),
        pytest.param("aGVsbG8gd29ybGQ= decodes to nothing secret", id="other-base64"),
    ],
)
def test_scrub_leaves_ordinary_words(text: str) -> None:
    assert scrub(text, ["hunter22"]) == text


# -- credentials among options: by name and by value -------------------------------------------
@pytest.mark.parametrize(
    ("name", "secret"),
    [
        pytest.param("password", True, id="password"),
        pytest.param("DB-Password", True, id="suffix-any-case"),
        pytest.param("Cookie", True, id="cookie"),
        pytest.param("Set-Cookie", True, id="set-cookie"),
        pytest.param("Proxy-Authorization", True, id="proxy-authorization"),
        pytest.param("X-Auth", True, id="x-auth"),
        pytest.param("X-Auth-Token", True, id="x-auth-token"),
        pytest.param("X-API-Key", True, id="x-api-key"),
        pytest.param("PRIVATE-TOKEN", True, id="gitlab-private-token"),
        pytest.param("Ocp-Apim-Subscription-Key", True, id="azure-subscription-key"),
        pytest.param("X-Access-Key", True, id="x-access-key"),
        pytest.param("X-Token-Value", True, id="x-token-value"),
        pytest.param("sig", True, id="azure-sas-signature"),
        pytest.param("X-Amz-Signature", True, id="aws-signature"),
        pytest.param("primary_key", False, id="primary-key"),
        pytest.param("partition_key", False, id="partition-key"),
        pytest.param("key", False, id="key"),
        pytest.param("X-Api-Version", False, id="x-api-version"),
        pytest.param("token_url", False, id="token-url"),
        pytest.param("api_key_header", False, id="name-of-the-key-header"),
        pytest.param("auth", False, id="auth-kind"),
        pytest.param("client_auth", False, id="client-auth"),
        pytest.param("author", False, id="author"),
    ],
)
def test_secret_name(name: str, secret: bool) -> None:
    assert secret_name(name) is secret


JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk"


@pytest.mark.parametrize(
    ("value", "looks"),
    [
        pytest.param("http://me:s3cret@proxy:3128", "a URL with a password", id="proxy-url"),
        pytest.param("Bearer abc.123-xyz", "an Authorization header value", id="bearer"),
        pytest.param(f"Basic {BASIC}", "an Authorization header value", id="basic"),
        pytest.param(JWT, "a JSON Web Token", id="jwt"),
        pytest.param("-----BEGIN RSA PRIVATE KEY-----\nMII...", "a private key", id="pem"),
        pytest.param("ghp_" + "a1B2" * 9, "an API token", id="github-token"),
        pytest.param("AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "an API token", id="google"),
        pytest.param("AKIAIOSFODNN7EXAMPLE", "an API token", id="aws-access-key-id"),
        pytest.param("Bearer abcdefghijklmnop", "an Authorization header value", id="letters"),
        pytest.param("Bearer\tabc.123-xyz", "an Authorization header value", id="tab"),
        pytest.param("Bearer authorization", None, id="scheme-and-a-word"),
        pytest.param("http://proxy:3128", None, id="url-without-password"),
        pytest.param("Basic authentication", None, id="words"),
        pytest.param("bearer", None, id="auth-kind"),
        pytest.param(3128, None, id="number"),
    ],
)
def test_secret_value(value: object, looks: str | None) -> None:
    assert secret_value(value) == looks


def test_masked_options_hide_credentials_by_name_and_value_keep_references() -> None:
    options = {
        "headers": {"Cookie": "sid=1", "Accept": "text/csv", "X-Token": "Bearer abc.123-xyz"},
        "storage_options": {"proxies": ["http://me:s3cret@proxy:3128", "http://open:3128"]},
        "secrets": {"token": "env:API_TOKEN"},
        "separator": ";",
    }
    assert masked_options(options) == {
        "headers": {"Cookie": MASK, "Accept": "text/csv", "X-Token": MASK},
        "storage_options": {"proxies": [MASK, "http://open:3128"]},
        "secrets": {"token": "env:API_TOKEN"},
        "separator": ";",
    }


# -- personal data ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "pii"),
    [
        pytest.param("email", "an email", id="email"),
        pytest.param("customerEmail", "an email", id="camel-case"),
        pytest.param("e_mail", "an email", id="e-mail"),
        pytest.param("phone_number", "a phone number", id="phone"),
        pytest.param("SSN", "a national id", id="ssn"),
        pytest.param("iban", "a bank account", id="iban"),
        pytest.param("card_number", "a card number", id="card-number"),
        pytest.param("creditCardNo", "a card number", id="credit-card"),
        pytest.param("date_of_birth", "a birth date", id="date-of-birth"),
        pytest.param("name", "a person's name", id="name-alone"),
        pytest.param("first_name", "a person's name", id="first-name"),
        pytest.param("customer_name", "a person's name", id="customer-name"),
        pytest.param("lastName", "a person's name", id="last-name-camel"),
        pytest.param("product_name", None, id="product-name"),
        pytest.param("amount", None, id="amount"),
        pytest.param("status", None, id="status"),
        pytest.param("hotel", None, id="tel-inside-a-word"),
    ],
)
def test_pii_column(name: str, pii: str | None) -> None:
    assert pii_column(name) == pii


@pytest.mark.parametrize(
    ("value", "pii"),
    [
        pytest.param("ana@example.com", "an email", id="email"),
        pytest.param("write to ana.b+x@mail.example.org today", "an email", id="email-in-text"),
        pytest.param("+33 6 12 34 56 78", "a phone number", id="phone-international"),
        pytest.param("(555) 123-4567", "a phone number", id="phone-us"),
        pytest.param("078-05-1120", "a national id", id="ssn"),
        pytest.param("DE89 3704 0044 0532 0130 00", "a bank account", id="iban"),
        pytest.param("4111 1111 1111 1111", "a card number", id="card"),
        pytest.param("4111 1111 1111 1112", None, id="card-failing-luhn"),
        pytest.param("DE89 3704 0044 0532 0130 01", None, id="iban-bad-check-digits"),
        pytest.param("2024-03-31", None, id="iso-date"),
        pytest.param("31.03.2024", None, id="dotted-date"),
        pytest.param("1234.5678", None, id="decimal-text"),
        pytest.param("paid", None, id="word"),
        pytest.param(4111111111111111, None, id="a-number-is-not-text"),
        pytest.param(None, None, id="null"),
    ],
)
def test_pii_value(value: object, pii: str | None) -> None:
    assert pii_value(value) == pii


def test_pii_columns_by_name_or_by_any_value() -> None:
    rows = [
        {"row": 3, "id": 7, "email_verified": True, "contact": None, "name": "Ana", "x": 1.5},
        {"row": 9, "id": 8, "email_verified": False, "contact": "+1 555 123 4567", "name": None},
    ]
    assert pii_columns(rows, keep=["row"]) == ["contact", "name"]
