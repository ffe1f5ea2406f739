"""De-duplication of Telegram updates across processes."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.models import ProcessedUpdate


def claim_update(engine: Engine, update_id: int) -> bool:
    """True the first time an update id is seen by any process, False on a redelivery."""
    with Session(engine) as session:
        session.add(ProcessedUpdate(update_id=update_id))
        try:
            session.commit()
        except IntegrityError:
            return False
    return True
