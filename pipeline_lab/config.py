"""Typed settings read from the environment, with defaults that need no configuration."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipeline_lab.errors import PipelineLabError

HOME_ENV = "PIPELINE_LAB_HOME"
DB_URL_ENV = "PIPELINE_LAB_DB_URL"
STORE_ENV = "PIPELINE_LAB_STORE"
STREAMING_ENV = "PIPELINE_LAB_STREAMING_FRACTION"
HEARTBEAT_ENV = "PIPELINE_LAB_HEARTBEAT_S"
_SWITCH = {
    "on": True,
    "1": True,
    "true": True,
    "yes": True,
    "": True,
    "off": False,
    "0": False,
    "false": False,
    "no": False,
}


@dataclass(frozen=True)
class Settings:
    """Where Pipeline Lab keeps its state and how it runs by default."""

    home: Path
    db_url: str
    store_enabled: bool = True
    executor: str = "threads"
    streaming_fraction: float = 0.5
    """Component plans whose in-memory inputs exceed this share of RAM use polars streaming."""
    heartbeat_s: float = 10.0
    """How often a run renews its heartbeat; three missed beats make it abandoned."""

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get(HOME_ENV) or Path.home() / ".pipeline_lab").expanduser()
        db_url = os.environ.get(DB_URL_ENV) or f"sqlite:///{home / 'pipeline_lab.db'}"
        store = os.environ.get(STORE_ENV, "on").strip().lower()
        if store not in _SWITCH:
            raise PipelineLabError(
                f"{STORE_ENV} must be on or off, got {store!r}",
                hint=f"unset {STORE_ENV} to record runs, or set {STORE_ENV}=off",
            )
        store_enabled = _SWITCH[store]
        fraction = _number(
            STREAMING_ENV,
            0.5,
            1.0,
            "a number",
            "e.g. 0.5 streams plans whose inputs exceed half the memory",
        )
        heartbeat = _number(
            HEARTBEAT_ENV,
            10.0,
            3600.0,
            "a number of seconds",
            f"unset {HEARTBEAT_ENV} for the default (10 s)",
        )
        return cls(
            home=home,
            db_url=db_url,
            store_enabled=store_enabled,
            streaming_fraction=fraction,
            heartbeat_s=heartbeat,
        )


def _number(name: str, default: float, most: float, what: str, hint: str) -> float:
    """The environment variable ``name`` as a number in (0, ``most``], or a clear error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= most:
        raise PipelineLabError(f"{name} must be {what} in (0, {most:g}], got {raw!r}", hint=hint)
    return value


def settings() -> Settings:
    """Current settings; read on every call so a changed environment takes effect."""
    return Settings.from_env()
