"""How long a connector waits before asking a source again: backoff and ``Retry-After``.

The engine retries whole nodes; connectors retry single requests (a 503, a timeout, a 429)
inside one attempt. Both use :func:`pipeline_lab._backoff.next_delay` (full jitter), so
retrying clients do not hammer a service in lock step.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """The wait a ``Retry-After`` header asks for: delay-seconds or an HTTP date (RFC 9110).

    ``None`` when the header is absent or unreadable; a date in the past means no wait.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())
