"""Crash-safe runs (host, pid, heartbeat, why they ended); what each node run measured,
checked and touched; node counts on versions instead of a node table nothing read.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the lifecycle and node-run columns; replace ``pipeline_nodes`` by a count."""
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("reason", sa.String(length=32), nullable=True))
        runs.add_column(sa.Column("error", sa.Text(), nullable=True))
        runs.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        runs.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        runs.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_runs_status", "runs", ["status"])
    with op.batch_alter_table("node_runs") as node_runs:
        node_runs.add_column(sa.Column("metrics", sa.JSON(), nullable=True))
        node_runs.add_column(sa.Column("checks", sa.JSON(), nullable=True))
        node_runs.add_column(sa.Column("datasets", sa.JSON(), nullable=True))
    with op.batch_alter_table("pipeline_versions") as versions:
        versions.add_column(
            sa.Column("node_count", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE pipeline_versions SET node_count = (SELECT count(*) FROM pipeline_nodes "
        "WHERE pipeline_nodes.version_id = pipeline_versions.id)"
    )
    op.drop_table("pipeline_nodes")


def downgrade() -> None:
    """Restore the node table (empty: node rows are in each version's definition)."""
    op.create_table(
        "pipeline_nodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("component", sa.String(length=255), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=True),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("retry", sa.JSON(), nullable=False),
        sa.Column("timeout", sa.Float(), nullable=True),
        sa.Column("cache", sa.Boolean(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("position", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["pipeline_versions.id"],
            name="fk_pipeline_nodes_version_id_pipeline_versions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pipeline_nodes"),
        sa.UniqueConstraint("version_id", "name", name="uq_pipeline_nodes_version_id_name"),
    )
    with op.batch_alter_table("pipeline_versions") as versions:
        versions.drop_column("node_count")
    with op.batch_alter_table("node_runs") as node_runs:
        node_runs.drop_column("datasets")
        node_runs.drop_column("checks")
        node_runs.drop_column("metrics")
    op.drop_index("ix_runs_status", table_name="runs")
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("heartbeat_at")
        runs.drop_column("pid")
        runs.drop_column("host")
        runs.drop_column("error")
        runs.drop_column("reason")
