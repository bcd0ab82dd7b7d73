"""``PipelineBuilder``: save, version, read and edit pipelines, validating before each write."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline_lab.errors import PipelineDefinitionError, StoreError
from pipeline_lab.graph import Node, Pipeline
from pipeline_lab.store._engine import Repository
from pipeline_lab.store._json import strict_json
from pipeline_lab.store._models import (
    NAME_LENGTH,
    PipelineRecord,
    PipelineVersionRecord,
    utcnow,
)
from pipeline_lab.suggest import did_you_mean


@dataclass(frozen=True)
class PipelineSummary:
    """A saved pipeline: its name, current version, node count and last change."""

    name: str
    version: int
    nodes: int
    updated_at: datetime


@dataclass(frozen=True)
class VersionSummary:
    """One saved version of a pipeline."""

    name: str
    version: int
    nodes: int
    message: str | None
    created_at: datetime


class PipelineBuilder(Repository):
    """Create, read, update and delete saved pipelines; every save is a new version.

    A pipeline is checked with :meth:`Pipeline.check` before anything is written, so the
    store only ever holds pipelines that can run.

    Parameters
    ----------
    store
        The store to use; ``None`` means the configured one.

    Examples
    --------
    >>> builder = PipelineBuilder()
    >>> builder.save(pipeline, message="first cut")
    >>> builder.add_node("sales", Node("total", code="sum(orders)"))
    >>> builder.get("sales").order()
    """

    # -- whole pipelines -----------------------------------------------------------------
    def create(self, pipeline: Pipeline, message: str | None = None) -> VersionSummary:
        """Save a new pipeline as version 1; refuse a name that is already saved."""
        definition = _checked(pipeline)
        with self.store.session() as session:
            if _find(session, pipeline.name) is not None:
                raise self._exists(pipeline.name)
            now = utcnow()
            record = PipelineRecord(
                name=pipeline.name, current_version=0, created_at=now, updated_at=now
            )
            session.add(record)
            try:
                session.flush()
            except IntegrityError:
                # Another process created it between our check and our insert.
                raise self._exists(pipeline.name) from None
            return _add_version(session, record, definition, message or "created")

    def update(self, pipeline: Pipeline, message: str | None = None) -> VersionSummary:
        """Save ``pipeline`` as the next version of the saved pipeline of the same name."""
        definition = _checked(pipeline)
        with self.store.session() as session:
            record = self._require(session, pipeline.name, lock=True)
            return _add_version(session, record, definition, message)

    def save(self, pipeline: Pipeline, message: str | None = None) -> VersionSummary:
        """Create the pipeline, or store a new version of it if it exists."""
        definition = _checked(pipeline)
        with self.store.session() as session:
            record = _find(session, pipeline.name, lock=True)
            if record is None:
                now = utcnow()
                record = PipelineRecord(
                    name=pipeline.name, current_version=0, created_at=now, updated_at=now
                )
                session.add(record)
                message = message or "created"
            return _add_version(session, record, definition, message)

    def get(self, name: str, version: int | None = None) -> Pipeline:
        """The saved pipeline ``name`` at ``version`` (default: its current version)."""
        with self.store.session(write=False) as session:
            record = self._require(session, name)
            wanted = record.current_version if version is None else version
            definition = session.scalar(
                select(PipelineVersionRecord.definition).where(
                    PipelineVersionRecord.pipeline_id == record.id,
                    PipelineVersionRecord.version == wanted,
                )
            )
            if definition is None:
                raise StoreError(
                    f"pipeline '{name}' has no version {wanted}",
                    hint=f"its versions are 1 to {record.current_version}",
                )
        return Pipeline.from_dict(definition)

    def list(self) -> list[PipelineSummary]:
        """Every saved pipeline, by name."""
        query = (
            select(PipelineRecord, PipelineVersionRecord.node_count)
            .join(
                PipelineVersionRecord,
                (PipelineVersionRecord.pipeline_id == PipelineRecord.id)
                & (PipelineVersionRecord.version == PipelineRecord.current_version),
            )
            .order_by(PipelineRecord.name)
        )
        with self.store.session(write=False) as session:
            return [
                PipelineSummary(r.name, r.current_version, count, r.updated_at)
                for r, count in session.execute(query)
            ]

    def versions(self, name: str) -> builtins.list[VersionSummary]:
        """Every saved version of pipeline ``name``, oldest first."""
        with self.store.session(write=False) as session:
            record = self._require(session, name)
            versions = session.scalars(
                select(PipelineVersionRecord)
                .where(PipelineVersionRecord.pipeline_id == record.id)
                .order_by(PipelineVersionRecord.version)
            )
            return [
                VersionSummary(name, v.version, v.node_count, v.message, v.created_at)
                for v in versions
            ]

    def delete(self, name: str) -> None:
        """Delete pipeline ``name`` and all its versions (its runs stay in the run history)."""
        with self.store.session() as session:
            session.delete(self._require(session, name, lock=True))

    # -- single nodes --------------------------------------------------------------------
    def add_node(self, name: str, node: Node, message: str | None = None) -> VersionSummary:
        """Add ``node`` to pipeline ``name`` as a new version."""

        def change(pipeline: Pipeline) -> None:
            if node.name in pipeline.nodes:
                raise StoreError(
                    f"pipeline '{name}' already has a node '{node.name}'",
                    hint="use update_node() to change it",
                )
            pipeline.add(node)

        return self._edit(name, change, message or f"add node '{node.name}'")

    def update_node(self, name: str, node: Node, message: str | None = None) -> VersionSummary:
        """Replace the node of the same name in pipeline ``name`` (keeping its place)."""

        def change(pipeline: Pipeline) -> None:
            _require_node(pipeline, node.name)
            pipeline.add(node)

        return self._edit(name, change, message or f"update node '{node.name}'")

    def remove_node(self, name: str, node_name: str, message: str | None = None) -> VersionSummary:
        """Remove node ``node_name`` from pipeline ``name``; refused if other nodes read it."""

        def change(pipeline: Pipeline) -> None:
            _require_node(pipeline, node_name)
            pipeline.remove(node_name)

        return self._edit(name, change, message or f"remove node '{node_name}'")

    # -- internals -----------------------------------------------------------------------
    def _edit(self, name: str, change: Callable[[Pipeline], None], message: str) -> VersionSummary:
        with self.store.session() as session:
            # Read and write in one locked transaction, so concurrent edits cannot be lost.
            record = self._require(session, name, lock=True)
            current = session.scalar(
                select(PipelineVersionRecord.definition).where(
                    PipelineVersionRecord.pipeline_id == record.id,
                    PipelineVersionRecord.version == record.current_version,
                )
            )
            pipeline = Pipeline.from_dict(current or {"name": name})
            change(pipeline)
            return _add_version(session, record, _checked(pipeline), message)

    def _exists(self, name: str) -> StoreError:
        return StoreError(
            f"pipeline '{name}' already exists in the store {self.store.url}",
            hint="use update() (or save()) to store a new version of it",
        )

    def _require(self, session: Session, name: str, *, lock: bool = False) -> PipelineRecord:
        record = _find(session, name, lock=lock)
        if record is None:
            names = session.scalars(select(PipelineRecord.name)).all()
            raise StoreError(
                f"no pipeline '{name}' in the store {self.store.url}",
                hint=did_you_mean(name, names)
                or (
                    f"saved pipelines: {', '.join(sorted(names))}"
                    if names
                    else "none saved yet; use create() or save()"
                ),
            )
        return record


def _find(session: Session, name: str, *, lock: bool = False) -> PipelineRecord | None:
    query = select(PipelineRecord).where(PipelineRecord.name == name)
    if lock:
        query = query.with_for_update()  # PostgreSQL row lock; SQLite's BEGIN IMMEDIATE suffices
    return session.scalars(query).first()


def _require_node(pipeline: Pipeline, node_name: str) -> None:
    if node_name not in pipeline.nodes:
        raise StoreError(
            f"pipeline '{pipeline.name}' has no node '{node_name}'",
            hint=did_you_mean(node_name, pipeline.nodes)
            or f"its nodes: {', '.join(pipeline.nodes) or 'none'}",
        )


def _checked(pipeline: Pipeline) -> dict[str, Any]:
    """``pipeline.to_dict()`` as stored, after checking it can run and be rebuilt."""
    for node in pipeline.nodes.values():
        if node.func is not None:
            raise PipelineDefinitionError(
                "is a Python function; only code and component nodes can be saved",
                node=node.name,
                hint="turn it into a code cell (%%pipeline) or a component node",
            )
    too_long = [n for n in (pipeline.name, *pipeline.nodes) if len(n) > NAME_LENGTH]
    if too_long:
        raise PipelineDefinitionError(
            f"name '{too_long[0][:40]}...' is longer than {NAME_LENGTH} characters",
            hint="the store keeps pipeline and node names of up to 255 characters",
        )
    pipeline.check()
    definition: dict[str, Any] = strict_json(pipeline.to_dict(), what=f"pipeline '{pipeline.name}'")
    return definition


def _add_version(
    session: Session, record: PipelineRecord, definition: dict[str, Any], message: str | None
) -> VersionSummary:
    now = utcnow()
    record.current_version += 1
    record.updated_at = now
    if record.id is None:
        session.flush()  # a new pipeline: its id is needed below
    # Linking by id, not record.versions.append, avoids loading every older definition.
    version = PipelineVersionRecord(
        pipeline_id=record.id,
        version=record.current_version,
        definition=definition,
        message=message,
        created_at=now,
        node_count=len(definition["nodes"]),
    )
    session.add(version)
    session.flush()
    return VersionSummary(record.name, version.version, version.node_count, message, now)
