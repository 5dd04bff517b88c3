"""One revision per write: the change log may hold several objects under one revision (a Pod
write and the selector endpoints it changed), so its key becomes (revision, kind, namespace,
name).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("change_log", recreate="always") as batch:
        batch.drop_constraint("pk_change_log", type_="primary")
        batch.create_primary_key("pk_change_log", ["revision", "kind", "namespace", "name"])


def downgrade() -> None:
    # Keep one row per revision (the first object of each write) so the old key holds.
    op.execute(
        "DELETE FROM change_log WHERE EXISTS (SELECT 1 FROM change_log AS other "
        "WHERE other.revision = change_log.revision AND (other.kind, other.namespace, "
        "other.name) < (change_log.kind, change_log.namespace, change_log.name))"
    )
    with op.batch_alter_table("change_log", recreate="always") as batch:
        batch.drop_constraint("pk_change_log", type_="primary")
        batch.create_primary_key("pk_change_log", ["revision"])
