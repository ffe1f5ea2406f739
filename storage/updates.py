"""De-duplication of Telegram updates across processes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Table, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import without_fsync
from storage.models import InboxUpdate, ProcessedUpdate, utcnow
from storage.prepared import Prepared

PROCESSED: Table = ProcessedUpdate.__table__  # type: ignore[attr-defined]
INBOX: Table = InboxUpdate.__table__  # type: ignore[attr-defined]
# Every update runs these (storage/prepared.py); an update id already recorded inserts nothing,
# and the update leaves the inbox. PostgreSQL does both in one statement (a DELETE in WITH runs
# whatever the INSERT does), and an update that was in the inbox has its transaction's commit not
# wait for the disk (see `claim_update`); SQLite has no DELETE in WITH, so there it is a second statement.
_LEAVE_INBOX = delete(INBOX).where(INBOX.c.update_id == bindparam("leaving"))
_RECORD: dict[str, tuple[Prepared, Prepared | None]] = {
    "sqlite": (Prepared(sqlite.insert(PROCESSED).on_conflict_do_nothing()), Prepared(_LEAVE_INBOX)),
    "postgresql": (Prepared(postgresql.insert(PROCESSED).on_conflict_do_nothing().add_cte(without_fsync(_LEAVE_INBOX).cte("left_inbox"))), None),
}


def claim_update(session: Session, update_id: int) -> bool:
    """True the first time an update id is seen, False if it is already recorded.

    The record joins `session`'s transaction: it is committed with the state and the
    records the update creates, or rolled back with them, so an update whose handling
    never committed is handled again when Telegram redelivers it. The update leaves the
    inbox in the same transaction, so it is waiting there exactly until it is handled.
    Call it before anything else is written. One statement records it (INSERT … ON
    CONFLICT DO NOTHING): when another process is handling the same update at this moment,
    PostgreSQL makes the insert wait for that transaction and inserts nothing if it
    committed, so the update is recognised as handled (its inbox row goes either way: the
    inbox worker finishes an update whatever the engine made of it).

    On PostgreSQL, when the update was in the inbox, the transaction's commit does not wait for
    the disk (storage/db.without_fsync, set as the inbox row goes). The update itself was stored
    durably before Telegram was told it arrived (storage/inbox.py), so a crash of the database
    server that loses this commit loses it together with the inbox row's deletion, and with every
    commit after it (PostgreSQL writes its log in order, and any durable commit flushes what came
    before it): the update is handled again, from the state it was first handled in, and the rep
    may see its reply twice. An update handled without the inbox (tests, the benchmark) commits
    durably, as before.
    """
    connection = session.connection()
    record, leave_inbox = _RECORD[connection.dialect.name]
    if record.run(connection, {"update_id": update_id, "created_at": utcnow(), "leaving": update_id}).rowcount != 1:
        return False
    if leave_inbox is not None:
        leave_inbox.run(connection, {"leaving": update_id})
    return True


def forget_processed(engine: Engine, older_than: timedelta) -> int:
    """Forget the updates handled more than `older_than` ago; how many were forgotten.

    Telegram redelivers an update for at most a day, so a week-old record recognises nothing
    any more; without pruning the table would grow by every update ever handled.
    """
    with engine.begin() as connection:
        return connection.execute(delete(PROCESSED).where(PROCESSED.c.created_at < utcnow() - older_than)).rowcount
