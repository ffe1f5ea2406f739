"""Quiz results for trainers: completion, scores, the questions most people miss, exports."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from storage.exports import to_csv, to_jsonl, to_xlsx
from storage.models import Assignment, Delivery, QuizAnswer, QuizAttempt, User
from storage.quizzes import answers_of

XAPI_VERBS = {
    "answered": "http://adlnet.gov/expapi/verbs/answered",
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
}


@dataclass
class Summary:
    """What /results shows for one quiz over the people in scope."""

    population: int = 0
    started: int = 0
    finished: int = 0
    scores: list[int] = field(default_factory=list)
    passed: int = 0
    missed: list[tuple[str, int, str | None]] = field(default_factory=list)

    @property
    def average(self) -> float | None:
        return round(statistics.mean(self.scores), 1) if self.scores else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.scores) if self.scores else None

    @property
    def pass_rate(self) -> int | None:
        return round(100 * self.passed / len(self.scores)) if self.scores else None

    def distribution(self) -> list[tuple[str, int]]:
        """Finished reps per score band."""
        bands = [("0–59", 0, 59), ("60–69", 60, 69), ("70–79", 70, 79), ("80–89", 80, 89), ("90–100", 90, 100)]
        return [(name, sum(1 for s in self.scores if low <= s <= high)) for name, low, high in bands]


def summarize(session: Session, quiz_id: str, scope: set[int] | None) -> Summary:
    """Completion among reps the quiz was pushed to (or who took it), each rep's latest full attempt."""
    pushed = set(
        session.exec(
            select(Delivery.user_id)
            .join(Assignment, col(Assignment.id) == col(Delivery.assignment_id))
            .where(Assignment.quiz_id == quiz_id, Delivery.kind == "invite")
        ).all()
    )
    attempts = session.exec(
        select(QuizAttempt).where(QuizAttempt.quiz_id == quiz_id, QuizAttempt.mode == "full").order_by(col(QuizAttempt.started_at), col(QuizAttempt.id))
    ).all()
    if scope is not None:
        pushed &= scope
        attempts = [a for a in attempts if a.user_id in scope]
    latest: dict[int, QuizAttempt] = {}
    for attempt in attempts:
        if attempt.finished_at is not None:
            latest[attempt.user_id] = attempt
    summary = Summary(population=len(pushed | {a.user_id for a in attempts}), started=len({a.user_id for a in attempts}), finished=len(latest))
    summary.scores = [a.score or 0 for a in latest.values()]
    summary.passed = sum(1 for a in latest.values() if a.passed)
    wrong: Counter[str] = Counter()
    wrong_choice: dict[str, Counter[str]] = {}
    for answer in session.exec(select(QuizAnswer).where(col(QuizAnswer.attempt_id).in_([a.id for a in latest.values()]))).all():
        if not answer.correct:
            wrong[answer.question_id] += 1
            wrong_choice.setdefault(answer.question_id, Counter())[",".join(answer.chosen)] += 1
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
