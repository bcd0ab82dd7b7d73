"""What a store failure says: the URL without its password, the driver's words, the fix."""

from __future__ import annotations

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from pipeline_lab.config import DB_URL_ENV
from pipeline_lab.errors import StoreError
from pipeline_lab.redact import scrub

HINT = (
    f"check {DB_URL_ENV} (any SQLAlchemy URL, e.g. postgresql+psycopg://user@host:5432/db), "
    "or unset it to use the SQLite store under PIPELINE_LAB_HOME"
)


def store_error(url: URL, exc: BaseException, action: str) -> StoreError:
    """A one-paragraph ``StoreError`` for ``exc``: the URL (no password), the cause, a hint."""
    shown = url.render_as_string(hide_password=True)
    where = f" on {url.host}:{url.port or _default_port(url)}" if url.host else ""
    return StoreError(
        f"cannot {action} the Pipeline Lab store {shown}{where}: {reason(exc, url)}", hint=HINT
    )


def reason(exc: BaseException, url: URL) -> str:
    """The driver's own words for ``exc``, on one line, without the password."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(cause).split("(Background on this error")[0]
    return scrub(text, [url.password], limit=500) or type(cause).__name__


def _default_port(url: URL) -> int | str:
    return {"postgresql": 5432, "mysql": 3306, "mariadb": 3306}.get(url.get_backend_name(), "?")
