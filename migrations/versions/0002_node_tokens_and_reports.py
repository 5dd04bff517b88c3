"""Per-node agent tokens and the reports (ACK/NACK) agents send.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("node_name", sa.String(253), nullable=True))
    op.create_table(
        "node_reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("node", sa.String(253), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("replica", sa.String(64), nullable=False),
        sa.Column("reported_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_node_reports"),
    )
    op.create_index("ix_node_reports_node", "node_reports", ["node", "id"])


def downgrade() -> None:
    op.drop_index("ix_node_reports_node", table_name="node_reports")
    op.drop_table("node_reports")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("node_name")
