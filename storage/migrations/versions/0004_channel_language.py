"""a channel's alert language

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 08:10:00

Which language a channel reads its alerts in (`/news language en|es|any`): an alert takes its headline,
summary and figure labels from a member of the story in that language when there is one. Existing channels
keep today's behaviour ("any": the words of the story's first report).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=False, server_default="any"))


def downgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("language")
