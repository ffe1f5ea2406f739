"""Work that processes hold: updates being handled, replies and pushes being sent.

Each claim names its process (`claimed_by`). A claim whose process has died is released at
once by the next process that starts on the same host (bot/claims.py tells the dead from the
living); claims of other hosts are taken over when their lease runs out.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage import deliveries, inbox, outbox


def holders(engine: Engine) -> set[str]:
    """Every process that holds an update, a reply or a push message now."""
    with Session(engine) as session:
        return inbox.claimants(session) | outbox.claimants(session) | deliveries.claimants(session)


def release(engine: Engine, owners: list[str]) -> int:
    """Release everything `owners` (processes known to be dead) held, in one transaction;
    returns how many updates, replies and push messages went back to their queues."""
    if not owners:
        return 0
    with Session(engine) as session:
        count = inbox.release_dead(session, owners) + outbox.release_dead(session, owners) + deliveries.release_dead(session, owners)
        session.commit()
    return count
