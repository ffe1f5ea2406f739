"""Quiz results for trainers: completion, scores, the questions most people miss, exports."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, select as core_select
from sqlmodel import Session, col, func, select

from storage.exports import to_csv, to_jsonl, to_xlsx
from storage.models import Assignment, Delivery, QuizAnswer, QuizAttempt, User
from storage.quizzes import answers_of

XAPI_VERBS = {
    "answered": "http://adlnet.gov/expapi/verbs/answered",
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
}


BANDS = (("0–59", 0, 59), ("60–69", 60, 69), ("70–79", 70, 79), ("80–89", 80, 89), ("90–100", 90, 100))


@dataclass
class Summary:
    """What /results shows for one quiz over the people in scope."""

    population: int = 0
    started: int = 0
    finished: int = 0
    by_score: dict[int, int] = field(default_factory=dict)  # reps per score, each rep's latest full attempt
    passed: int = 0
    missed: list[tuple[str, int, str | None]] = field(default_factory=list)

    @property
    def scores(self) -> list[int]:
        """Each finished rep's score, lowest first."""
        return sorted(Counter(self.by_score).elements())

    @property
    def average(self) -> float | None:
        return round(sum(score * reps for score, reps in self.by_score.items()) / self.finished, 1) if self.finished else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.scores) if self.finished else None

    @property
    def pass_rate(self) -> int | None:
        return round(100 * self.passed / self.finished) if self.finished else None

    def distribution(self) -> list[tuple[str, int]]:
        """Finished reps per score band."""
        return [(name, sum(reps for score, reps in self.by_score.items() if low <= score <= high)) for name, low, high in BANDS]


def summarize(session: Session, quiz_id: str, scope: set[int] | None) -> Summary:
    """Completion among reps the quiz was pushed to (or who took it), each rep's latest full attempt.

    The database does the counting, so what comes back is one row per rep who took the quiz, one
    per score and the wrong answers of the latest attempts, however many attempts there are.
    """
    pushed = set(
        session.exec(
            select(Delivery.user_id)
            .join(Assignment, col(Assignment.id) == col(Delivery.assignment_id))
            .where(Assignment.quiz_id == quiz_id, Delivery.kind == "invite")
        ).all()
    )
    full = [col(QuizAttempt.quiz_id) == quiz_id, col(QuizAttempt.mode) == "full"]
    if scope is not None:
        pushed &= scope
        full.append(col(QuizAttempt.user_id).in_(scope or {-1}))
    started = set(session.exec(select(QuizAttempt.user_id).where(*full).distinct()).all())
    newest_first = func.row_number().over(partition_by=col(QuizAttempt.user_id), order_by=(col(QuizAttempt.started_at).desc(), col(QuizAttempt.id).desc()))
    ranked = (
        core_select(col(QuizAttempt.id), col(QuizAttempt.score), col(QuizAttempt.passed), newest_first.label("rank"))
        .where(*full, col(QuizAttempt.finished_at).is_not(None))
        .subquery()
    )
    latest = core_select(ranked).where(ranked.c.rank == 1).subquery()
    score = func.coalesce(latest.c.score, 0).label("score")
    passed = func.sum(case((latest.c.passed, 1), else_=0))
    summary = Summary(population=len(pushed | started), started=len(started))
    for points, reps, passing in session.execute(core_select(score, func.count(), passed).group_by(score)).all():
        summary.by_score[points] = reps
        summary.finished += reps
        summary.passed += passing
    wrong: Counter[str] = Counter()
    wrong_choice: dict[str, Counter[str]] = {}
    answers = (
        select(QuizAnswer.question_id, QuizAnswer.chosen).join(latest, latest.c.id == col(QuizAnswer.attempt_id)).where(col(QuizAnswer.correct).is_(False))
    )
    for question_id, chosen in session.execute(answers).all():
        wrong[question_id] += 1
        wrong_choice.setdefault(question_id, Counter())[",".join(chosen)] += 1
    summary.missed = [(qid, count, wrong_choice[qid].most_common(1)[0][0]) for qid, count in wrong.most_common(5)]
    return summary


RESULT_HEADER = ("user_id", "name", "quiz_id", "mode", "started_at", "finished_at", "score", "correct", "questions", "passed")


def finished_attempts(session: Session, quiz_id: str | None, scope: set[int] | None) -> list[tuple[QuizAttempt, User | None]]:
    """Every finished attempt in scope with its rep, oldest first."""
    query = select(QuizAttempt, User).join(User, col(User.id) == col(QuizAttempt.user_id), isouter=True).where(col(QuizAttempt.finished_at).is_not(None))
    if quiz_id:
        query = query.where(QuizAttempt.quiz_id == quiz_id)
    found = session.exec(query.order_by(col(QuizAttempt.finished_at), col(QuizAttempt.id))).all()
    return [(attempt, user) for attempt, user in found if scope is None or attempt.user_id in scope]


def result_rows(session: Session, quiz_id: str | None, scope: set[int] | None) -> list[tuple[Any, ...]]:
    """One row per finished attempt, oldest first."""
    return [
        (
            a.user_id,
            u.name if u else "",
            a.quiz_id,
            a.mode,
            a.started_at.isoformat(),
            a.finished_at.isoformat() if a.finished_at else "",
            a.score,
            a.correct,
            len(a.question_ids),
            a.passed,
        )
        for a, u in finished_attempts(session, quiz_id, scope)
    ]


def _actor(user_id: int, user: User | None) -> dict[str, Any]:
    return {"objectType": "Agent", "name": (user.name if user else "") or str(user_id), "account": {"homePage": "https://t.me", "name": str(user_id)}}


def _verb(name: str) -> dict[str, Any]:
    return {"id": XAPI_VERBS[name], "display": {"en-US": name}}


def xapi_statements(session: Session, quiz_id: str | None, scope: set[int] | None, base_url: str) -> list[dict[str, Any]]:
    """xAPI statements (actor, verb, object, result) an LMS can load: every answer, then passed/failed;
    activity ids are `<base_url>/quiz/<quiz id>` (XAPI_BASE_URL)."""
    activity = f"{base_url.rstrip('/')}/quiz/"
    out: list[dict[str, Any]] = []
    for attempt, user in finished_attempts(session, quiz_id, scope):
        actor = _actor(attempt.user_id, user)
        for answer in answers_of(session, attempt.id or 0):
            out.append(
                {
                    "actor": actor,
                    "verb": _verb("answered"),
                    "object": {"objectType": "Activity", "id": f"{activity}{attempt.quiz_id}/question/{answer.question_id}"},
                    "result": {"success": answer.correct, "response": ",".join(answer.chosen)},
                    "timestamp": answer.answered_at.isoformat(),
                }
            )
        out.append(
            {
                "actor": actor,
                "verb": _verb("passed" if attempt.passed else "failed"),
                "object": {"objectType": "Activity", "id": f"{activity}{attempt.quiz_id}"},
                "result": {
                    "score": {"raw": attempt.score, "min": 0, "max": 100, "scaled": (attempt.score or 0) / 100},
                    "success": bool(attempt.passed),
                    "completion": True,
                },
                "timestamp": attempt.finished_at.isoformat() if attempt.finished_at else "",
            }
        )
    return out


def results_file(session: Session, fmt: str, quiz_id: str | None, scope: set[int] | None, xapi_base_url: str) -> tuple[bytes, int]:
    """The results as a file: csv (for Excel), xlsx, or jsonl (xAPI statements under `xapi_base_url`),
    and how many records (rows or statements) it holds."""
    if fmt == "jsonl":
        statements = xapi_statements(session, quiz_id, scope, xapi_base_url)
        return to_jsonl(statements), len(statements)
    rows = result_rows(session, quiz_id, scope)
    return (to_csv(RESULT_HEADER, rows) if fmt == "csv" else to_xlsx(RESULT_HEADER, rows, quiz_id or "quiz-results")), len(rows)
