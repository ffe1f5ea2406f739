"""Learning paths (issue #20): lessons read and drills passed, certificates, paths assigned to teams.

A rep's lesson reads and drill results had no record; a certificate keeps its verification code;
an assignment may name a path instead of a quiz (path_id, nullable: old rows are quiz pushes).

Revision ID: 963a1235625f
Revises: 4285b2895b99
Create Date: 2026-11-29 22:01:07.288269
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "963a1235625f"
down_revision: str | Sequence[str] | None = "4285b2895b99"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("path_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "path_id"),
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificate_code"), ["code"], unique=True)

    op.create_table(
        "studyrecord",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("right", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("studyrecord", schema=None) as batch_op:
        batch_op.create_index("ix_studyrecord_user", ["user_id", "kind", "item_id"], unique=False)

    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("path_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_column("path_id")

    with op.batch_alter_table("studyrecord", schema=None) as batch_op:
        batch_op.drop_index("ix_studyrecord_user")

    op.drop_table("studyrecord")
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_code"))

    op.drop_table("certificate")
