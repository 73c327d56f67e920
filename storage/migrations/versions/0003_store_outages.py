"""store outages seen by the workers

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 07:25:00

A database that went away and came back is recorded once it is back, so `/news feeds` can say that polling
and delivery paused and when.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "store_outages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("worker_id", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_store_outages_ended_at", "store_outages", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_store_outages_ended_at", table_name="store_outages")
    op.drop_table("store_outages")
