"""The push queue: one Delivery row per message to one rep, claimed row by row.

Several sender processes can work one queue: candidates are selected with
``FOR UPDATE SKIP LOCKED`` where the database supports it (PostgreSQL), and every claim
is a conditional UPDATE, so a row is only ever claimed by one sender at a time. A claim
that is not finished within the lease (the sender died) is claimed again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from storage.changed import changed_rows
from storage.db import commit_without_fsync
from storage.models import Assignment, Certificate, Delivery, QuizAttempt, User, utcnow
from storage.outbox import GIVEN_UP_UNSURE
from storage.users import DEFAULT_LANG, language_of

MAX_TRIES = 5


@dataclass(frozen=True)
class Claimed:
    """A delivery this sender now owns, with what it needs to render the message."""

    id: int
    kind: str
    user_id: int
    chat_id: int
    lang: str
    assignment_id: int
    quiz_id: str
    deadline: datetime | None
    tries: int
    unsure: int = 0
    path_id: str | None = None


@dataclass(frozen=True)
class Progress:
    assignment_id: int
    total: int
    sent: int
    undeliverable: int
    failed: int
    chat_id: int | None
    message_id: int | None
    shown: int
    summary_sent: bool

    @property
    def done(self) -> int:
        return self.sent + self.undeliverable + self.failed


def create_push(
    session: Session, quiz_id: str, by: int, team_id: int | None, deadline: datetime | None, user_ids: list[int], path_id: str | None = None
) -> Assignment:
    """An assignment of a quiz (or, with `path_id`, of a learning path) and one pending invitation per target rep."""
    assignment = Assignment(quiz_id=quiz_id, path_id=path_id, created_by=by, team_id=team_id, deadline=deadline)
    session.add(assignment)
    session.flush()
    for user_id in sorted(set(user_ids)):
        session.add(Delivery(assignment_id=assignment.id or 0, kind="invite", user_id=user_id))
    return assignment


def claim(engine: Engine, limit: int, lease: timedelta, now: datetime | None = None, owner: str = "") -> list[Claimed]:
    """Take up to `limit` due deliveries for this sender (`owner`).

    The first delivery of a sender whose lease ran out may have been delivered (the sender died
    or hung mid-send; it sends one at a time): it counts as unsure and is sent once more, and
    one that was unsure already is marked failed instead of being sent a third time.
    """
    now = now or utcnow()
    due = or_(
        and_(col(Delivery.status) == "pending", col(Delivery.not_before) <= now),
        and_(col(Delivery.status) == "sending", col(Delivery.claimed_at) < now - lease),
    )
    claimed: list[Claimed] = []
    with Session(engine) as session:
        rows = session.exec(
            select(Delivery, Assignment, User)
            .join(Assignment, col(Assignment.id) == col(Delivery.assignment_id))
            .join(User, col(User.id) == col(Delivery.user_id), isouter=True)
            .where(due)
            .order_by(col(Delivery.id))
            .limit(limit)
            .with_for_update(skip_locked=True, of=Delivery)
        ).all()
        lapsed = {d.claimed_by for d, _, _ in rows if d.status == "sending"}
        first = (
            dict(
                session.exec(
                    select(Delivery.claimed_by, func.min(Delivery.id))
                    .where(col(Delivery.claimed_by).in_(lapsed), col(Delivery.status) == "sending")
                    .group_by(col(Delivery.claimed_by))
                ).all()
            )
            if lapsed
            else {}
        )
        for delivery, assignment, user in rows:
            tries = delivery.tries + 1  # read before the UPDATE, which refreshes `delivery` in the session
            in_flight = delivery.status == "sending" and first.get(delivery.claimed_by) == delivery.id  # a sender's first open one
            unsure = delivery.unsure + (1 if in_flight else 0)
            values: dict[str, object] = {"status": "sending", "claimed_at": now, "claimed_by": owner, "tries": tries, "unsure": unsure}
            if unsure >= 2:
                values = {"status": "failed", "claimed_by": "", "unsure": unsure, "error": GIVEN_UP_UNSURE}
            taken = changed_rows(
                session,
                update(Delivery)
                .where(col(Delivery.id) == delivery.id, col(Delivery.status) == delivery.status, col(Delivery.tries) == delivery.tries)
                .values(**values),
            )
            if taken == 1 and values["status"] == "sending":
                chat_id = user.chat_id if user is not None and user.chat_id else delivery.user_id
                lang = language_of(user) if user is not None else DEFAULT_LANG
                claimed.append(
                    Claimed(
                        delivery.id or 0,
                        delivery.kind,
                        delivery.user_id,
                        chat_id,
                        lang,
                        assignment.id or 0,
                        assignment.quiz_id,
                        assignment.deadline,
                        tries,
                        unsure,
                        assignment.path_id,
                    )
                )
        session.commit()
    return claimed


def _finish(engine: Engine, delivery_id: int, owner: str, **values: object) -> bool:
    with Session(engine) as session:
        commit_without_fsync(session.connection())
        done = changed_rows(
            session,
            update(Delivery)
            .where(col(Delivery.id) == delivery_id, col(Delivery.status) == "sending", col(Delivery.claimed_by) == owner)
            .values(claimed_by="", **values),
        )
        session.commit()
        return done == 1


def mark_sent(engine: Engine, delivery_id: int, owner: str) -> bool:
    """Telegram accepted the message; it will never be sent again. False if `owner` no longer
    held the delivery (its lease ran out and another sender took it)."""
    return _finish(engine, delivery_id, owner, status="sent", sent_at=utcnow(), error="")


def mark_undeliverable(engine: Engine, delivery_id: int, owner: str, error: str) -> None:
    """The rep cannot be reached (blocked the bot, unknown chat, deactivated account)."""
    _finish(engine, delivery_id, owner, status="undeliverable", error=error[:200])


def mark_failed(engine: Engine, delivery_id: int, owner: str, error: str) -> None:
    """Telegram refused this message for another reason, or it failed MAX_TRIES times."""
    _finish(engine, delivery_id, owner, status="failed", error=error[:200])


def mark_retry(engine: Engine, delivery_id: int, owner: str, after: timedelta, error: str, tries: int) -> None:
    """The attempt failed (5xx, network): try again later; after MAX_TRIES attempts, failed."""
    if tries >= MAX_TRIES:
        mark_failed(engine, delivery_id, owner, f"gave up after {tries} tries: {error}")
        return
    _finish(engine, delivery_id, owner, status="pending", not_before=utcnow() + after, error=error[:200])


def mark_unsure(engine: Engine, delivery_id: int, owner: str, after: timedelta, error: str, unsure: int) -> None:
    """The attempt timed out after the message may have reached Telegram: sent once more
    (`unsure` is 1 now), never a third time (failed)."""
    if unsure >= 1:
        mark_failed(engine, delivery_id, owner, f"{GIVEN_UP_UNSURE}: {error}")
        return
    _finish(engine, delivery_id, owner, status="pending", not_before=utcnow() + after, error=error[:200], unsure=unsure + 1)


def defer(engine: Engine, delivery_id: int, owner: str, after: timedelta, reason: str) -> None:
    """Not sent now (per-chat limit, or a 429): back in the queue, and this claim does not
    count as one of the MAX_TRIES attempts."""
    _finish(engine, delivery_id, owner, status="pending", not_before=utcnow() + after, error=reason[:200], tries=Delivery.tries - 1)


def release(engine: Engine, delivery_ids: list[int], owner: str) -> None:
    """Claimed deliveries this sender did not try (it no longer runs the queue, or their lease
    is nearly gone): back in the queue as they were, the claim not counted as a try."""
    if not delivery_ids:
        return
    with Session(engine) as session:
        session.execute(
            update(Delivery)
            .where(col(Delivery.id).in_(delivery_ids), col(Delivery.claimed_by) == owner, col(Delivery.status) == "sending")
            .values(status="pending", claimed_by="", claimed_at=None, tries=Delivery.tries - 1)
        )
        session.commit()


def release_dead(session: Session, owners: list[str]) -> int:
    """Deliveries that dead senders held go back to the queue. A sender sends its claimed
    deliveries one at a time and records each before the next, so only its first open one may
    have been in flight: that one counts as unsure (it may have been delivered), and is marked
    failed if it was unsure already."""
    if not owners:
        return 0
    rows = session.exec(
        select(Delivery.id, Delivery.claimed_by, Delivery.unsure)
        .where(col(Delivery.claimed_by).in_(owners), col(Delivery.status) == "sending")
        .order_by(col(Delivery.id))
    ).all()
    first: dict[str, int] = {}
    for delivery_id, owner, _ in rows:
        first.setdefault(owner, delivery_id or 0)
    for delivery_id, owner, unsure in rows:
        in_flight = first[owner] == delivery_id
        if in_flight and unsure >= 1:
            values: dict[str, object] = {"status": "failed", "claimed_by": "", "unsure": unsure + 1, "error": GIVEN_UP_UNSURE}
        else:
            values = {"status": "pending", "claimed_by": "", "claimed_at": None, "unsure": unsure + (1 if in_flight else 0)}
        session.execute(update(Delivery).where(col(Delivery.id) == delivery_id).values(**values))
    return len(rows)


def claimants(session: Session) -> set[str]:
    """The senders that hold deliveries now."""
    return set(session.exec(select(Delivery.claimed_by).where(col(Delivery.status) == "sending", Delivery.claimed_by != "").distinct()).all())


def progress(engine: Engine, assignment_ids: set[int]) -> list[Progress]:
    """How far each push has got (invitations only)."""
    out: list[Progress] = []
    with Session(engine) as session:
        for assignment_id in sorted(assignment_ids):
            assignment = session.get(Assignment, assignment_id)
            if assignment is None:
                continue
            counts = dict(
                session.exec(
                    select(Delivery.status, func.count()).where(Delivery.assignment_id == assignment_id, Delivery.kind == "invite").group_by(Delivery.status)
                ).all()
            )
            total = sum(counts.values())
            out.append(
                Progress(
                    assignment_id,
                    total,
                    counts.get("sent", 0),
                    counts.get("undeliverable", 0),
                    counts.get("failed", 0),
                    assignment.progress_chat_id,
                    assignment.progress_message_id,
                    assignment.progress_shown,
                    assignment.summary_sent,
                )
            )
    return out


def set_progress_message(engine: Engine, assignment_id: int, chat_id: int, message_id: int) -> None:
    """Remember the trainer's progress message so the sender can edit it."""
    with Session(engine) as session:
        session.execute(update(Assignment).where(col(Assignment.id) == assignment_id).values(progress_chat_id=chat_id, progress_message_id=message_id))
        session.commit()


def set_progress_shown(engine: Engine, assignment_id: int, shown: int) -> None:
    with Session(engine) as session:
        session.execute(update(Assignment).where(col(Assignment.id) == assignment_id).values(progress_shown=shown))
        session.commit()


def claim_summary(engine: Engine, assignment_id: int, write: Callable[[Session], None]) -> bool:
    """True for exactly one sender: the one whose `write` (the trainer's final summary, into the
    reply outbox) commits with the claim, so the summary is never lost nor sent twice."""
    with Session(engine) as session:
        won = (
            changed_rows(
                session, update(Assignment).where(col(Assignment.id) == assignment_id, col(Assignment.summary_sent).is_(False)).values(summary_sent=True)
            )
            == 1
        )
        if won:
            write(session)
        session.commit()
        return won


def queue_reminders(engine: Engine, before: timedelta, now: datetime | None = None) -> int:
    """Queue one reminder per rep who has not finished a quiz (or holds no certificate of a path)
    whose deadline is near.

    Each assignment's reminders are queued once (a conditional UPDATE claims the job),
    so any number of bot processes can run this on a timer.
    """
    now = now or utcnow()
    queued = 0
    with Session(engine) as session:
        candidates = session.exec(
            select(Assignment).where(col(Assignment.deadline).is_not(None), col(Assignment.reminder_queued).is_(False), col(Assignment.deadline) > now)
        ).all()
        for assignment in candidates:
            deadline, created = assignment.deadline, assignment.created_at
            assert deadline is not None
            remind_at = max(deadline - before, created + (deadline - created) / 2)
            if now < remind_at:
                continue
            won = changed_rows(
                session, update(Assignment).where(col(Assignment.id) == assignment.id, col(Assignment.reminder_queued).is_(False)).values(reminder_queued=True)
            )
            if won != 1:
                continue
            invited = session.exec(
                select(Delivery.user_id).where(Delivery.assignment_id == assignment.id, Delivery.kind == "invite", Delivery.status != "undeliverable")
            ).all()
            finished = set(
                session.exec(select(Certificate.user_id).where(Certificate.path_id == assignment.path_id)).all()
                if assignment.path_id
                else session.exec(
                    select(QuizAttempt.user_id).where(
                        QuizAttempt.quiz_id == assignment.quiz_id,
                        QuizAttempt.mode == "full",
                        col(QuizAttempt.finished_at).is_not(None),
                        col(QuizAttempt.started_at) >= assignment.created_at,
                    )
                ).all()
            )
            for user_id in invited:
                if user_id not in finished:
                    session.add(Delivery(assignment_id=assignment.id or 0, kind="reminder", user_id=user_id))
                    queued += 1
        session.commit()
    return queued
