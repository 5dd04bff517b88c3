"""Pod attachments reported by the agents (switchyard-cni).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pod_attachments",
        sa.Column("node", sa.String(253), nullable=False),
        sa.Column("container_id", sa.String(256), nullable=False),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("pod", sa.String(253), nullable=False),
        sa.Column("interface", sa.String(64), nullable=False),
        sa.Column("ips", sa.JSON(), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("reported_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("node", "container_id", name="pk_pod_attachments"),
    )
    op.create_index("ix_pod_attachments_pod", "pod_attachments", ["namespace", "pod"])


def downgrade() -> None:
    op.drop_index("ix_pod_attachments_pod", table_name="pod_attachments")
    op.drop_table("pod_attachments")
