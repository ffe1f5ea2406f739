"""Periodic jobs run once per deployment: a process runs one only while it holds the job's lease.

A lease is a row per job naming its holder and when the lease expires. Holding it is one
conditional upsert: taken when nobody holds it or the holder's lease has expired, renewed when
the caller holds it already. A holder that dies stops renewing, and its lease passes to the
next process that asks once it has expired, within seconds, or at once to a process started
on the same host, which releases what dead processes held (storage/claims.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Table, bindparam, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import DIALECTS, upsert
from storage.models import JobLease

LEASES: Table = JobLease.__table__  # type: ignore[attr-defined]
_NOW = bindparam("now", type_=Float)


def _statement(dialect: str) -> Any:
    take = upsert(dialect, LEASES).values(name=bindparam("job"), holder=bindparam("me"), expires=bindparam("expires", type_=Float))
    return take.on_conflict_do_update(
        index_elements=[LEASES.c.name],
        set_={"holder": bindparam("me"), "expires": bindparam("expires", type_=Float)},
        where=or_(LEASES.c.holder == bindparam("me"), LEASES.c.expires < _NOW),
    ).returning(LEASES.c.holder)


_HOLD = {dialect: _statement(dialect) for dialect in DIALECTS}
_LET_GO = update(LEASES).where(LEASES.c.name == bindparam("job"), LEASES.c.holder == bindparam("me")).values(expires=0.0)


def hold(engine: Engine, job: str, me: str, now: float, seconds: float) -> bool:
    """True when `me` holds `job`'s lease for the next `seconds` (taken or renewed); False when
    another process holds it. `now` is seconds since the epoch."""
    with engine.begin() as connection:
        held = connection.execute(_HOLD[connection.dialect.name], {"job": job, "me": me, "now": now, "expires": now + seconds})
        return held.first() is not None


def let_go(engine: Engine, job: str, me: str) -> None:
    """Gives the lease up at once (a process stopping), so another can take the job without waiting."""
    with engine.begin() as connection:
        connection.execute(_LET_GO, {"job": job, "me": me})


def holders(session: Session) -> set[str]:
    """The processes that hold a job's lease (expired or not)."""
    return set(session.connection().execute(select(LEASES.c.holder).where(LEASES.c.expires > 0)).scalars())


def release_dead(session: Session, owners: list[str]) -> int:
    """The leases of dead processes expire now, so a restarted process takes their jobs at once."""
    if not owners:
        return 0
    return session.connection().execute(update(LEASES).where(LEASES.c.holder.in_(owners), LEASES.c.expires > 0).values(expires=0.0)).rowcount
