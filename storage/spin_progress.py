"""A rep's progress through the SPIN coach, kept in its own table.

It outlives the dialog state: leaving /spin, taking a quiz or a restart loses nothing, and
`spin_completed` tells other features (the role-play menu entry) whether the four steps are done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from storage.models import SpinStep

SPIN_STAGES: tuple[str, ...] = ("situation", "problem", "implication", "need_payoff")
ROUNDS_PER_STEP = 2


@dataclass(frozen=True)
class StepSummary:
    """What a rep achieved in one step: rounds done, how many right first time, how many skipped."""

    stage: str
    rounds_done: int
    first_try: int
    skipped: int
    finished: bool

    @property
    def accuracy(self) -> int | None:
        """First-try accuracy in percent, or None before the first round is done."""
        return round(100 * self.first_try / self.rounds_done) if self.rounds_done else None


def spin_completed(session: Session, user_id: int) -> bool:
    """True once the rep has finished all four SPIN steps (this unlocks the role-plays)."""
    query = (
        select(func.count())
        .select_from(SpinStep)
        .where(SpinStep.user_id == user_id, col(SpinStep.stage).in_(SPIN_STAGES), col(SpinStep.finished_at).is_not(None))
    )
    return session.exec(query).one() == len(SPIN_STAGES)


def steps_of(session: Session, user_id: int) -> dict[str, SpinStep]:
    """The rep's step rows by stage (steps never started are missing)."""
    rows = session.exec(select(SpinStep).where(SpinStep.user_id == user_id)).all()
    return {row.stage: row for row in rows if row.stage in SPIN_STAGES}


def current_stage(session: Session, user_id: int) -> str | None:
    """The first step the rep has not finished, or None when all four are done."""
    steps = steps_of(session, user_id)
    return next((s for s in SPIN_STAGES if s not in steps or steps[s].finished_at is None), None)


def step_of(session: Session, user_id: int, stage: str) -> SpinStep:
    """The rep's row for `stage`, created on first use (a concurrent creation is tolerated)."""
    row = session.get(SpinStep, (user_id, stage))
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.add(SpinStep(user_id=user_id, stage=stage))
    except IntegrityError:
        pass
    row = session.get(SpinStep, (user_id, stage))
    assert row is not None
    return row


def serve(session: Session, row: SpinStep, practice_ids: list[str], user_id: int) -> str:
    """The practice situation of the current round: kept while unanswered, else the next in the rep's rotation.

    The rotation starts at a place that depends on the rep and moves on each round, so reps see
    different situations and the same rep sees the same ones again only after all were used.
    """
    if row.practice_id in practice_ids:
        return row.practice_id
    row.practice_id = practice_ids[(user_id + row.served) % len(practice_ids)]
    row.served += 1
    row.tries = row.misses = 0
    session.add(row)
    return row.practice_id


def record_try(session: Session, row: SpinStep, hit: bool) -> bool:
    """Count one answer to the current situation; True if it was the first try."""
    first = row.tries == 0
    row.tries += 1
    row.misses = 0 if hit else row.misses + 1
    session.add(row)
    return first


def finish_round(session: Session, row: SpinStep, at: datetime, *, first_try: bool, skipped: bool = False) -> None:
    """Close the current round `at` (the engine's time); the step is finished after ROUNDS_PER_STEP rounds."""
    row.rounds_done += 1
    row.first_try += int(first_try)
    row.skipped += int(skipped)
    row.practice_id = ""
    row.tries = row.misses = 0
    if row.rounds_done >= ROUNDS_PER_STEP and row.finished_at is None:
        row.finished_at = at
    session.add(row)


def summary_of(session: Session, user_id: int) -> list[StepSummary]:
    """Per step, in S-P-I-N order: what the rep has done so far (zeros for steps not started)."""
    steps = steps_of(session, user_id)
    return [
        StepSummary(s, steps[s].rounds_done, steps[s].first_try, steps[s].skipped, steps[s].finished_at is not None)
        if s in steps
        else StepSummary(s, 0, 0, 0, False)
        for s in SPIN_STAGES
    ]
