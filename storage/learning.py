"""What a rep has done that a learning path counts, read in one go: lessons read, drills, quizzes
and role-plays. Lessons read and drills finished are recorded here (they leave no record of their
own); quiz attempts and role-plays are read from their tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, func, select

from storage.models import Assignment, Delivery, QuizAttempt, RolePlay, StudyRecord


@dataclass(frozen=True)
class Played:
    """One finished role-play as a path step sees it: the scenario, the score and the question mix."""

    scenario_id: str
    score: int
    counts: dict[str, int]


@dataclass(frozen=True)
class Evidence:
    """Everything a rep has done that a path step can ask for."""

    lessons: frozenset[str] = frozenset()
    drills: dict[str, int] = field(default_factory=dict)
    quizzes: dict[str, int] = field(default_factory=dict)
    roleplays: tuple[Played, ...] = ()


def record_lesson_read(session: Session, user_id: int, lesson_id: str) -> None:
    """The rep has read this lesson, wherever it was shown (/path, the SPIN coach): a path step asking
    for it is met. Recorded once; reading it again adds nothing."""
    read = select(StudyRecord.id).where(StudyRecord.user_id == user_id, StudyRecord.kind == "lesson", StudyRecord.item_id == lesson_id)
    if session.exec(read).first() is None:
        session.add(StudyRecord(user_id=user_id, kind="lesson", item_id=lesson_id))


def record_drill(session: Session, user_id: int, script_id: str, right: int) -> None:
    """The rep finished a drill of this script with `right` questions at the right stage."""
    session.add(StudyRecord(user_id=user_id, kind="drill", item_id=script_id, right=right))


def evidence_of(session: Session, user_id: int) -> Evidence:
    """The rep's lessons read, best drill per script, best full quiz score per quiz, and finished role-plays."""
    records = session.exec(
        select(StudyRecord.kind, StudyRecord.item_id, func.max(StudyRecord.right))
        .where(StudyRecord.user_id == user_id)
        .group_by(col(StudyRecord.kind), col(StudyRecord.item_id))
    ).all()
    quizzes = session.exec(
        select(QuizAttempt.quiz_id, func.max(QuizAttempt.score))
        .where(QuizAttempt.user_id == user_id, QuizAttempt.mode == "full", col(QuizAttempt.finished_at).is_not(None))
        .group_by(col(QuizAttempt.quiz_id))
    ).all()
    roleplays = session.exec(
        select(RolePlay.scenario_id, RolePlay.score, RolePlay.question_counts)
        .where(RolePlay.user_id == user_id, col(RolePlay.finished_at).is_not(None))
        .order_by(col(RolePlay.id))
    ).all()
    return Evidence(
        lessons=frozenset(item for kind, item, _ in records if kind == "lesson"),
        drills={item: right for kind, item, right in records if kind == "drill"},
        quizzes={quiz_id: score or 0 for quiz_id, score in quizzes},
        roleplays=tuple(Played(scenario_id, score or 0, dict(counts)) for scenario_id, score, counts in roleplays),
    )


def paths_assigned_to(session: Session, user_id: int) -> dict[str, datetime | None]:
    """The paths trainers assigned to this rep, each with its deadline (the latest assignment's)."""
    rows = session.exec(
        select(Assignment.path_id, Assignment.deadline)
        .join(Delivery, col(Delivery.assignment_id) == col(Assignment.id))
        .where(Delivery.user_id == user_id, Delivery.kind == "invite", col(Assignment.path_id).is_not(None))
        .order_by(col(Assignment.created_at), col(Assignment.id))
    ).all()
    return {path_id: deadline for path_id, deadline in rows if path_id}
