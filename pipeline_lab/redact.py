"""Keeping secrets out of what Pipeline Lab shows: messages, URLs, lineage, logs.

The one place that masks: a URL's password (``postgresql://me:***@db/shop``), and the
values of resolved secrets wherever a driver or a server repeats them in its own words.
Every message that may quote a foreign text goes through :func:`scrub`, which masks
first and shortens after, so a secret cut in two is never half shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

MASK = "***"
"""What a masked secret looks like."""

_SHORTEST = 3
"""Shorter secret values are not searched for: they would mask ordinary words and digits."""

# ``scheme://user:password@`` with the userinfo ending at the authority's last "@" (as
# urllib and SQLAlchemy read it), so a password holding an "@" is masked whole.
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@]*:)(?P<password>[^\s/?#]+)@"
)


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
    """``text`` on one line, safe to show: ``secrets`` and URL passwords masked, then cut.

    Parameters
    ----------
    text
        Words Pipeline Lab did not write (a driver's error, a server's response).
    secrets
        Resolved secret values that may appear in ``text`` (``None`` entries are skipped).
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
            text = text.replace(form, MASK)
    text = " ".join(safe_url(text).split())
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    return text


def _forms(value: str) -> Iterator[str]:
    """The ways ``value`` may be written in a foreign text (the value itself, for now)."""
    yield value
