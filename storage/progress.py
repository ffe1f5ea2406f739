"""A rep's progress for the /me chart: scores over time, and the mix of SPIN questions asked in
role-plays by them or their team (the database adds the counts up)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, func
from sqlmodel import Session, col, select

from storage.models import QuizAttempt, RolePlay

ROLEPLAYS: Table = RolePlay.__table__  # type: ignore[attr-defined]


def quiz_scores_over_time(session: Session, user_id: int) -> list[tuple[datetime, int]]:
    """When the rep finished each full quiz attempt, and its score, oldest first."""
    query = (
        select(QuizAttempt.finished_at, QuizAttempt.score)
        .where(QuizAttempt.user_id == user_id, QuizAttempt.mode == "full", col(QuizAttempt.finished_at).is_not(None))
        .order_by(col(QuizAttempt.finished_at), col(QuizAttempt.id))
    )
    return [(finished, score or 0) for finished, score in session.exec(query).all() if finished is not None]


def roleplay_scores_over_time(session: Session, user_id: int) -> list[tuple[datetime, int]]:
    """When the rep finished each role-play, and its score, oldest first."""
    query = (
        select(RolePlay.finished_at, RolePlay.score)
        .where(RolePlay.user_id == user_id, col(RolePlay.finished_at).is_not(None))
        .order_by(col(RolePlay.finished_at), col(RolePlay.id))
    )
    return [(finished, score or 0) for finished, score in session.exec(query).all() if finished is not None]


def question_mix(session: Session, user_ids: set[int], kinds: Sequence[str]) -> dict[str, int]:
    """How many questions of each kind (a key of each role-play's question counts) the reps
    `user_ids` asked over their finished role-plays, summed by the database."""
    counts = ROLEPLAYS.c.question_counts
    sums = [func.coalesce(func.sum(counts[kind].as_integer()), 0) for kind in kinds]
    query = select(*sums).where(ROLEPLAYS.c.user_id.in_(user_ids or {-1}), ROLEPLAYS.c.finished_at.is_not(None))
    return dict(zip(kinds, session.execute(query).one(), strict=True))
