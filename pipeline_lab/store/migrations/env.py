"""Alembic environment of the Pipeline Lab store.

At runtime ``pipeline_lab.store._schema.upgrade`` passes an open connection, already inside
the transaction (and lock) the migrations must run in, as ``config.attributes["connection"]``.
Without one (a developer writing a new revision with ``alembic revision --autogenerate``), it
connects to ``sqlalchemy.url`` or, when unset, to the store of ``PIPELINE_LAB_DB_URL``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection, make_url

from pipeline_lab.store._engine import create_store_engine
from pipeline_lab.store._models import Base

target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def _url() -> str:
    from pipeline_lab.config import settings

    return context.config.get_main_option("sqlalchemy.url") or settings().db_url


def run_offline() -> None:
    """Emit the migrations as SQL text (``alembic upgrade --sql``)."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on the given connection, or on a new one."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_store_engine(make_url(_url()))
    try:
        with engine.begin() as own:
            _configure(own)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
