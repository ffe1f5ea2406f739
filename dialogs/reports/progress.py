"""The /me chart: a rep's quiz and role-play scores over time, and their SPIN question mix
against their team's, sent as a photo captioned with what it shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dialogs.coach.verdict import kind_name
from dialogs.core.context import Ctx
from dialogs.pictures import charts
from dialogs.pictures.drawings import dated
from storage.access import member_ids, teams_of
from storage.progress import question_mix, quiz_scores_over_time, roleplay_scores_over_time


def show_progress(ctx: Ctx) -> None:
    """The rep's progress chart, once they have finished a quiz or a role-play."""
    quizzes = quiz_scores_over_time(ctx.session, ctx.user.id)
    roleplays = roleplay_scores_over_time(ctx.session, ctx.user.id)
    if not quizzes and not roleplays:
        return
    mine = question_mix(ctx.session, {ctx.user.id}, charts.SPIN_TYPES)
    teammates = {uid for team in teams_of(ctx.session, ctx.user.id) for uid in member_ids(ctx.session, team.id or 0)}
    team = question_mix(ctx.session, teammates, charts.SPIN_TYPES) if teammates else None
    my_shares, team_shares = charts.shares_of(mine), charts.shares_of(team or {})
    mix = [(kind_name(kind, ctx.lang), my_shares[kind], team_shares[kind] if team is not None else None) for kind in charts.SPIN_TYPES]
    ctx.show(
        "me_chart",
        "progress.png",
        "progress",
        {"quizzes": dated(quizzes), "roleplays": dated(roleplays), "mine": mine, "team": team, "lang": ctx.lang},
        quizzes=_trend(quizzes),
        roleplays=_trend(roleplays),
        asked=sum(mine.values()),
        mix=mix,
        team=team is not None,
    )


def _trend(points: Sequence[tuple[datetime, int]]) -> tuple[int, int, int, int] | None:
    """How many scores, the first, the latest and the best (None when there are none)."""
    scores = [score for _, score in points]
    return (len(scores), scores[0], scores[-1], max(scores)) if scores else None
