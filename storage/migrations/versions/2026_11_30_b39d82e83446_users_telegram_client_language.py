"""The language of each user's Telegram client (user.lang_hint), for nudges and pushes to reps who chose none.

Empty for users met before this revision: they keep getting Chinese until their next message.

Revision ID: b39d82e83446
Revises: 305ba908d76b
Create Date: 2026-11-30 00:41:56.935638
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b39d82e83446"
down_revision: str | Sequence[str] | None = "305ba908d76b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lang_hint", sa.String(length=16), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("lang_hint")
