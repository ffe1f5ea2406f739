"""Baseline: the schema as `create_all` made it before there were migrations.

Revision ID: a2841537ab45
Revises:
Create Date: 2026-11-29 19:10:01.326319

A new database gets every table here. A database made before migrations existed gets only
what it lacks (`if_not_exists`): tables and indexes added in versions newer than the one that
made it. The indexes that older versions made and later models dropped go, so such a database
ends up the same as a new one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a2841537ab45"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Indexes of single columns that versions before 2026-11-29 created and later models replaced
# with the composite ones below (ix_need_board, ix_delivery_due, ix_roleplay_results, …).
OBSOLETE_INDEXES = {
    "delivery": ("ix_delivery_status",),
    "need": ("ix_need_rep_id", "ix_need_source", "ix_need_status", "ix_need_priority", "ix_need_created_at"),
    "needtag": ("ix_needtag_tag",),
    "roleplay": ("ix_roleplay_scenario_id",),
}


def upgrade() -> None:
    for table, indexes in OBSOLETE_INDEXES.items():
        for index in indexes:
            op.drop_index(index, table_name=table, if_exists=True)
    op.create_table(
        "auditentry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index("ix_auditentry_at", "auditentry", ["at"], unique=False, if_not_exists=True)
    op.create_index("ix_auditentry_user_id", "auditentry", ["user_id"], unique=False, if_not_exists=True)
    op.create_table(
        "dialogstate",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("dialog", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=60), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
        if_not_exists=True,
    )
    op.create_table(
        "need",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rep_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("customer", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("roleplay_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index("ix_need_board", "need", ["status", "source", "created_at", "id", "rep_id"], unique=False, if_not_exists=True)
    op.create_index("ix_need_priority_created", "need", ["status", "source", "priority", "created_at", "id"], unique=False, if_not_exists=True)
    op.create_index("ix_need_rep_created", "need", ["rep_id", "created_at", "id"], unique=False, if_not_exists=True)
    op.create_index("ix_need_status_created", "need", ["status", "created_at", "id"], unique=False, if_not_exists=True)
    op.create_table(
        "needdraft",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
        if_not_exists=True,
    )
    op.create_table(
        "processedupdate",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id"),
        if_not_exists=True,
    )
    op.create_table(
        "quizattempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("quiz_id", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("question_ids", sa.JSON(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index("ix_quizattempt_quiz_id", "quizattempt", ["quiz_id"], unique=False, if_not_exists=True)
    op.create_index("ix_quizattempt_user_id", "quizattempt", ["user_id"], unique=False, if_not_exists=True)
    op.create_table(
        "rolegrant",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("granted_by", sa.BigInteger(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "role"),
        if_not_exists=True,
    )
    op.create_table(
        "roleplay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("scenario_id", sa.String(length=40), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("strikes", sa.Integer(), nullable=False),
        sa.Column("goodwill", sa.Integer(), nullable=False),
        sa.Column("marks", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("facts_uncovered", sa.JSON(), nullable=False),
        sa.Column("question_counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index("ix_roleplay_finished_at", "roleplay", ["finished_at"], unique=False, if_not_exists=True)
    op.create_index("ix_roleplay_results", "roleplay", ["scenario_id", "finished_at", "user_id", "score", "outcome"], unique=False, if_not_exists=True)
    op.create_index("ix_roleplay_user_id", "roleplay", ["user_id"], unique=False, if_not_exists=True)
    op.create_table(
        "spinstep",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("rounds_done", sa.Integer(), nullable=False),
        sa.Column("first_try", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("served", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.String(length=40), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("misses", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "stage"),
        if_not_exists=True,
    )
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index("ix_team_name", "team", ["name"], unique=True, if_not_exists=True)
    op.create_table(
        "user",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("progress_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("progress_message_id", sa.Integer(), nullable=True),
        sa.Column("progress_shown", sa.Integer(), nullable=False),
        sa.Column("summary_sent", sa.Boolean(), nullable=False),
        sa.Column("reminder_queued", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index("ix_assignment_quiz_id", "assignment", ["quiz_id"], unique=False, if_not_exists=True)
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index("ix_invitation_code_hash", "invitation", ["code_hash"], unique=True, if_not_exists=True)
    op.create_table(
        "membership",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("user_id", "team_id"),
        if_not_exists=True,
    )
    op.create_table(
        "needchange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old", sa.Text(), nullable=False),
        sa.Column("new", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["need_id"], ["need.id"]),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index("ix_needchange_need_id", "needchange", ["need_id"], unique=False, if_not_exists=True)
    op.create_table(
        "needtag",
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["need_id"], ["need.id"]),
        sa.PrimaryKeyConstraint("need_id", "tag"),
        if_not_exists=True,
    )
    op.create_index("ix_needtag_tag_need", "needtag", ["tag", "need_id"], unique=False, if_not_exists=True)
    op.create_table(
        "quizanswer",
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=40), nullable=False),
        sa.Column("chosen", sa.JSON(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["attempt_id"], ["quizattempt.id"]),
        sa.PrimaryKeyConstraint("attempt_id", "question_id"),
        if_not_exists=True,
    )
    op.create_table(
        "roleplayturn",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("roleplay_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("rep_text", sa.String(), nullable=False),
        sa.Column("suggested", sa.Boolean(), nullable=False),
        sa.Column("verdict", sa.JSON(), nullable=False),
        sa.Column("move", sa.String(length=40), nullable=True),
        sa.Column("customer_text", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["roleplay_id"], ["roleplay.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("roleplay_id", "number"),
        if_not_exists=True,
    )
    op.create_index("ix_roleplayturn_roleplay_id", "roleplayturn", ["roleplay_id"], unique=False, if_not_exists=True)
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("assignment_id", "kind", "user_id"),
        if_not_exists=True,
    )
    op.create_index("ix_delivery_assignment_id", "delivery", ["assignment_id"], unique=False, if_not_exists=True)
    op.create_index("ix_delivery_due", "delivery", ["status", "not_before", "id"], unique=False, if_not_exists=True)
    op.create_table(
        "invitationuse",
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitation.id"]),
        sa.PrimaryKeyConstraint("invitation_id", "user_id"),
        if_not_exists=True,
    )


def downgrade() -> None:
    for table in (
        "invitationuse",
        "delivery",
        "roleplayturn",
        "quizanswer",
        "needtag",
        "needchange",
        "membership",
        "invitation",
        "assignment",
        "user",
        "team",
        "spinstep",
        "roleplay",
        "rolegrant",
        "quizattempt",
        "processedupdate",
        "needdraft",
        "need",
        "dialogstate",
        "auditentry",
    ):
        op.drop_table(table)
