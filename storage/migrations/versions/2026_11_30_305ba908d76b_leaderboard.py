"""Leaderboards: a rep's opt-in and nickname, and the days they reviewed (issue #20, part 4).

Every rep starts off the boards (on_leaderboard false, no nickname); review days start empty, so
streaks count from the first review after this revision.

Revision ID: 305ba908d76b
Revises: 5978f118ba06
Create Date: 2026-11-30 00:39:52.371525
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "305ba908d76b"
down_revision: str | Sequence[str] | None = "5978f118ba06"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reviewday",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "day"),
    )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("on_leaderboard", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("nickname", sa.String(length=24), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("nickname")
        batch_op.drop_column("on_leaderboard")

    op.drop_table("reviewday")
