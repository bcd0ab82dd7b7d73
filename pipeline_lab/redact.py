"""Keeping secrets and personal data out of what Pipeline Lab shows: messages, URLs, logs.

The one place that masks. Three questions, each answered here and nowhere else:

* **Secrets in a text** (:func:`scrub`, :func:`safe_url`): a URL's password
  (``postgresql://me:***@db/shop``), the values of resolved secrets wherever a driver or a
  server repeats them in its own words, also in the forms they travel in (URL-encoded,
  JSON-escaped, base64, base64 of ``user:password`` as Basic auth sends it), and the values
  of credential headers a server echoes (``Authorization: ...``, ``Cookie: ...``). It masks
  first and shortens after, so a secret cut in two is never half shown.
* **Credentials among options** (:func:`secret_name`, :func:`secret_value`,
  :func:`masked_options`): by the option's name (``password``, ``Cookie``, ``X-Auth-Token``)
  and by its value (a URL with a password, ``Bearer ...``, a JSON Web Token, a private key).
* **Personal data in rows** (:func:`pii_column`, :func:`pii_value`, :func:`pii_columns`):
  columns whose name or values look like an email, a phone number, a person's name, a
  national id, an IBAN or a card number. A heuristic, kept small and explained, for the
  samples of failing rows a check shows; the compliance subsystem may grow it.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
"""What a masked secret looks like."""

_SHORTEST = 3
"""Shorter secret values are not searched for: they would mask ordinary words and digits."""

# ``scheme://user:password@`` with the userinfo ending at the authority's last "@" (as
# urllib and SQLAlchemy read it), so a password holding an "@" is masked whole.
# A scheme is short (RFC 3986 sets no limit; 32 characters keep the search linear on long text).
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]{0,31}://[^\s:/?#@]*:)(?P<password>[^\s/?#]+)@"
)
# A credential header as a server may echo it (``Authorization: Basic ...``, ``"Cookie": "..."``,
# ``X-Auth-Token=...``), not a word in a URL (``?echo=cookie``): its value is an optional
# scheme and one word, or a cookie list (``a=1; b=2``).
_HEADER_VALUE = re.compile(
    r"(?<![\w=/.-])(?P<head>(?:proxy-)?authorization|(?:set-)?cookie|x-auth[\w-]*|x-api-key"
    r"|x-token[\w-]*|x-access-key|[\w-]*subscription-key)"
    r"(?P<sep>[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>(?:(?:basic|bearer|digest|token|negotiate|ntlm)\s+)?"
    r"[^\s\"',;&]+(?:;\s*[^\s\"',;&]+)*)",
    re.IGNORECASE,
)
# A run of base64 (standard or URL-safe) long enough to hide a secret.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_\-]{8,}={0,2}")


def safe_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``; safe to display.

    Any text is accepted: every URL in it has its password masked, and text without one
    comes back unchanged.

    Examples
    --------
    >>> safe_url("postgresql+psycopg://me:s3cret@db:5432/shop")
    'postgresql+psycopg://me:***@db:5432/shop'
    """
    if "://" not in url:
        return url
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@", url)


def scrub(text: str, secrets: Iterable[str | None] = (), *, limit: int | None = None) -> str:
    """``text`` on one line, safe to show: secrets and credentials masked, then cut.

    Parameters
    ----------
    text
        Words Pipeline Lab did not write (a driver's error, a server's response), whole:
        cut it here with ``limit``, never before, or a secret cut in two escapes the mask.
    secrets
        Resolved secret values that may appear in ``text`` (``None`` entries are skipped),
        in any of the forms they travel in (see :func:`_forms`), or inside a base64 run
        (Basic auth's ``user:password``).
    limit
        The longest text returned (masking happens first; ``...`` marks the cut).

    Examples
    --------
    >>> scrub("login failed for me/hunter22 on\\npostgresql://me:hunter22@db/x", ["hunter22"])
    'login failed for me/*** on postgresql://me:***@db/x'
    """
    values = {value for value in secrets if value and len(value) >= _SHORTEST}
    for value in sorted(values, key=len, reverse=True):  # a secret inside another: longest first
        for form in _forms(value):
            if "%" in form:  # percent-encoding may come back in either case
                text = re.sub(re.escape(form), MASK, text, flags=re.IGNORECASE)
            else:
                text = text.replace(form, MASK)
    if values:
        text = _BASE64_RUN.sub(lambda m: MASK if _hides(m.group(), values) else m.group(), text)
    text = _HEADER_VALUE.sub(lambda m: f"{m['head']}{m['sep']}{MASK}", text)
    text = " ".join(safe_url(text).split())
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    return text


def _forms(value: str) -> Iterator[str]:
    """The ways ``value`` may be written in a foreign text: as is, URL-encoded (a query
    string, a form body; once or twice), JSON-escaped (a JSON body; ``/`` as ``\\/`` too),
    HTML-escaped (an error page), base64 (a header)."""
    yield value
    yield quote(value, safe="")
    yield quote(value)
    yield quote_plus(value)
    yield quote(quote(value, safe=""), safe="")
    for escaped in (json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]):
        yield escaped
        yield escaped.replace("/", "\\/")
    yield html.escape(value)
    yield html.escape(value, quote=False)
    encoded = value.encode()
    yield base64.b64encode(encoded).decode().rstrip("=")
    yield base64.urlsafe_b64encode(encoded).decode().rstrip("=")


def _hides(run: str, values: set[str]) -> bool:
    """Whether the base64 ``run`` decodes to text holding one of ``values`` (``user:pass``)."""
    body = run.rstrip("=")
    padded = body + "=" * (-len(body) % 4)
    for alphabet in (None, b"-_"):
        try:
            decoded = base64.b64decode(padded, altchars=alphabet, validate=True)
        except (binascii.Error, ValueError):
            continue
        text = decoded.decode("utf-8", errors="ignore")
        if any(value in text for value in values):
            return True
    return False


# -- credentials among options ----------------------------------------------------------------
# Option, header and query-parameter names that carry credentials (compared lower-cased, with
# "-" as "_"): exactly these, or ending or starting as below.
_SECRET_NAMES = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "access_key",
        "secret_key",
        "private_key",
        "account_key",
        "sas_token",
        "client_secret",
        "access_token",
        "refresh_token",
        "aws_secret_access_key",
        "aws_session_token",
        "authorization",
        "credentials",
        "cookie",
        "set_cookie",
        "subscription_key",
        "sig",  # an Azure shared access signature
        "signature",
    }
)
_SECRET_SUFFIXES = (
    "_password",
    "_passwd",
    "_secret",
    "_token",
    "_api_key",
    "_apikey",
    "_authorization",  # Proxy-Authorization
    "_cookie",
    "_credentials",
    "_access_key",  # X-Access-Key
    "_secret_key",
    "_private_key",
    "_account_key",
    "_subscription_key",  # Ocp-Apim-Subscription-Key
    "_signature",  # X-Amz-Signature
)
# X-Auth, X-Auth-Token, X-Authorization; X-Token, X-Token-Value; X-Secret...; X-Api-Key...
_SECRET_PREFIXES = ("x_auth", "x_token", "x_secret", "x_api_key", "x_api_token")
# Values that are credentials whatever their option is called.
_AUTH_SCHEME = re.compile(
    # A scheme, then a credential: with a digit or a symbol, or of 16 letters or more
    # (not "Basic authentication", "Bearer authorization").
    r"(?i)^\s*(?:basic|bearer|digest|token|negotiate|ntlm|aws4-hmac-sha256)\s+"
    r"(?:(?=[^\s]*[0-9+/=._~\-])[A-Za-z0-9+/=._~\-,]{8,}|[A-Za-z]{16,}(?:\s|$))"
)
_JWT = re.compile(r"^eyJ[\w-]{4,}\.eyJ[\w-]{4,}\.[\w-]*$")
_KNOWN_TOKEN = re.compile(  # GitHub, GitLab, Slack, Stripe, OpenAI-style, Google API keys; AWS
    r"^(?:(?:gh[pousr]_|github_pat_|glpat-|xox[abprs]-|[sr]k_live_|sk-)[A-Za-z0-9_\-]{16,}"
    r"|AIza[0-9A-Za-z_\-]{35}|(?:AKIA|ASIA)[0-9A-Z]{16})$"
)


def secret_name(key: str) -> bool:
    """Whether an option, header or query parameter named ``key`` carries a credential."""
    norm = key.strip().lower().replace("-", "_")
    return (
        norm in _SECRET_NAMES
        or norm.endswith(_SECRET_SUFFIXES)
        or norm.startswith(_SECRET_PREFIXES)
    )


def secret_value(value: object) -> str | None:
    """What credential ``value`` looks like (to say so, never to show it), or ``None``."""
    if not isinstance(value, str):
        return None
    if "://" in value and _URL_PASSWORD.search(value):
        return "a URL with a password"
    if _AUTH_SCHEME.match(value):
        return "an Authorization header value"
    if "PRIVATE KEY-----" in value:
        return "a private key"
    if _JWT.match(value.strip()):
        return "a JSON Web Token"
    if _KNOWN_TOKEN.match(value.strip()):
        return "an API token"
    return None


def masked_options(options: Mapping[Any, Any]) -> dict[Any, Any]:
    """``options`` as they may be shown: credentials (by name or by value) as ``***``.

    Nested mappings and lists are masked too; ``secrets`` (references such as
    ``env:API_TOKEN``, where a secret is and not its value) are kept.
    """
    return {
        key: value if key == "secrets" else _masked(key, value) for key, value in options.items()
    }


def _masked(key: Any, value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _masked(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(key, v) for v in value]
    if value is not None and (secret_name(str(key)) or secret_value(value)):
        return MASK
    return value


# -- personal data in rows --------------------------------------------------------------------
# A column name is split into lower-case words ("customerEmail" -> customer, email). It names
# personal data when a word is one of _PII_WORDS, when two words in a row are one of
# _PII_PAIRS, or when "name" follows a word for a person (or stands alone).
_PII_WORDS = {
    "email": "an email",
    "mail": "an email",
    "phone": "a phone number",
    "mobile": "a phone number",
    "telephone": "a phone number",
    "tel": "a phone number",
    "fax": "a phone number",
    "ssn": "a national id",
    "nino": "a national id",
    "passport": "a national id",
    "iban": "a bank account",
    "surname": "a person's name",
    "firstname": "a person's name",
    "lastname": "a person's name",
    "fullname": "a person's name",
    "username": "a person's name",
    "dob": "a birth date",
    "birthdate": "a birth date",
    "birthday": "a birth date",
    "address": "an address",
    "street": "an address",
}
_PII_PAIRS = {
    ("card", "number"): "a card number",
    ("card", "no"): "a card number",
    ("credit", "card"): "a card number",
    ("cc", "number"): "a card number",
    ("national", "id"): "a national id",
    ("social", "security"): "a national id",
    ("tax", "id"): "a national id",
    ("birth", "date"): "a birth date",
    ("of", "birth"): "a birth date",
    ("ip", "address"): "an address",
    ("zip", "code"): "an address",
    ("post", "code"): "an address",
}
_PERSON_WORDS = frozenset(
    {
        "first",
        "last",
        "full",
        "given",
        "family",
        "middle",
        "maiden",
        "user",
        "customer",
        "client",
        "person",
        "contact",
        "patient",
        "employee",
        "owner",
        "holder",
        "member",
        "buyer",
        "recipient",
        "sender",
    }
)
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# Starting only where a run of address characters starts, so a long value is searched once.
_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(r"^\+?\(?\d[\d\s().\-]{5,}\d$")
_SSN = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
_CARD = re.compile(r"^\d(?:[ \-]?\d){12,18}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}|^\d{1,2}[.\-]\d{1,2}[.\-]\d{2,4}$")


def pii_column(name: str) -> str | None:
    """What personal data a column named ``name`` holds, by its name, or ``None``.

    >>> pii_column("customer_email"), pii_column("lastName"), pii_column("amount")
    ('an email', "a person's name", None)
    """
    words = [w.lower() for w in _WORDS.findall(name)]
    for index, word in enumerate(words):
        if word in _PII_WORDS:
            return _PII_WORDS[word]
        pair = (words[index - 1], word) if index else None
        if pair in _PII_PAIRS:
            return _PII_PAIRS[pair]
        if word == "name" and (len(words) == 1 or (index and words[index - 1] in _PERSON_WORDS)):
            return "a person's name"
    return None


def pii_value(value: object) -> str | None:
    """What personal data the text ``value`` looks like, or ``None``.

    An email anywhere in it; or, the whole value: a phone number (7 to 15 digits, written
    with a leading ``+`` or at least two separators), a US social security number, an IBAN
    (its check digits verified) or a card number (13 to 19 digits passing the Luhn check).
    Numbers that are not text, and dates, are never personal data here.
    """
    if not isinstance(value, str):
        return None
    if _EMAIL.search(value):
        return "an email"
    text = value.strip()
    if _SSN.match(text):
        return "a national id"
    compact = re.sub(r"[\s\-]", "", text)
    if _IBAN.match(compact.upper()) and _iban_valid(compact.upper()):
        return "a bank account"
    if _CARD.match(text) and _luhn(compact):
        return "a card number"
    if _PHONE.match(text) and not _DATE.match(text):
        digits = sum(c.isdigit() for c in text)
        separators = len(re.findall(r"[\s().\-]+", text))
        if 7 <= digits <= 15 and (text.startswith("+") or separators >= 2):
            return "a phone number"
    return None


def pii_columns(rows: Sequence[Mapping[str, Any]], *, keep: Iterable[str] = ()) -> list[str]:
    """The columns of ``rows`` that hold personal data, by their name or by any value.

    ``keep`` names columns never masked (a row index Pipeline Lab added). A column named
    like personal data but holding only booleans (``email_verified``) is not masked.
    """
    kept = set(keep)
    names = list(dict.fromkeys(name for row in rows for name in row))
    found = []
    for name in names:
        values = [row.get(name) for row in rows]
        if name in kept:
            continue
        flags = all(v is None or isinstance(v, bool) for v in values)
        if (pii_column(name) and not flags) or any(pii_value(t) for t in _texts(values)):
            found.append(name)
    return found


def _texts(value: Any) -> Iterator[str]:
    """The strings in ``value``, also inside lists and structs (dicts)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        number = int(char) * (2 if position % 2 else 1)
        total += number - 9 if number > 9 else number
    return total % 10 == 0


def _iban_valid(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1
