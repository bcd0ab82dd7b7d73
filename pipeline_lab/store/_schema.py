"""Bring a store's schema to the head revision, importing Alembic only when there is work.

Importing Alembic costs about 0.3 s, more than the rest of ``pipeline-lab run``'s start-up,
so an up-to-date store is recognised with one plain query of ``alembic_version``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from pipeline_lab.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection, Engine

HEAD_REVISION = "0003"
"""The newest migration in ``migrations/versions``; a test keeps the two in step."""

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Any constant works; it only has to be the same for every Pipeline Lab process.
_PG_MIGRATION_LOCK = 0x5049_5045_4C41_42  # "PIPELAB"


def current_revision(connection: Connection) -> str | None:
    """The revision stamped in ``alembic_version``, or ``None`` for a store never migrated."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows[0] if len(rows) == 1 else None


def alembic_config() -> Config:
    """An Alembic configuration pointing at the migrations shipped in this package."""
    from alembic.config import Config

    # Alembic's default is the sys.stdout of its import time, which may be closed since.
    config = Config(stdout=sys.stdout)
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def ensure_schema(engine: Engine, shown_url: str, reader: Engine | None = None) -> None:
    """Upgrade the store to :data:`HEAD_REVISION` unless it is there already.

    ``reader`` checks the revision without a write lock (SQLite: ``BEGIN DEFERRED``).
    """
    with (reader or engine).connect() as connection:
        revision = current_revision(connection)
    if revision == HEAD_REVISION:
        return
    upgrade(engine, shown_url)


def upgrade(engine: Engine, shown_url: str) -> None:
    """Run the pending migrations in one transaction that other processes wait for."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    config = alembic_config()
    with engine.begin() as connection:
        # SQLite: this transaction began with BEGIN IMMEDIATE, which already serialises writers.
        if connection.dialect.name == "postgresql":
            lock = text("SELECT pg_advisory_xact_lock(:key)")
            connection.execute(lock, {"key": _PG_MIGRATION_LOCK})
        revision = current_revision(connection)
        if revision is not None and not _known(ScriptDirectory.from_config(config), revision):
            raise StoreError(
                f"the store {shown_url} is at schema revision '{revision}', which this version "
                f"of Pipeline Lab does not know (its newest is '{HEAD_REVISION}')",
                hint="upgrade pipeline-lab, or point PIPELINE_LAB_DB_URL at another store",
            )
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, "head")
        except CommandError as exc:
            raise StoreError(
                f"could not migrate the store {shown_url}: {exc}",
                hint="check PIPELINE_LAB_DB_URL; a store written by hand cannot be migrated",
            ) from exc


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    try:
        return scripts.get_revision(revision) is not None
    except (CommandError, RevisionError):
        return False
