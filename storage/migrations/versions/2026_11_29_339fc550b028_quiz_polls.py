"""Quiz polls: which rep, attempt and question each native Telegram quiz poll asks (issue #20, part 5).

A poll answer names only the poll and the options chosen; this table turns it into a quiz answer.

Revision ID: 339fc550b028
Revises: 95037b95ea42
Create Date: 2026-11-29 22:07:04.217921
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "339fc550b028"
down_revision: str | Sequence[str] | None = "95037b95ea42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quizpoll",
        sa.Column("poll_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.String(length=40), nullable=False),
        sa.Column("question_id", sa.String(length=40), nullable=False),
        sa.Column("option_ids", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["quizattempt.id"],
        ),
        sa.PrimaryKeyConstraint("poll_id"),
    )
    with op.batch_alter_table("quizpoll", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quizpoll_attempt_id"), ["attempt_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quizpoll", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quizpoll_attempt_id"))

    op.drop_table("quizpoll")
