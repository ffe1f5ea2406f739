"""De-duplication of Telegram updates across processes."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from storage.dialog_state import StaleState
from storage.models import InboxUpdate, ProcessedUpdate


def claim_update(session: Session, update_id: int) -> bool:
    """True the first time an update id is seen, False if it is already recorded.

    The record joins `session`'s transaction: it is committed with the state and the
    records the update creates, or rolled back with them, so an update whose handling
    never committed is handled again when Telegram redelivers it. The update leaves the
    inbox in the same transaction, so it is waiting there exactly until it is handled. Call it before anything
    else is written. When another process is handling the same update at this moment,
    the insert waits for its transaction and raises StaleState if it committed; handled
    again, the update is then recognised.
    """
    if session.get(ProcessedUpdate, update_id) is not None:
        return False
    session.add(ProcessedUpdate(update_id=update_id))
    try:
        session.flush()
    except IntegrityError as exc:
        raise StaleState from exc
    session.execute(delete(InboxUpdate).where(col(InboxUpdate.update_id) == update_id))
    return True
