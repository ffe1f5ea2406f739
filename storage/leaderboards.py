"""The weekly leaderboards: who has opted in, and the figures worked out in SQL (review streaks,
best role-play scores). Path steps are counted from storage.learning's evidence."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, func, select

from storage.models import Membership, ReviewDay, RolePlay, User

USER = User.__table__  # type: ignore[attr-defined]


class day_number(FunctionElement[int]):
    """A date as a whole number of days, so that consecutive days differ by one."""

    type = Integer()
    inherit_cache = True


@compiles(day_number)
def _day_number(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    """SQLite (dates are text): the Julian day, whole."""
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(day_number, "postgresql")
def _day_number_postgresql(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    """PostgreSQL: days since an arbitrary fixed date (date minus date is an integer there)."""
    return f"({compiler.process(element.clauses, **kw)} - DATE '2000-01-01')"


def set_listed(session: Session, user: User, listed: bool) -> None:
    """Puts the rep on their teams' boards or takes them off (on `user` too), from this event on."""
    session.connection().execute(update(USER).where(USER.c.id == user.id).values(on_leaderboard=listed))
    user.on_leaderboard = listed


def set_nickname(session: Session, user: User, nickname: str) -> None:
    """The name the boards show for the rep instead of their first name ("" for the first name again)."""
    session.connection().execute(update(USER).where(USER.c.id == user.id).values(nickname=nickname))
    user.nickname = nickname


def teammates(session: Session, user_id: int) -> list[User]:
    """Everyone else in any of the rep's teams who has written to the bot, opted in to the boards or not."""
    teams = select(Membership.team_id).where(Membership.user_id == user_id)
    others = select(Membership.user_id).where(col(Membership.team_id).in_(teams))
    return list(session.exec(select(User).where(col(User.id).in_(others), col(User.id) != user_id).order_by(col(User.id))).all())


def listed_members(session: Session, team_id: int) -> list[User]:
    """The team's members who opted in to the leaderboard: nobody else is ever read for a board."""
    query = (
        select(User)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(Membership.team_id == team_id, col(User.on_leaderboard).is_(True))
        .order_by(col(User.id))
    )
    return list(session.exec(query).all())


def review_streaks(session: Session, user_ids: list[int], today: date) -> dict[int, int]:
    """Per rep, how many days in a row they reviewed, counted back from today, or from yesterday
    while today has no review yet (the day is not over); reps without a running streak are left out.

    Gaps and islands: numbered from the latest day back, a day of the latest unbroken run has
    day number + position = the latest day's number + 1, and a missing day breaks that."""
    number, rep = day_number(col(ReviewDay.day)), col(ReviewDay.user_id)
    days = (
        select(
            rep.label("user_id"),
            (number + func.row_number().over(partition_by=rep, order_by=col(ReviewDay.day).desc())).label("island"),
            func.max(number).over(partition_by=rep).label("latest_number"),
            func.max(col(ReviewDay.day)).over(partition_by=rep).label("latest"),
        )
        .where(col(ReviewDay.user_id).in_(user_ids), col(ReviewDay.day) <= today)
        .subquery()
    )
    query = (
        select(days.c.user_id, func.count())
        .where(days.c.island == days.c.latest_number + 1, days.c.latest >= today - timedelta(days=1))
        .group_by(days.c.user_id)
    )
    return dict(session.exec(query).all())


def best_roleplays(session: Session, user_ids: list[int], since: datetime) -> dict[int, int]:
    """Per rep, the best score of the role-plays they finished since `since`; reps without one are left out."""
    query = (
        select(RolePlay.user_id, func.max(RolePlay.score))
        .where(col(RolePlay.user_id).in_(user_ids), col(RolePlay.finished_at) >= since)
        .group_by(col(RolePlay.user_id))
    )
    return {user_id: best for user_id, best in session.exec(query) if best is not None}
