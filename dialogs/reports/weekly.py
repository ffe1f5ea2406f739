"""A team's week for its leaderboard: per rep who opted in, the path steps they completed this
week, their review streak and their best role-play score this week.

The week starts on Monday 00:00 in the deployment's timezone (the TIMEZONE setting).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from dialogs.paths.progress import all_progress
from dialogs.review.days import local_day, week_starts
from knowledge.loader import Knowledge
from storage.leaderboards import best_roleplays, listed_members, review_streaks
from storage.learning import Evidence, evidence_of_reps
from storage.models import User


@dataclass(frozen=True)
class Standing:
    """One listed rep's week: steps completed, days reviewed in a row, best role-play score (None: none played)."""

    user: User
    steps: int
    streak: int
    best: int | None


def steps_met(knowledge: Knowledge, evidence: Evidence) -> int:
    """The steps met on every path, counted as /path counts them (in order, from the first)."""
    return sum(progress.done for progress in all_progress(knowledge, evidence))


def steps_this_week(knowledge: Knowledge, now: Evidence, at_monday: Evidence) -> int:
    """Path steps completed this week: the steps met now that were not met at Monday 00:00.

    Evidence is what /path reads (lessons read and drills finished as StudyRecord rows, full quiz
    attempts finished, finished role-plays), and a step is met only once the steps before it are.
    So a step counts in the week the rep's progress passed it: reading a lesson again, or
    re-taking a quiz already passed, completes nothing; a quiz passed last month counts this week
    if this week the lesson before it was read, since that is when /path first shows it done."""
    return steps_met(knowledge, now) - steps_met(knowledge, at_monday)


def team_week(session: Session, knowledge: Knowledge, team_id: int, now: datetime, zone: ZoneInfo) -> list[Standing]:
    """The week so far of each of the team's reps who opted in to the leaderboard (nobody else is read)."""
    members = listed_members(session, team_id)
    ids = [member.id for member in members]
    monday = week_starts(now, zone)
    evidence_now, evidence_then = evidence_of_reps(session, ids), evidence_of_reps(session, ids, before=monday)
    streaks = review_streaks(session, ids, local_day(now, zone))
    best = best_roleplays(session, ids, monday)
    none = Evidence()
    return [
        Standing(
            member,
            steps_this_week(knowledge, evidence_now.get(member.id, none), evidence_then.get(member.id, none)),
            streaks.get(member.id, 0),
            best.get(member.id),
        )
        for member in members
    ]
