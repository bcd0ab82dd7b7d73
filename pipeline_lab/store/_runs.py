"""``RunRepository``: the runs a store holds, newest first, and one run in detail."""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from pipeline_lab.errors import StoreError
from pipeline_lab.store._engine import Repository
from pipeline_lab.store._models import NodeRunRecord, RunRecord

_HEX = re.compile(r"[0-9a-f]+")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


class _JsonRecord:
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as ISO 8601 strings, nested records as dicts)."""
        data: dict[str, Any] = _jsonable(asdict(cast(Any, self)))
        return data


@dataclass(frozen=True)
class NodeRunSummary(_JsonRecord):
    """One node's outcome in a stored run."""

    name: str
    status: str
    attempts: int
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: float | None
    cpu_s: float | None
    rows: int | None
    columns: int | None
    error: str | None
    traceback: str | None
    timed_out: bool
    metrics: Mapping[str, Any] | None = None
    checks: tuple[Mapping[str, Any], ...] = ()
    datasets: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_record(cls, record: NodeRunRecord) -> NodeRunSummary:
        values = {
            f.name: getattr(record, f.name)
            for f in fields(cls)
            if f.name not in ("name", "checks", "datasets")
        }
        return cls(
            name=record.node,
            checks=tuple(record.checks or ()),
            datasets=tuple(record.datasets or ()),
            **values,
        )


@dataclass(frozen=True)
class _RunFields(_JsonRecord):
    run_id: str
    pipeline: str
    pipeline_version: int | None
    status: str
    source: str
    executor: str
    started_at: datetime
    ended_at: datetime | None
    duration_s: float | None
    reason: str | None
    host: str | None
    pid: int | None


_RUN_FIELDS = tuple(f.name for f in fields(_RunFields))


@dataclass(frozen=True)
class RunSummary(_RunFields):
    """A stored run as ``list_runs`` shows it; ``nodes`` is how many node runs it has."""

    nodes: int


@dataclass(frozen=True)
class RunDetail(_RunFields):
    """A stored run with its parameters, errors and node runs (in run order)."""

    params: Mapping[str, Any]
    error: str | None
    heartbeat_at: datetime | None
    setup_error: str | None
    report_errors: Mapping[str, str]
    hook_errors: tuple[str, ...]
    nodes: tuple[NodeRunSummary, ...]

    @classmethod
    def from_record(cls, record: RunRecord) -> RunDetail:
        return cls(
            **{name: getattr(record, name) for name in _RUN_FIELDS},
            params=dict(record.params or {}),
            error=record.error,
            heartbeat_at=record.heartbeat_at,
            setup_error=record.setup_error,
            report_errors=dict(record.report_errors or {}),
            hook_errors=tuple(record.hook_errors or ()),
            nodes=tuple(NodeRunSummary.from_record(n) for n in record.node_runs),
        )

    def node(self, name: str) -> NodeRunSummary:
        """The run of node ``name``."""
        for node_run in self.nodes:
            if node_run.name == name:
                return node_run
        raise KeyError(name)


class RunRepository(Repository):
    """Read the runs a store holds.

    Parameters
    ----------
    store
        The store to read; ``None`` means the configured one.

    Examples
    --------
    >>> runs = RunRepository()
    >>> latest = runs.list_runs(limit=1)[0]
    >>> runs.get_run(latest.run_id[:6]).nodes
    """

    def list_runs(
        self,
        pipeline: str | None = None,
        limit: int = 20,
        *,
        hide_sources: tuple[str, ...] = (),
    ) -> list[RunSummary]:
        """The ``limit`` most recent runs, newest first, of ``pipeline`` or of every pipeline;
        runs started from a source in ``hide_sources`` (``cell``: one notebook cell) left out."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        nodes = (
            select(func.count())
            .select_from(NodeRunRecord)
            .where(NodeRunRecord.run_id == RunRecord.run_id)
            .scalar_subquery()
        )
        query = select(RunRecord, nodes).order_by(
            RunRecord.started_at.desc(), RunRecord.run_id.desc()
        )
        if pipeline is not None:
            query = query.where(RunRecord.pipeline == pipeline)
        if hide_sources:
            query = query.where(RunRecord.source.not_in(hide_sources))
        with self.store.session(write=False) as session:
            return [
                RunSummary(**{name: getattr(run, name) for name in _RUN_FIELDS}, nodes=count)
                for run, count in session.execute(query.limit(limit))
            ]

    def count_runs(self, *, sources: tuple[str, ...], pipeline: str | None = None) -> int:
        """How many runs came from ``sources`` (of ``pipeline``, or of every pipeline)."""
        query = select(func.count()).select_from(RunRecord).where(RunRecord.source.in_(sources))
        if pipeline is not None:
            query = query.where(RunRecord.pipeline == pipeline)
        with self.store.session(write=False) as session:
            return int(session.scalar(query) or 0)

    def node_history(
        self, pipeline: str, node: str, limit: int = 10
    ) -> list[tuple[str, str, NodeRunSummary]]:
        """The ``limit`` most recent runs of node ``node`` of ``pipeline``, newest first: each
        as its run's id, the run's source (``kernel``, ``cell``, ``cli``...) and the node run."""
        query = (
            select(NodeRunRecord, RunRecord.source)
            .join(RunRecord, NodeRunRecord.run_id == RunRecord.run_id)
            .where(RunRecord.pipeline == pipeline, NodeRunRecord.node == node)
            .order_by(RunRecord.started_at.desc(), RunRecord.run_id.desc())
            .limit(max(1, limit))
        )
        with self.store.session(write=False) as session:
            return [
                (record.run_id, source, NodeRunSummary.from_record(record))
                for record, source in session.execute(query)
            ]

    def get_run(self, run_id: str) -> RunDetail:
        """The run whose id is ``run_id`` or starts with it (like a git commit hash)."""
        prefix = run_id.strip().lower()
        if not _HEX.fullmatch(prefix):
            raise StoreError(
                f"'{run_id}' is not a run id (run ids are 32 hexadecimal characters)",
                hint="see the recorded runs with: pipeline-lab runs",
            )
        query = (
            select(RunRecord)
            .options(selectinload(RunRecord.node_runs))
            .where(RunRecord.run_id.startswith(prefix, autoescape=True))
            .order_by(RunRecord.started_at.desc())
            .limit(6)
        )
        with self.store.session(write=False) as session:
            found = list(session.scalars(query))
            if len(found) == 1:
                return RunDetail.from_record(found[0])
        if not found:
            raise StoreError(
                f"no run '{run_id}' in the store {self.store.url}",
                hint="see the recorded runs with: pipeline-lab runs",
            )
        shown = ", ".join(r.run_id[: max(len(prefix) + 4, 8)] for r in found[:5])
        more = " and more" if len(found) > 5 else ""
        raise StoreError(
            f"run id prefix '{run_id}' is ambiguous: it matches {shown}{more}",
            hint="give more characters of the run id",
        )

    def reap_abandoned(self, *, now: datetime | None = None) -> list[str]:
        """Mark ``abandoned`` the ``running`` runs whose process is gone; their ids.

        Best effort: on a store busy with a long write it gives up at once (the next call
        will do it) instead of making the caller wait.
        """
        from pipeline_lab.config import settings
        from pipeline_lab.store._liveness import dead

        interval = settings().heartbeat_s
        now = now or datetime.now(timezone.utc)
        query = select(
            RunRecord.run_id,
            RunRecord.host,
            RunRecord.pid,
            RunRecord.started_at,
            RunRecord.heartbeat_at,
        ).where(RunRecord.status == "running")
        with self.store.session(write=False) as session:
            found = {
                row.run_id: why
                for row in session.execute(query)
                if (
                    why := dead(
                        row.host,
                        row.pid,
                        row.started_at,
                        row.heartbeat_at,
                        this_host=HOST,
                        interval=interval,
                        now=now,
                    )
                )
            }
        if not found:
            return []
        try:
            with self.store.session(busy_timeout_ms=200) as session:
                for run_id, why in found.items():
                    session.execute(
                        update(RunRecord)
                        .where(RunRecord.run_id == run_id, RunRecord.status == "running")
                        .values(
                            status="abandoned",
                            reason=why,
                            ended_at=now,
                            error=_ABANDONED[why],
                        )
                    )
        except StoreError:
            return []  # locked by a long writer: reap another time
        return sorted(found)


HOST = socket.gethostname()
_ABANDONED = {
    "pid_dead": "the process running it died (killed, or its machine restarted) before it finished",
    "heartbeat_lost": "its process stopped sending heartbeats (killed, hung, or its machine "
    "was lost) before it finished",
}
