"""Migrations: they build exactly the models' schema, and an up-to-date store skips Alembic."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, inspect, text

from pipeline_lab.errors import StoreError
from pipeline_lab.store import HEAD_REVISION, Store
from pipeline_lab.store._models import Base
from pipeline_lab.store._schema import alembic_config

TABLES = {"pipelines", "pipeline_versions", "runs", "node_runs"}


def _diffs(store: Store, metadata: MetaData) -> list[object]:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_head_revision_constant_is_the_newest_migration() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    assert scripts.get_heads() == [HEAD_REVISION]


def test_migrations_create_the_schema(fresh_url: str) -> None:
    store = Store(fresh_url)
    try:
        tables = set(inspect(store.engine).get_table_names())
        assert tables >= TABLES | {"alembic_version"}
        with store.engine.connect() as conn:
            stamped = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        assert stamped == HEAD_REVISION
    finally:
        store.close()


def test_migrated_schema_matches_the_models(store: Store) -> None:
    assert _diffs(store, Base.metadata) == []


def test_schema_comparison_notices_a_difference(store: Store) -> None:
    """The check above can fail: a column the migrations lack is reported."""
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["runs"].append_column(Column("not_migrated", Integer))
    assert [d[0] for d in _diffs(store, changed)] == ["add_column"]


def test_reopening_an_up_to_date_store_does_not_import_alembic(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    Store(url).close()
    code = (
        "import sys\n"
        "from pipeline_lab.store import Store\n"
        f"Store({url!r}).close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_store_from_a_newer_release_is_refused(fresh_url: str) -> None:
    Store(fresh_url).close()
    store = Store(fresh_url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    store.close()
    with pytest.raises(StoreError, match=r"(?s)revision 'ffff'.*upgrade pipeline-lab"):
        Store(fresh_url)


def test_an_older_store_is_upgraded(fresh_url: str) -> None:
    """A store stamped at an older revision (here: none, emptied) is migrated on open."""
    store = Store(fresh_url)
    with store.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f"DROP TABLE {table.name}"))
        conn.execute(text("DELETE FROM alembic_version"))
    store.close()
    reopened = Store(fresh_url)
    try:
        assert set(inspect(reopened.engine).get_table_names()) >= TABLES
    finally:
        reopened.close()


def test_alembic_check_finds_nothing_to_generate(store: Store, store_url: str) -> None:
    """The developer path of env.py (its own engine): ``alembic check`` sees no pending change."""
    from alembic import command

    config = alembic_config()
    config.set_main_option("sqlalchemy.url", store_url)
    command.check(config)


def test_a_store_at_revision_0002_keeps_its_runs_and_node_counts(fresh_url: str) -> None:
    """0003 adds the lifecycle columns and replaces the node table by a count, losing nothing."""
    from alembic import command

    store = Store(fresh_url)
    config = alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    with store.engine.begin() as conn:  # what release 0002 wrote: a version, its nodes, a run
        conn.execute(
            text(
                "INSERT INTO pipelines (id, name, current_version, created_at, updated_at) "
                "VALUES (1, 'old', 1, '2026-11-01 00:00:00+00:00', '2026-11-01 00:00:00+00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO pipeline_versions (id, pipeline_id, version, definition, message, "
                "created_at) VALUES (1, 1, 1, :d, 'created', '2026-11-01 00:00:00+00:00')"
            ),
            {"d": '{"name": "old", "nodes": [{"name": "a"}, {"name": "b"}]}'},
        )
        for ordinal, name in enumerate("ab"):
            conn.execute(
                text(
                    "INSERT INTO pipeline_nodes (version_id, ordinal, name, kind, params, "
                    "checks, retry, cache, tags) VALUES (1, :o, :n, 'code', '{}', '[]', '{}', "
                    ":f, '[]')"
                ),
                {"o": ordinal, "n": name, "f": False},
            )
        conn.execute(
            text(
                "INSERT INTO runs (run_id, pipeline, status, source, executor, params, "
                "started_at, report_errors, hook_errors) VALUES ('abc', 'old', 'succeeded', "
                "'cli', 'threads', '{}', '2026-11-01 00:00:00+00:00', '{}', '[]')"
            )
        )
    store.close()
    reopened = Store(fresh_url)
    try:
        tables = set(inspect(reopened.engine).get_table_names())
        assert "pipeline_nodes" not in tables
        from pipeline_lab.store import PipelineBuilder, RunRepository

        assert [v.nodes for v in PipelineBuilder(reopened).versions("old")] == [2]
        run = RunRepository(reopened).get_run("abc")
        assert (run.status, run.reason, run.host, run.pid) == ("succeeded", None, None, None)
        assert _diffs(reopened, Base.metadata) == []
    finally:
        reopened.close()
