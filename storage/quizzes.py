"""Quiz attempts and answers: recorded once each, whatever buttons are pressed twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from storage.models import Assignment, Delivery, QuizAnswer, QuizAttempt


def start_attempt(session: Session, user_id: int, quiz_id: str, question_ids: list[str], mode: str, lang: str, at: datetime) -> QuizAttempt:
    """A new attempt at a quiz, started `at` (the engine's time), with its questions in the order they will be asked."""
    attempt = QuizAttempt(user_id=user_id, quiz_id=quiz_id, question_ids=question_ids, mode=mode, lang=lang, started_at=at)
    session.add(attempt)
    session.flush()
    return attempt


def record_answer(session: Session, attempt_id: int, question_id: str, chosen: list[str], correct: bool, at: datetime) -> bool:
    """Store an answer given `at` (the engine's time); False (and nothing stored) if that question was already answered."""
    try:
        with session.begin_nested():
            session.add(QuizAnswer(attempt_id=attempt_id, question_id=question_id, chosen=chosen, correct=correct, answered_at=at))
    except IntegrityError:
        return False
    return True


def answers_of(session: Session, attempt_id: int) -> list[QuizAnswer]:
    """An attempt's answers in the order they were given (the same on every database)."""
    return list(
        session.exec(select(QuizAnswer).where(QuizAnswer.attempt_id == attempt_id).order_by(col(QuizAnswer.answered_at), col(QuizAnswer.question_id))).all()
    )


def finish_attempt(session: Session, attempt: QuizAttempt, pass_mark: int, at: datetime) -> QuizAttempt:
    """Score an attempt from its stored answers (so a double press can never count twice), finished `at` (the engine's time)."""
    answers = answers_of(session, attempt.id or 0)
    attempt.correct = sum(1 for a in answers if a.correct)
    attempt.score = round(100 * attempt.correct / max(len(attempt.question_ids), 1))
    attempt.passed = attempt.score >= pass_mark
    attempt.finished_at = at
    session.add(attempt)
    return attempt


def best_scores(session: Session, user_id: int) -> dict[str, int]:
    """The rep's best score per quiz, over full (not review) attempts."""
    rows = session.exec(
        select(QuizAttempt.quiz_id, func.max(QuizAttempt.score))
        .where(QuizAttempt.user_id == user_id, QuizAttempt.mode == "full", col(QuizAttempt.finished_at).is_not(None))
        .group_by(QuizAttempt.quiz_id)
    ).all()
    return {quiz_id: score for quiz_id, score in rows if score is not None}


def attempts_of(session: Session, user_id: int) -> list[QuizAttempt]:
    """Every finished attempt of a rep, newest first."""
    query = select(QuizAttempt).where(QuizAttempt.user_id == user_id, col(QuizAttempt.finished_at).is_not(None))
    return list(session.exec(query.order_by(col(QuizAttempt.finished_at).desc(), col(QuizAttempt.id).desc())).all())


def pushed_to(session: Session, user_id: int) -> list[Assignment]:
    """Assignments that were pushed to this rep, newest first."""
    query = (
        select(Assignment)
        .join(Delivery, col(Delivery.assignment_id) == col(Assignment.id))
        .where(Delivery.user_id == user_id, Delivery.kind == "invite")
        .order_by(col(Assignment.created_at).desc(), col(Assignment.id).desc())
    )
    return list(session.exec(query).all())
