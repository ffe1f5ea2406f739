"""The reply outbox: every Bot API call the bot owes a chat, written in the transaction of the
update that produced it, then sent, retried and recorded (bot/outbox.py sends).

A chat's calls go out one after another in id order: a call that must wait (a 429 for that
chat, a retry after a 5xx or a network error) holds back the calls behind it, and no other
chat. Several bot processes can share the outbox: a sender claims a chat's due calls with
conditional UPDATEs (and FOR UPDATE on PostgreSQL), and a chat whose first open call is being
sent by someone else is left alone until that claim's lease runs out.
"""

from __future__ import annotations

import sqlite3
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, case, delete, exists, func, insert, literal, null, or_, select as core_select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.changed import changed_rows
from storage.db import sqlite_file, without_fsync, writer_lock
from storage.loop_connection import LoopConnection
from storage.models import Assignment, OutboxMessage, utcnow
from storage.prepared import Prepared
from storage.quiz_polls import record_poll

OPEN = ("pending", "sending")
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
# Every reply runs these (storage/prepared.py).
_ADD = Prepared(insert(OUTBOX).returning(OUTBOX.c.id))
_COLUMNS = (
    "chat_id",
    "update_id",
    "kind",
    "payload",
    "content",
    "query_id",
    "edit_message_id",
    "progress_of",
    "not_before",
    "tries",
    "unsure",
    "error",
    "created_at",
)
# A chat's first call of an update: claimed for the sender at once ("sending") when the chat has
# no call waiting, else "pending" behind the others; the status says which. One statement looks
# for the chat's waiting calls as it inserts, so a reply costs one round trip.
_WAITING = core_select(
    exists().where(OUTBOX.c.chat_id == bindparam("v_chat_id"), or_(*(OUTBOX.c.status == status for status in OPEN))).label("waiting")
).subquery("chat")
_ADD_FIRST = Prepared(
    insert(OUTBOX)
    .from_select(
        [*_COLUMNS, "status", "claimed_by", "claimed_at"],
        core_select(
            *(bindparam(f"v_{name}", type_=OUTBOX.c[name].type) for name in _COLUMNS),
            case((_WAITING.c.waiting, literal("pending")), else_=literal("sending")),
            case((_WAITING.c.waiting, literal("")), else_=bindparam("v_claimed_by", type_=OUTBOX.c.claimed_by.type)),
            case((_WAITING.c.waiting, null()), else_=bindparam("v_claimed_at", type_=OUTBOX.c.claimed_at.type)),
        ).select_from(_WAITING),
    )
    .returning(OUTBOX.c.id, OUTBOX.c.status)
)
_FINISHED = update(OUTBOX).where(OUTBOX.c.id == bindparam("call"), OUTBOX.c.claimed_by == bindparam("owner"), OUTBOX.c.status == "sending")
# How a call went is recorded without waiting for PostgreSQL's fsync (storage/db.py,
# without_fsync): lost in a crash of the database's machine, the record costs at most the call made
# once more. Said in the UPDATE itself, which saves a round trip on every reply.
_FINISH = {"sqlite": Prepared(_FINISHED), "postgresql": Prepared(without_fsync(_FINISHED))}
_PROGRESS = update(Assignment.__table__).where(Assignment.__table__.c.id == bindparam("assignment"))  # type: ignore[attr-defined]
GIVEN_UP_UNSURE = "may have been delivered; not sent a third time"


@dataclass(frozen=True)
class Outgoing:
    """One call to make: a message, an edit of the pressed message, a document, a photo, a quiz poll, the
    answer to a button press, or a chat's command menu."""

    chat_id: int
    kind: str
    payload: dict[str, Any]
    content: bytes | None = None
    query_id: str = ""
    edit_message_id: int | None = None
    progress_of: int | None = None


@dataclass(frozen=True)
class Call:
    """A call this sender owns now and is about to make."""

    id: int
    chat_id: int
    kind: str
    payload: dict[str, Any]
    content: bytes | None
    query_id: str
    edit_message_id: int | None
    progress_of: int | None
    tries: int
    unsure: int


def queue(session: Session, update_id: int | None, items: list[Outgoing], owner: str) -> dict[int, list[Call]]:
    """Add `items` to the outbox in `session`'s transaction, so they commit or roll back with
    what the update changed. The calls to a chat with nothing else waiting are claimed by
    `owner` at once, so the process that commits them sends them without another transaction;
    returns those, by chat. Calls to a chat that has calls waiting join the end of its queue.

    Written with prepared statements on the session's connection (storage/prepared.py): every
    update does this, and the ORM's unit of work costs more here than it gives. A chat's first
    call is one statement that looks for the chat's waiting calls as it inserts (`_ADD_FIRST`),
    so a reply costs one round trip to the database.
    """
    now = utcnow()
    connection = session.connection()
    claimed: dict[int, list[Call]] = {}
    mine: dict[int, bool] = {}
    for item in items:
        values = {
            "chat_id": item.chat_id,
            "update_id": update_id,
            "kind": item.kind,
            "payload": item.payload,
            "content": item.content,
            "query_id": item.query_id,
            "edit_message_id": item.edit_message_id,
            "progress_of": item.progress_of,
            "not_before": now,
            "tries": 0,
            "unsure": 0,
            "error": "",
            "created_at": now,
        }
        if item.chat_id in mine:
            ours = mine[item.chat_id]
            row_id = _ADD.run(
                connection, {**values, "status": "sending" if ours else "pending", "claimed_by": owner if ours else "", "claimed_at": now if ours else None}
            ).scalar()
        else:
            row_id, status = _ADD_FIRST.run(
                connection, {f"v_{name}": value for name, value in {**values, "claimed_by": owner, "claimed_at": now}.items()}
            ).rows[0]
            ours = status == "sending"
            mine[item.chat_id] = ours
        if ours:
            claimed.setdefault(item.chat_id, []).append(
                Call(row_id, item.chat_id, item.kind, item.payload, item.content, item.query_id, item.edit_message_id, item.progress_of, 0, 0)
            )
    return claimed


def _due(now: datetime, lease: timedelta) -> Any:
    return or_(
        and_(col(OutboxMessage.status) == "pending", col(OutboxMessage.not_before) <= now),
        and_(col(OutboxMessage.status) == "sending", col(OutboxMessage.claimed_at) < now - lease),
    )


def due_chats(engine: Engine, limit: int, lease: timedelta, now: datetime | None = None) -> list[int]:
    """Chats whose first open call is due: never sent yet, retried, or claimed by a sender
    whose lease ran out."""
    now = now or utcnow()
    first = select(func.min(OutboxMessage.id)).where(col(OutboxMessage.status).in_(OPEN)).group_by(col(OutboxMessage.chat_id)).scalar_subquery()
    with Session(engine) as session:
        rows = session.exec(
            select(OutboxMessage.chat_id).where(col(OutboxMessage.id).in_(first), _due(now, lease)).order_by(col(OutboxMessage.id)).limit(limit)
        ).all()
    return list(rows)


def claim_chat(engine: Engine, chat_id: int, owner: str, lease: timedelta, now: datetime | None = None) -> list[Call]:
    """The chat's due calls, in order, now owned by `owner`: from its first open call up to the
    first that is not due. None when another sender is working the chat.

    The first call of a sender whose lease ran out may have been delivered (calls of a chat are
    made one at a time): it counts as unsure, and one that was unsure already is given up
    (failed) instead of being sent a third time.
    """
    now = now or utcnow()
    with Session(engine) as session:
        rows = session.exec(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id, col(OutboxMessage.status).in_(OPEN)).order_by(col(OutboxMessage.id)).with_for_update()
        ).all()
        taken: list[Call] = []
        lapsed: set[str] = set()
        for row in rows:
            expired = row.status == "sending" and row.claimed_at is not None and row.claimed_at < now - lease
            if (row.status == "sending" and not expired) or (row.status == "pending" and row.not_before > now):
                break
            still = [col(OutboxMessage.id) == row.id, col(OutboxMessage.status) == row.status]
            still.append(col(OutboxMessage.claimed_at) < now - lease if expired else col(OutboxMessage.claimed_by) == "")
            in_flight = expired and row.claimed_by not in lapsed  # only a sender's first open call of the chat may have been
            lapsed.add(row.claimed_by)
            unsure = row.unsure + (1 if in_flight else 0)
            if unsure >= 2:
                values: dict[str, Any] = {"status": "failed", "claimed_by": "", "unsure": unsure, "error": GIVEN_UP_UNSURE}
            else:
                values = {"status": "sending", "claimed_by": owner, "claimed_at": now, "unsure": unsure}
            if changed_rows(session, update(OutboxMessage).where(*still).values(**values)) != 1:
                session.rollback()
                return []
            if values["status"] == "sending":
                taken.append(
                    Call(row.id or 0, row.chat_id, row.kind, row.payload, row.content, row.query_id, row.edit_message_id, row.progress_of, row.tries, unsure)
                )
        session.commit()
    return taken


def recorded_alone(call: Call, poll_id: str | None) -> bool:
    """Whether how the call went is one statement: no quiz poll's id and no push's progress message
    to remember with it."""
    return poll_id is None and call.progress_of is None


def _finished(call: Call, owner: str, values: dict[str, Any]) -> dict[str, Any]:
    """The parameters of `_FINISH`: this sender's claim on the call given up, with `values`."""
    return {"call": call.id, "owner": owner, "claimed_by": "", **values}


def _finish(engine: Engine, call: Call, owner: str, poll_id: str | None = None, **values: object) -> bool:
    if recorded_alone(call, poll_id):  # one round trip on PostgreSQL
        return _FINISH[engine.dialect.name].run_alone(engine, _finished(call, owner, values)).rowcount == 1
    with engine.begin() as connection:
        if poll_id is not None:
            record_poll(connection, poll_id, values.get("message_id"), call.payload["target"])  # type: ignore[arg-type]
        done = _FINISH[connection.dialect.name].run(connection, _finished(call, owner, values))
        if done.rowcount == 1 and call.progress_of is not None and values.get("message_id") is not None:
            connection.execute(_PROGRESS, {"assignment": call.progress_of, "progress_chat_id": call.chat_id, "progress_message_id": values["message_id"]})
        return done.rowcount == 1


def mark_sent(engine: Engine, call: Call, owner: str, message_id: int | None, poll_id: str | None = None) -> bool:
    """Telegram accepted the call; it is never made again. A push's progress message is
    remembered in the same transaction, so the push sender can edit it, and so is a quiz poll's
    id with what it asks (storage/quiz_polls.py), whoever owns the call now: the rep has the poll.
    False if this sender no longer owned the call (its lease ran out and another sender took it)."""
    return _finish(engine, call, owner, poll_id, **_sent(call, message_id))


def mark_sent_in_doubt(engine: Engine, call: Call, owner: str, message_id: int | None) -> bool:
    """`mark_sent` for a call whose record may have been made already: the event loop's
    connection failed without saying whether the server had committed its record
    (`mark_sent_on_loop`). True also when the call is found recorded as sent with this message."""
    if mark_sent(engine, call, owner, message_id):
        return True
    with engine.connect() as connection:
        found = connection.execute(core_select(OUTBOX.c.status, OUTBOX.c.message_id).where(OUTBOX.c.id == call.id)).first()
    return found is not None and tuple(found) == ("sent", message_id)


class SentMarks:
    """SQLite: a reply recorded as sent straight from the event loop, when the database can be
    written at once.

    A role-play turn's reply is recorded as sent right after Telegram takes it. In a worker
    thread that record cost two thread hops on top of its 0.1 ms; written here on a connection
    of its own it takes about 0.05 ms, less than one hop. It never waits, so the event loop is
    never held up: when this process's writer lock (storage/db.py, WriterQueue) is taken, or
    another process is writing (busy_timeout 0, BEGIN IMMEDIATE fails at once), `mark_sent`
    answers None and the caller records the reply in a thread as before. The connection never
    checkpoints the log itself (wal_autocheckpoint 0: the pooled connections do), so a commit
    here only appends to it. Used from the event loop's thread only.
    """

    def __init__(self, engine: Engine) -> None:
        lock, path = writer_lock(engine), sqlite_file(engine)
        assert lock is not None and path is not None, "a SQLite file"
        self.lock, self.dialect = lock, engine.dialect
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("busy_timeout=0", "wal_autocheckpoint=0", "synchronous=NORMAL"):
            self.connection.execute(f"PRAGMA {pragma}")
        weakref.finalize(self, self.connection.close)

    @staticmethod
    def usable(engine: Engine) -> bool:
        """Whether the database is a SQLite file (an in-memory one has a single connection)."""
        return sqlite_file(engine) is not None and writer_lock(engine) is not None

    def mark_sent(self, call: Call, owner: str, message_id: int | None) -> bool | None:
        """As `mark_sent` (the module's), for a call `recorded_alone`; None when the database could
        not be written at once (nothing was recorded)."""
        if not self.lock.acquire(blocking=False):
            return None
        try:
            try:
                self.connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:  # another process holds the write lock
                return None
            try:
                done = _FINISH["sqlite"].run_on(self.connection, self.dialect, _finished(call, owner, _sent(call, message_id)))
                self.connection.execute("COMMIT")
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            return done.rowcount == 1
        finally:
            self.lock.release()


async def mark_sent_on_loop(loop: LoopConnection, call: Call, owner: str, message_id: int | None) -> bool | None:
    """As `mark_sent`, for a call `recorded_alone`, awaited on the event loop (PostgreSQL,
    storage/loop_connection.py) instead of in a thread: the same one statement, its commit not
    waiting for the disk (`_FINISH`). None when the record could not be made there (nothing was
    recorded, or it is not known whether it was: the caller records it in a thread with
    `mark_sent_in_doubt`)."""
    done = await loop.run(_FINISH["postgresql"], _finished(call, owner, _sent(call, message_id)), f"record reply {call.id} as sent")
    return None if done is None else done.rowcount == 1


def _sent(call: Call, message_id: int | None) -> dict[str, Any]:
    """What a call Telegram took is recorded with (besides giving up the claim)."""
    return {"status": "sent", "sent_at": utcnow(), "tries": call.tries + 1, "message_id": message_id, "content": None, "error": ""}


def mark_given_up(engine: Engine, call: Call, owner: str, status: str, error: str, *, unsure: bool = False) -> None:
    """The call will not be made again: `failed` (Telegram refused it, it failed MAX_TRIES
    times, or it may have been delivered twice over) or `undeliverable` (the rep blocked the
    bot or is gone). An `unsure` last attempt (a timeout) may have been delivered."""
    _finish(engine, call, owner, status=status, tries=call.tries + 1, unsure=call.unsure + (1 if unsure else 0), content=None, error=error[:200])


def mark_retry(engine: Engine, call: Call, owner: str, after: timedelta, error: str, *, counted: bool = True, unsure: bool = False) -> None:
    """Back in the chat's queue, due in `after`; the chat's later calls wait behind it.
    A 429 is not `counted` as a try; an `unsure` attempt (a timeout) may have been delivered."""
    _finish(
        engine,
        call,
        owner,
        status="pending",
        not_before=utcnow() + after,
        error=error[:200],
        tries=call.tries + (1 if counted else 0),
        unsure=call.unsure + (1 if unsure else 0),
    )


def release(engine: Engine, calls: list[Call], owner: str) -> None:
    """Claimed calls this sender did not try (an earlier call of the chat must wait): back in the queue as they were."""
    if not calls:
        return
    with Session(engine) as session:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_([c.id for c in calls]), col(OutboxMessage.claimed_by) == owner, col(OutboxMessage.status) == "sending")
            .values(status="pending", claimed_by="", claimed_at=None)
        )
        session.commit()


def release_dead(session: Session, owners: list[str]) -> int:
    """Calls that dead senders held go back to their queues. A sender makes a chat's calls one
    at a time and records each before the next, so only its first open call of each chat may
    have been in flight: that one counts as unsure (it may have been delivered), and is given
    up if it was unsure already. Returns how many were released."""
    if not owners:
        return 0
    rows = (
        session.connection()
        .execute(
            select(OUTBOX.c.id, OUTBOX.c.chat_id, OUTBOX.c.claimed_by, OUTBOX.c.unsure)
            .where(OUTBOX.c.claimed_by.in_(owners), OUTBOX.c.status == "sending")
            .order_by(OUTBOX.c.id)
        )
        .all()
    )
    in_flight: dict[tuple[int, str], Any] = {}
    for row in rows:
        in_flight.setdefault((row.chat_id, row.claimed_by), row)
    first = {row.id for row in in_flight.values()}
    for row in rows:
        if row.id in first and row.unsure >= 1:
            values: dict[str, Any] = {"status": "failed", "claimed_by": "", "unsure": row.unsure + 1, "error": GIVEN_UP_UNSURE}
        else:
            values = {"status": "pending", "claimed_by": "", "claimed_at": None, "unsure": row.unsure + (1 if row.id in first else 0)}
        session.execute(update(OutboxMessage).where(col(OutboxMessage.id) == row.id).values(**values))
    return len(rows)


def claimants(session: Session) -> set[str]:
    """The senders that hold calls now."""
    return set(session.exec(select(OutboxMessage.claimed_by).where(col(OutboxMessage.status) == "sending", OutboxMessage.claimed_by != "").distinct()).all())


def prune(engine: Engine, older_than: timedelta, limit: int = 1000) -> int:
    """Forget up to `limit` finished calls made more than `older_than` ago."""
    cutoff = utcnow() - older_than
    with Session(engine) as session:
        old = select(OutboxMessage.id).where(col(OutboxMessage.status).not_in(OPEN), col(OutboxMessage.created_at) < cutoff).limit(limit)
        gone = changed_rows(session, delete(OutboxMessage).where(col(OutboxMessage.id).in_(old.scalar_subquery())))
        session.commit()
        return gone
