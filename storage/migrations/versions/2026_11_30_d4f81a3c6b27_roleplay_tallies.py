"""What /results counts of a scenario's role-plays, kept as they happen (roleplaytally, facttally,
unmatchedtally).

Filled from the role-plays and turns already stored; from here on storage/roleplay_tallies.py
keeps them as role-plays finish and as the customer misses a line.

Revision ID: d4f81a3c6b27
Revises: 7c1e5d2a9b40
Create Date: 2026-11-30 08:05:00.000000
"""

import hashlib
from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4f81a3c6b27"
down_revision: str | Sequence[str] | None = "7c1e5d2a9b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2_000


def rep_and_scenario() -> tuple[sa.Column[str], sa.Column[int]]:
    """The columns each tally starts its key with (new ones for each table)."""
    return sa.Column("scenario_id", sa.String(length=40), nullable=False), sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False)


def upgrade() -> None:
    op.create_table(
        "roleplaytally",
        *rep_and_scenario(),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("played", sa.Integer(), nullable=False),
        sa.Column("best", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scenario_id", "user_id", "outcome"),
    )
    op.create_table(
        "facttally",
        *rep_and_scenario(),
        sa.Column("fact", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scenario_id", "user_id", "fact"),
    )
    unmatched = op.create_table(
        "unmatchedtally",
        *rep_and_scenario(),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("digest", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scenario_id", "digest", "user_id", "state"),
        sqlite_with_rowid=False,
    )
    finished = "FROM roleplay WHERE finished_at IS NOT NULL"
    op.execute(
        "INSERT INTO roleplaytally (scenario_id, user_id, outcome, played, best) "
        f"SELECT scenario_id, user_id, coalesce(outcome, 'abandoned'), count(*), max(coalesce(score, 0)) {finished} "
        "GROUP BY scenario_id, user_id, coalesce(outcome, 'abandoned')"
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    items, kind = ("json_array_elements_text", "json_typeof") if postgres else ("json_each", "json_type")
    op.execute(
        "INSERT INTO facttally (scenario_id, user_id, fact, count) "
        f"SELECT scenario_id, user_id, item.value, count(*) FROM roleplay CROSS JOIN {items}(facts_uncovered) AS item "
        f"WHERE finished_at IS NOT NULL AND {kind}(facts_uncovered) = 'array' GROUP BY scenario_id, user_id, item.value"
    )
    # Lines are keyed as storage/roleplay_tallies.line_key keys them (stripped, lower case, a digest).
    state = "turn.verdict ->> 'state'" if postgres else "json_extract(turn.verdict, '$.state')"
    missed = sa.text(
        f"SELECT roleplay.scenario_id, roleplay.user_id, coalesce({state}, ''), turn.rep_text "
        "FROM roleplayturn AS turn JOIN roleplay ON roleplay.id = turn.roleplay_id WHERE turn.move IS NULL"
    )
    counted: Counter[tuple[str, int, str, str]] = Counter()
    texts: dict[str, str] = {}
    for scenario_id, user_id, before, said in op.get_bind().execute(missed):
        text = said.strip().lower()
        digest = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
        texts[digest] = text
        counted[scenario_id, user_id, before, digest] += 1
    rows = [{"scenario_id": s, "user_id": u, "state": st, "digest": d, "text": texts[d], "count": n} for (s, u, st, d), n in counted.items()]
    for start in range(0, len(rows), BATCH):
        op.bulk_insert(unmatched, rows[start : start + BATCH])


def downgrade() -> None:
    for table in ("unmatchedtally", "facttally", "roleplaytally"):
        op.drop_table(table)
