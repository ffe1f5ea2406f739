"""What operations watch in the database: how much waits to be sent, and for how long.

Read by the health check (/healthz: is the outbox stuck?) and the metrics (/metrics: queue
depths); every process sees the same numbers, as they are the shared database's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import col, func, select

from storage.models import Delivery, OutboxMessage, utcnow
from storage.outbox import OPEN

WAITING_PUSHES = ("pending", "sending")


@dataclass(frozen=True)
class Backlog:
    """What waits to be sent: open outbox calls, push messages not yet sent, and how long the
    outbox call that has been due longest has waited (None when nothing is due)."""

    outbox: int
    pushes: int
    oldest_due: timedelta | None


def reachable(connection: Connection) -> None:
    """Asks the database something trivial; raises if it does not answer."""
    connection.execute(text("SELECT 1"))


def backlog(connection: Connection, now: datetime | None = None) -> Backlog:
    """The outbox's and the push queue's depth, and the wait of the oldest due outbox call."""
    now = now or utcnow()
    outbox, first_due = connection.execute(select(func.count(), func.min(OutboxMessage.not_before)).where(col(OutboxMessage.status).in_(OPEN))).one()
    pushes = connection.execute(select(func.count()).select_from(Delivery).where(col(Delivery.status).in_(WAITING_PUSHES))).scalar_one()
    waited = now - first_due if first_due is not None and first_due <= now else None
    return Backlog(outbox, pushes, waited)
