"""What a rep has done that a learning path counts, read in one go: lessons read, drills, quizzes
and role-plays. Lessons read and drills finished are recorded here (they leave no record of their
own); quiz attempts and role-plays are read from their tables."""

from __future__ import annotations

from collections import defaultdict
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


def record_lesson_read(session: Session, user_id: int, lesson_id: str, at: datetime) -> None:
    """The rep has read this lesson `at` (the engine's time), wherever it was shown (/path, the SPIN
    coach): a path step asking for it is met. Recorded once; reading it again adds nothing."""
    read = select(StudyRecord.id).where(StudyRecord.user_id == user_id, StudyRecord.kind == "lesson", StudyRecord.item_id == lesson_id)
    if session.exec(read).first() is None:
        session.add(StudyRecord(user_id=user_id, kind="lesson", item_id=lesson_id, at=at))


def record_drill(session: Session, user_id: int, script_id: str, right: int, at: datetime) -> None:
    """The rep finished a drill of this script `at` (the engine's time) with `right` questions at the right stage."""
    session.add(StudyRecord(user_id=user_id, kind="drill", item_id=script_id, right=right, at=at))


def evidence_of(session: Session, user_id: int) -> Evidence:
    """The rep's lessons read, best drill per script, best full quiz score per quiz, and finished role-plays."""
    return evidence_of_reps(session, [user_id]).get(user_id, Evidence())


def evidence_of_reps(session: Session, user_ids: list[int], before: datetime | None = None) -> dict[int, Evidence]:
    """`evidence_of` for several reps in three queries, counting only what they did before `before`
    when it is given (how far along their paths they were then); reps who did nothing are left out."""
    records_query = (
        select(StudyRecord.user_id, StudyRecord.kind, StudyRecord.item_id, func.max(StudyRecord.right))
        .where(col(StudyRecord.user_id).in_(user_ids))
        .group_by(col(StudyRecord.user_id), col(StudyRecord.kind), col(StudyRecord.item_id))
    )
    quizzes_query = (
        select(QuizAttempt.user_id, QuizAttempt.quiz_id, func.max(QuizAttempt.score))
        .where(col(QuizAttempt.user_id).in_(user_ids), QuizAttempt.mode == "full", col(QuizAttempt.finished_at).is_not(None))
        .group_by(col(QuizAttempt.user_id), col(QuizAttempt.quiz_id))
    )
    roleplays_query = (
        select(RolePlay.user_id, RolePlay.scenario_id, RolePlay.score, RolePlay.question_counts)
        .where(col(RolePlay.user_id).in_(user_ids), col(RolePlay.finished_at).is_not(None))
        .order_by(col(RolePlay.id))
    )
    if before is not None:
        records_query = records_query.where(col(StudyRecord.at) < before)
        quizzes_query = quizzes_query.where(col(QuizAttempt.finished_at) < before)
        roleplays_query = roleplays_query.where(col(RolePlay.finished_at) < before)
    lessons: dict[int, set[str]] = defaultdict(set)
    drills: dict[int, dict[str, int]] = defaultdict(dict)
    quizzes: dict[int, dict[str, int]] = defaultdict(dict)
    roleplays: dict[int, list[Played]] = defaultdict(list)
    for user_id, kind, item, right in session.exec(records_query):
        if kind == "lesson":
            lessons[user_id].add(item)
        elif kind == "drill":
            drills[user_id][item] = right
    for user_id, quiz_id, score in session.exec(quizzes_query):
        quizzes[user_id][quiz_id] = score or 0
    for user_id, scenario_id, score, counts in session.exec(roleplays_query):
        roleplays[user_id].append(Played(scenario_id, score or 0, dict(counts)))
    return {
        user_id: Evidence(frozenset(lessons[user_id]), drills[user_id], quizzes[user_id], tuple(roleplays[user_id]))
        for user_id in user_ids
        if user_id in lessons or user_id in drills or user_id in quizzes or user_id in roleplays
    }


def paths_assigned_to(session: Session, user_id: int) -> dict[str, datetime | None]:
    """The paths trainers assigned to this rep, each with its deadline (the latest assignment's)."""
    rows = session.exec(
        select(Assignment.path_id, Assignment.deadline)
        .join(Delivery, col(Delivery.assignment_id) == col(Assignment.id))
        .where(Delivery.user_id == user_id, Delivery.kind == "invite", col(Assignment.path_id).is_not(None))
        .order_by(col(Assignment.created_at), col(Assignment.id))
    ).all()
    return {path_id: deadline for path_id, deadline in rows if path_id}
