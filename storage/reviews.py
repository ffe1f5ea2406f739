"""The spaced-review queue: what each rep got wrong, scheduled by FSRS (the `fsrs` package).

A miss in practice (a quiz question answered wrong, a SPIN type not hit, a speech act that
should have been left out) puts its item in the queue, or back, as an FSRS review rated Again;
an answer in /review rates it Good or Again. FSRS then says when it is due. The scheduler has
no learning steps of minutes: reps review once a day, so a missed item comes back the next day
at the earliest. Fuzz is off: a rep's queue is a handful of items, and each due date can be
worked out again from the answers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from fsrs import Card, Rating, Scheduler, State
from sqlalchemy import or_, update
from sqlmodel import Session, col, func, select

from storage.models import ReviewDay, ReviewItem, ReviewReminder, User

SCHEDULER = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
QUIZ, SPIN, ACT = "quiz", "spin", "act"
# The speech acts a rep is reviewed on: those that cost points in role-plays
# (knowledge/content/scoring/default.yaml, and leading questions) and that
# knowledge/understanding/acts.yaml can find in a typed question.
REVIEWED_ACTS = ("leading", "rude", "hurrying", "intrusive", "improper_offer")


def quiz_ref(quiz_id: str, question_id: str) -> str:
    """The item reference of a quiz question."""
    return f"{quiz_id}/{question_id}"


def card_of(item: ReviewItem) -> Card:
    """The item's FSRS card."""
    return Card(
        card_id=item.id or 0,
        state=State(item.state),
        step=item.step,
        stability=item.stability,
        difficulty=item.difficulty,
        due=item.due,
        last_review=item.last_review,
    )


def _rate(item: ReviewItem, rating: Rating, now: datetime) -> None:
    card, _ = SCHEDULER.review_card(card_of(item), rating, review_datetime=now.astimezone(UTC))
    item.state, item.step, item.stability, item.difficulty = int(card.state), card.step, card.stability, card.difficulty
    item.due, item.last_review = card.due, card.last_review


def missed(session: Session, user_id: int, kind: str, ref: str, source: str, now: datetime) -> ReviewItem:
    """The rep got `kind`/`ref` wrong in `source`: its item goes into the queue (or back), rated Again."""
    item = session.exec(select(ReviewItem).where(ReviewItem.user_id == user_id, ReviewItem.kind == kind, ReviewItem.ref == ref)).first()
    if item is None:
        item = ReviewItem(user_id=user_id, kind=kind, ref=ref, source=source, state=int(State.Learning), step=0, due=now)
    item.source = source
    _rate(item, Rating.Again, now)
    session.add(item)
    session.flush()
    return item


def answered(session: Session, item: ReviewItem, right: bool, now: datetime) -> None:
    """The rep answered the item in /review: FSRS moves it on (Good) or back (Again)."""
    _rate(item, Rating.Good if right else Rating.Again, now)
    item.reviews += 1
    session.add(item)


def reviewed_on(session: Session, user_id: int, day: date) -> None:
    """Records that the rep reviewed on `day` (their local date): once a day, whatever the number of answers."""
    if session.get(ReviewDay, (user_id, day)) is None:
        session.add(ReviewDay(user_id=user_id, day=day))


def due_items(session: Session, user_id: int, until: datetime) -> list[ReviewItem]:
    """The rep's items due before `until`, the longest overdue first."""
    query = select(ReviewItem).where(ReviewItem.user_id == user_id, col(ReviewItem.due) < until).order_by(col(ReviewItem.due), col(ReviewItem.id))
    return list(session.exec(query))


def next_due(session: Session, user_id: int) -> datetime | None:
    """When the rep's next item is due (None with an empty queue)."""
    return session.exec(select(func.min(ReviewItem.due)).where(ReviewItem.user_id == user_id)).one()


def retention(session: Session, user_id: int, now: datetime) -> float | None:
    """FSRS's estimate of how much of the queue the rep remembers now: the mean probability of
    recalling each item (None with an empty queue)."""
    items = session.exec(select(ReviewItem).where(ReviewItem.user_id == user_id)).all()
    if not items:
        return None
    at = now.astimezone(UTC)
    return sum(SCHEDULER.get_card_retrievability(card_of(item), at) for item in items) / len(items)


def reminder_of(session: Session, user_id: int) -> ReviewReminder:
    """The rep's nudge settings (the defaults, not yet stored, for a rep who never set them)."""
    return session.get(ReviewReminder, user_id) or ReviewReminder(user_id=user_id)


def reps_to_nudge(session: Session, minute: int, today: date) -> list[tuple[ReviewReminder, User]]:
    """Reps whose nudge time has come today (`minute` after local midnight) and who have not
    been nudged today, with their user rows."""
    query = (
        select(ReviewReminder, User)
        .join(User, col(User.id) == col(ReviewReminder.user_id))
        .where(col(ReviewReminder.at_minute).is_not(None), col(ReviewReminder.at_minute) <= minute)
        .where(or_(col(ReviewReminder.nudged_on).is_(None), col(ReviewReminder.nudged_on) < today))
        .order_by(col(ReviewReminder.user_id))
    )
    return [(reminder, user) for reminder, user in session.exec(query)]


def claim_nudge(session: Session, user_id: int, today: date) -> bool:
    """Marks the rep nudged today; False if someone (another process) already did."""
    claim = (
        update(ReviewReminder)
        .where(col(ReviewReminder.user_id) == user_id)
        .where(or_(col(ReviewReminder.nudged_on).is_(None), col(ReviewReminder.nudged_on) < today))
        .values(nudged_on=today)
    )
    return session.connection().execute(claim).rowcount == 1
