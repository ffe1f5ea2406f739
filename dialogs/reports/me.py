"""/me: a rep's own record — learning paths (progress, next step, certificates with their codes),
SPIN coach progress, role-plays, quizzes taken so far with best and latest scores, and the review
queue (items due today, FSRS's retention estimate)."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.coach.verdict import kind_name
from dialogs.core.context import Ctx
from dialogs.paths.dialog import path_rows
from dialogs.reports.progress import show_progress
from dialogs.review.days import day_ends
from dialogs.review.items import due_today
from dialogs.roleplay.scorecard import outcome_label
from storage.quizzes import attempts_of
from storage.reviews import retention
from storage.roleplays import finished_of
from storage.spin_progress import summary_of


@dataclass
class QuizRecord:
    """One quiz on /me: how often it was taken, the best full run, the latest score, passed yet."""

    last: int | None
    attempts: int = 0
    best: int | None = None
    passed: bool = False


def me(ctx: Ctx, args: str) -> None:
    """Shows the rep's learning paths (those assigned or started: how far, what is next, the
    certificate's code once earned), SPIN steps (done, first-try accuracy), role-plays, quiz history, how many
    review items are due today with the share of them FSRS expects the rep to remember, then
    their progress as a chart."""
    quizzes = ctx.knowledge.quizzes
    summary: dict[str, QuizRecord] = {}
    for attempt in attempts_of(ctx.session, ctx.user.id):
        if attempt.quiz_id not in quizzes:
            continue
        row = summary.setdefault(attempt.quiz_id, QuizRecord(last=attempt.score))
        row.attempts += 1
        if attempt.mode == "full":
            row.best = max(attempt.score or 0, row.best or 0)
            row.passed = bool(row.passed or attempt.passed)
    rows = [(quizzes[q].title.get(ctx.lang), r.attempts, r.best, r.last, r.passed) for q, r in summary.items()]
    steps = summary_of(ctx.session, ctx.user.id)
    spin = [(kind_name(s.stage, ctx.lang), s.finished, s.first_try, s.rounds_done, s.accuracy) for s in steps]
    kept = retention(ctx.session, ctx.user.id, ctx.now)
    due = due_today(ctx.session, ctx.knowledge, ctx.user.id, day_ends(ctx.now, ctx.settings.zone))
    review = {"due": len(due), "retention": None if kept is None else round(100 * kept)}
    paths = [row for _, row in path_rows(ctx) if row["assigned"] or row["done"] or row["certificate"]]
    ctx.say(
        "me", name=ctx.user.name, paths=paths, quizzes=rows, spin=spin, spin_done=sum(s.finished for s in steps), roleplays=roleplay_rows(ctx), review=review
    )
    show_progress(ctx)


def roleplay_rows(ctx: Ctx) -> list[tuple[str, int, int, str]]:
    """Per scenario played: title, how many times, best score, and how the latest one ended."""
    rows: dict[str, tuple[str, int, int, str]] = {}
    for roleplay in finished_of(ctx.session, ctx.user.id):
        sc = ctx.knowledge.scenarios.get(roleplay.scenario_id)
        if sc is None:
            continue
        title, count, best, latest = rows.get(sc.id, (sc.title.get(ctx.lang), 0, 0, outcome_label(sc, roleplay.outcome or "", ctx.lang)))
        rows[sc.id] = (title, count + 1, max(best, roleplay.score or 0), latest)
    return list(rows.values())
