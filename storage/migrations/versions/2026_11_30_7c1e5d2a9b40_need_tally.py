"""How many needs each rep has of each status and source (needtally), for the needs board's count.

Filled from the needs already stored; from here on storage/needs.py keeps it as needs are
recorded and withdrawn.

Revision ID: 7c1e5d2a9b40
Revises: b39d82e83446
Create Date: 2026-11-30 06:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c1e5d2a9b40"
down_revision: str | Sequence[str] | None = "b39d82e83446"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "needtally",
        sa.Column("rep_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("rep_id", "status", "source"),
    )
    op.execute("INSERT INTO needtally (rep_id, status, source, count) SELECT rep_id, status, source, count(*) FROM need GROUP BY rep_id, status, source")


def downgrade() -> None:
    op.drop_table("needtally")
