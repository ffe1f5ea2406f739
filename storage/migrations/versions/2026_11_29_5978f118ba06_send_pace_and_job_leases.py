"""One send budget for every bot process (sendpace) and periodic jobs run once per deployment (joblease).

sendpace holds when the next message may go out, for the bot as a whole (row 0) and per chat;
joblease says which process runs each periodic job until its lease expires.

Revision ID: 5978f118ba06
Revises: 963a1235625f
Create Date: 2026-11-29 22:01:06.302513
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5978f118ba06"
down_revision: str | Sequence[str] | None = "963a1235625f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "joblease",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("expires", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "sendpace",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id"),
    )


def downgrade() -> None:
    op.drop_table("sendpace")
    op.drop_table("joblease")
