"""channel pacing shared by every worker

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 06:00:00

When a channel may next receive a message, in the table every delivery worker reads: per-process pacing let
three workers send one channel three times the platform's rate.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.add_column(sa.Column("next_post_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("next_post_at")
