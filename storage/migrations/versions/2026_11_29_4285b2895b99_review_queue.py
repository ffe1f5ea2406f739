"""The spaced-review queue: each rep's review items with their FSRS cards, and their daily nudge (issue #20).

reviewitem holds what a rep got wrong (quiz questions, SPIN types, speech acts) and when FSRS
wants it again; reviewreminder the time of the rep's daily nudge, their quiet hours and the
day they were last nudged.

Revision ID: 4285b2895b99
Revises: 339fc550b028
Create Date: 2026-11-29 21:58:44.644196
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4285b2895b99"
down_revision: str | Sequence[str] | None = "339fc550b028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reviewitem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("ref", sa.String(length=90), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("stability", sa.Float(), nullable=True),
        sa.Column("difficulty", sa.Float(), nullable=True),
        sa.Column("due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_review", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "kind", "ref"),
    )
    with op.batch_alter_table("reviewitem", schema=None) as batch_op:
        batch_op.create_index("ix_reviewitem_due", ["user_id", "due"], unique=False)

    op.create_table(
        "reviewreminder",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at_minute", sa.Integer(), nullable=True),
        sa.Column("quiet_from", sa.Integer(), nullable=False),
        sa.Column("quiet_to", sa.Integer(), nullable=False),
        sa.Column("nudged_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("reviewreminder")
    with op.batch_alter_table("reviewitem", schema=None) as batch_op:
        batch_op.drop_index("ix_reviewitem_due")

    op.drop_table("reviewitem")
