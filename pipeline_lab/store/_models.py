"""The store's tables as SQLAlchemy 2.0 declarative models.

Every change here needs a migration in ``migrations/versions`` (and ``HEAD_REVISION`` in
``_schema.py`` bumped); ``tests/store/test_schema.py`` fails until both agree.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from pipeline_lab.graph import MAX_NAME_LENGTH

NAME_LENGTH = MAX_NAME_LENGTH

# Explicit constraint names make migrations portable (PostgreSQL and SQLite batch mode need them).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite keeps no offset, so values are converted to UTC on the way in and marked UTC on
    the way out; naive datetimes are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps timezone-aware UTC times")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of every store model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class PipelineRecord(Base):
    """A saved pipeline; its definitions live in :class:`PipelineVersionRecord`."""

    __tablename__ = "pipelines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    versions: Mapped[list[PipelineVersionRecord]] = relationship(
        back_populates="pipeline",
        order_by="PipelineVersionRecord.version",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class PipelineVersionRecord(Base):
    """One saved definition of a pipeline: ``Pipeline.to_dict()`` as JSON."""

    __tablename__ = "pipeline_versions"
    __table_args__ = (UniqueConstraint("pipeline_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    node_count: Mapped[int] = mapped_column(Integer, server_default="0")

    pipeline: Mapped[PipelineRecord] = relationship(back_populates="versions")


class RunRecord(Base):
    """One run of a pipeline, inserted as ``running`` when it starts.

    ``host``, ``pid`` and ``heartbeat_at`` tell a live run from one whose process died: the
    run's process renews ``heartbeat_at`` while it runs, so a ``running`` run with a dead pid
    on this host, or with an old heartbeat, is ``abandoned``.
    """

    __tablename__ = "runs"
    __table_args__ = (
        Index(None, "pipeline", "started_at"),
        Index(None, "started_at"),
        Index(None, "status"),
    )

    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    pipeline: Mapped[str] = mapped_column(String(NAME_LENGTH))
    pipeline_version: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    executor: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    duration_s: Mapped[float | None] = mapped_column(Float)
    setup_error: Mapped[str | None] = mapped_column(Text)
    report_errors: Mapped[dict[str, str]] = mapped_column(JSON)
    hook_errors: Mapped[list[str]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[datetime | None]

    node_runs: Mapped[list[NodeRunRecord]] = relationship(
        back_populates="run",
        order_by="NodeRunRecord.ordinal",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class NodeRunRecord(Base):
    """One node's outcome in one run (never its output value)."""

    __tablename__ = "node_runs"

    run_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    node: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    duration_s: Mapped[float | None] = mapped_column(Float)
    cpu_s: Mapped[float | None] = mapped_column(Float)
    rows: Mapped[int | None] = mapped_column(BigInteger)
    columns: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    timed_out: Mapped[bool] = mapped_column(Boolean)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    checks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    datasets: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    run: Mapped[RunRecord] = relationship(back_populates="node_runs")


class DataSourceRecord(Base):
    """A managed data source: where it is and how to reach it, never a secret's value.

    ``url`` holds no password and ``secrets`` only references (``{"password": "env:PG_PW"}``),
    resolved when a connector connects; ``StoreSourceCatalog`` refuses anything else.
    """

    __tablename__ = "data_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    secrets: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
