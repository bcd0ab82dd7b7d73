"""The metadata store: pipelines and their versions, runs and node runs, data sources, in SQL.

SQLite under ``PIPELINE_LAB_HOME`` by default; any SQLAlchemy URL (PostgreSQL via psycopg 3)
through ``PIPELINE_LAB_DB_URL``. The schema is migrated with Alembic when a store is opened.
"""

from __future__ import annotations

from pipeline_lab.store._builder import PipelineBuilder, PipelineSummary, VersionSummary
from pipeline_lab.store._engine import Store, close_stores, open_store
from pipeline_lab.store._observer import StoreObserver
from pipeline_lab.store._runs import NodeRunSummary, RunDetail, RunRepository, RunSummary
from pipeline_lab.store._schema import HEAD_REVISION
from pipeline_lab.store._sources import StoreSourceCatalog

__all__ = [
    "HEAD_REVISION",
    "NodeRunSummary",
    "PipelineBuilder",
    "PipelineSummary",
    "RunDetail",
    "RunRepository",
    "RunSummary",
    "Store",
    "StoreObserver",
    "StoreSourceCatalog",
    "VersionSummary",
    "close_stores",
    "open_store",
]
