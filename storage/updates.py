"""De-duplication of Telegram updates across processes."""

from __future__ import annotations

from sqlalchemy import Insert, Table, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from storage.models import InboxUpdate, ProcessedUpdate, utcnow

PROCESSED: Table = ProcessedUpdate.__table__  # type: ignore[attr-defined]
INBOX: Table = InboxUpdate.__table__  # type: ignore[attr-defined]
# Built once per dialect: an update id already recorded inserts nothing.
_RECORD: dict[str, Insert] = {
    "sqlite": sqlite.insert(PROCESSED).on_conflict_do_nothing().execution_options(preserve_rowcount=True),
    "postgresql": postgresql.insert(PROCESSED).on_conflict_do_nothing().execution_options(preserve_rowcount=True),
}
_LEAVE_INBOX = delete(INBOX).where(INBOX.c.update_id == bindparam("update_id"))


def claim_update(session: Session, update_id: int) -> bool:
    """True the first time an update id is seen, False if it is already recorded.

    The record joins `session`'s transaction: it is committed with the state and the
    records the update creates, or rolled back with them, so an update whose handling
    never committed is handled again when Telegram redelivers it. The update leaves the
    inbox in the same transaction, so it is waiting there exactly until it is handled.
    Call it before anything else is written. One statement records it (INSERT … ON
    CONFLICT DO NOTHING, with SQLAlchemy Core): when another process is handling the same
    update at this moment, PostgreSQL makes the insert wait for that transaction and
    inserts nothing if it committed, so the update is recognised as handled.
    """
    connection = session.connection()
    if connection.execute(_RECORD[connection.dialect.name], {"update_id": update_id, "created_at": utcnow()}).rowcount != 1:
        return False
    connection.execute(_LEAVE_INBOX, {"update_id": update_id})
    return True
