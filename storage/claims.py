"""Work that processes hold: updates being handled, replies and pushes being sent, periodic jobs.

Each claim names its process (`claimed_by`). A claim whose process has died is released at
once by the next process that starts on the same host (bot/claims.py tells the dead from the
living); claims of other hosts are taken over when their lease runs out.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage import deliveries, inbox, leases, outbox


def holders(engine: Engine) -> set[str]:
    """Every process that holds an update, a reply, a push message or a job's lease now."""
    with Session(engine) as session:
        return inbox.claimants(session) | outbox.claimants(session) | deliveries.claimants(session) | leases.holders(session)


def release(engine: Engine, owners: list[str]) -> int:
    """Release everything `owners` (processes known to be dead) held, in one transaction;
    returns how many updates, replies, push messages and job leases went back to be taken."""
    if not owners:
        return 0
    with Session(engine) as session:
        count = (
            inbox.release_dead(session, owners)
            + outbox.release_dead(session, owners)
            + deliveries.release_dead(session, owners)
            + leases.release_dead(session, owners)
        )
        session.commit()
    return count
