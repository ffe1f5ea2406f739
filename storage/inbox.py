"""The inbox: Telegram updates stored before Telegram is told they arrived, handled one
person at a time in update_id order (bot/inbox.py works it).

Polling moves Telegram's offset past an update, and the webhook answers 200, only once the
update is committed here; it is deleted once handled. Each person's updates form a queue by
update_id: a process works a person by claiming the first update of their queue, and nobody
else takes that person's later updates until it is done, so two processes never handle one
rep's messages out of order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Table,
    all_,
    and_,
    bindparam,
    case,
    column,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col

from storage.changed import changed_rows
from storage.loop_connection import LoopConnection
from storage.models import InboxUpdate, ProcessedUpdate, utcnow
from storage.prepared import Prepared

# The ids a BIGINT column holds; Telegram's are far smaller, so a larger one is no update.
MAX_UPDATE_ID = 2**63 - 1
MAX_TRIES = 3
INBOX: Table = InboxUpdate.__table__  # type: ignore[attr-defined]
PROCESSED: Table = ProcessedUpdate.__table__  # type: ignore[attr-defined]
_KNOWN = union_all(
    select(INBOX.c.update_id).where(INBOX.c.update_id.in_(bindparam("ids", expanding=True))),
    select(PROCESSED.c.update_id).where(PROCESSED.c.update_id.in_(bindparam("ids", expanding=True))),
)
_WAITING = select(INBOX.c.user_key).where(INBOX.c.user_key.in_(bindparam("keys", expanding=True))).distinct()
_ADD = insert(INBOX)
_QUEUE = select(INBOX).where(INBOX.c.user_key == bindparam("key")).order_by(INBOX.c.update_id).limit(2)


def _free(expired: Any) -> Any:
    """An update nobody holds: never claimed, or claimed before `expired` (the claim's lease ran out)."""
    return or_(INBOX.c.claimed_by == "", and_(INBOX.c.claimed_at.is_not(None), INBOX.c.claimed_at < expired))


def _received_on_loop() -> Prepared:
    """`receive` as one PostgreSQL statement (`receive_on_loop`): the batch arrives as one JSON
    array, whatever its length, so the statement is prepared once. An update already stored or
    handled is left out; one stored by another process at the same moment inserts nothing."""
    incoming = (
        func.json_to_recordset(bindparam("batch", type_=JSON))
        .table_valued(column("update_id", BigInteger), column("user_key", BigInteger), column("payload", JSON))
        .render_derived(name="incoming", with_types=True)
    )
    first_of_person = func.row_number().over(partition_by=incoming.c.user_key, order_by=incoming.c.update_id) == 1
    nothing_waiting = ~exists().where(INBOX.c.user_key == incoming.c.user_key)
    new = (
        select(incoming, and_(bindparam("claiming", type_=Boolean), first_of_person, nothing_waiting).label("mine"))
        .where(~exists().where(INBOX.c.update_id == incoming.c.update_id), ~exists().where(PROCESSED.c.update_id == incoming.c.update_id))
        .cte("new")
    )
    now = bindparam("now", type_=INBOX.c.received_at.type)
    rows = select(
        new.c.update_id,
        new.c.user_key,
        new.c.payload,
        now,
        case((new.c.mine, bindparam("owner", type_=INBOX.c.claimed_by.type)), else_=""),
        case((new.c.mine, now), else_=null()),
        case((new.c.mine, 1), else_=0),
    )
    columns = ["update_id", "user_key", "payload", "received_at", "claimed_by", "claimed_at", "tries"]
    statement = postgresql.insert(INBOX).from_select(columns, rows).on_conflict_do_nothing()
    return Prepared(statement.returning(INBOX.c.update_id, INBOX.c.user_key, INBOX.c.tries))


def _next_on_loop() -> Prepared:
    """`finish_and_next` as one PostgreSQL statement (`next_on_loop`): the handled update goes (if the
    engine's transaction has not already taken it) and the person's next update is claimed if it is free."""
    gone = delete(INBOX).where(INBOX.c.update_id == bindparam("done"), INBOX.c.claimed_by == bindparam("owner")).cte("gone")
    following = select(INBOX.c.update_id).where(INBOX.c.user_key == bindparam("key"), INBOX.c.update_id != bindparam("done"))
    free = _free(bindparam("expired"))
    claim = (
        update(INBOX)
        .add_cte(gone)
        .where(INBOX.c.update_id == following.order_by(INBOX.c.update_id).limit(1).scalar_subquery(), free)
        .values(claimed_by=bindparam("owner"), claimed_at=bindparam("now"), tries=INBOX.c.tries + 1)
    )
    return Prepared(claim.returning(INBOX.c.update_id, INBOX.c.user_key, INBOX.c.payload, INBOX.c.tries))


def _heads_on_loop() -> Prepared:
    """`claim_heads` as one PostgreSQL statement (`heads_on_loop`). It always returns a row, with
    how many people's first updates were free: none taken, the row's update is NULL."""
    free = _free(bindparam("expired"))
    first = select(func.min(INBOX.c.update_id)).group_by(INBOX.c.user_key).scalar_subquery()
    waiting = select(INBOX.c.update_id, INBOX.c.user_key).where(INBOX.c.update_id.in_(first), free).cte("waiting")
    skip = bindparam("skip", type_=postgresql.ARRAY(BigInteger))
    chosen = select(waiting.c.update_id).where(waiting.c.user_key != all_(skip)).order_by(waiting.c.update_id).limit(bindparam("limit"))
    taken = (
        update(INBOX)
        .where(INBOX.c.update_id.in_(chosen), free)
        .values(claimed_by=bindparam("owner"), claimed_at=bindparam("now"), tries=INBOX.c.tries + 1)
        .returning(INBOX.c.update_id, INBOX.c.user_key, INBOX.c.payload, INBOX.c.tries)
        .cte("taken")
    )
    one = select(literal(1).label("one")).subquery("one")
    count = select(func.count()).select_from(waiting).scalar_subquery().label("waiting")
    return Prepared(select(taken.c.update_id, taken.c.user_key, taken.c.payload, taken.c.tries, count).select_from(one.outerjoin(taken, true())))


_RECEIVE_ON_LOOP = _received_on_loop()
_NEXT_ON_LOOP = _next_on_loop()
_HEADS_ON_LOOP = _heads_on_loop()


@dataclass(frozen=True)
class Incoming:
    """An update this process now owns and is about to handle."""

    update_id: int
    user_key: int
    payload: dict[str, Any]
    tries: int


def receive(engine: Engine, updates: list[tuple[int, int, dict[str, Any]]], owner: str = "") -> list[Incoming]:
    """Store the updates (update_id, user_key, payload) not yet stored or handled, in one
    transaction. With an `owner`, a person's first update is claimed for it at once when
    nothing of theirs was waiting (the process that stores it handles it without another
    transaction); returns those claimed.

    Written with SQLAlchemy Core and statements built once: every update comes this way.
    """
    if not updates:
        return []
    now = utcnow()
    claimed: list[Incoming] = []
    with engine.begin() as connection:
        known = set(connection.execute(_KNOWN, {"ids": [update_id for update_id, _, _ in updates]}).scalars())
        new = [(update_id, key, payload) for update_id, key, payload in sorted(updates, key=lambda u: u[0]) if update_id not in known]
        keys = sorted({key for _, key, _ in new})
        waiting = set(connection.execute(_WAITING, {"keys": keys}).scalars()) if owner and keys else set(keys)
        for update_id, key, payload in new:
            mine = key not in waiting
            waiting.add(key)
            values = {
                "update_id": update_id,
                "user_key": key,
                "payload": payload,
                "received_at": now,
                "claimed_by": owner if mine else "",
                "claimed_at": now if mine else None,
                "tries": 1 if mine else 0,
            }
            connection.execute(_ADD, values)
            if mine:
                claimed.append(Incoming(update_id, key, payload, 1))
    return claimed


async def receive_on_loop(loop: LoopConnection, updates: list[tuple[int, int, dict[str, Any]]], owner: str = "") -> list[Incoming] | None:
    """`receive` on PostgreSQL, awaited on the event loop (storage/loop_connection.py) in one
    statement, its commit as durable as `receive`'s; None when it could not be made there (the
    caller then stores the updates in a thread: those already stored are known and left out).

    If the connection is lost after the server committed, updates this call claimed are not
    handed to the caller: they are handled once the claim's lease runs out."""
    if not updates:
        return []
    batch = [{"update_id": update_id, "user_key": key, "payload": payload} for update_id, key, payload in updates]
    stored = await loop.run(_RECEIVE_ON_LOOP, {"batch": batch, "claiming": bool(owner), "owner": owner, "now": utcnow()}, "store updates")
    if stored is None:
        return None
    payloads = {update_id: payload for update_id, _, payload in updates}
    return [Incoming(update_id, key, payloads[update_id], tries) for update_id, key, tries in sorted(stored.rows) if tries]


async def next_on_loop(loop: LoopConnection, done: Incoming, owner: str, lease: timedelta) -> list[Incoming] | None:
    """`finish_and_next` on PostgreSQL, awaited on the event loop in one statement: the person's
    next update now owned by `owner` (a list of one), or none; None when it could not be made
    there (the caller then does it in a thread)."""
    now = utcnow()
    params = {"done": done.update_id, "owner": owner, "key": done.user_key, "now": now, "expired": now - lease}
    taken = await loop.run(_NEXT_ON_LOOP, params, f"finish update {done.update_id}")
    return None if taken is None else [Incoming(*row) for row in taken.rows]


def _take(connection: Connection, row: Any, owner: str, now: datetime, lease: timedelta) -> Incoming | None:
    """Claim the stored update `row` for `owner` unless someone holds it."""
    won = connection.execute(
        update(INBOX).where(INBOX.c.update_id == row.update_id, _free(now - lease)).values(claimed_by=owner, claimed_at=now, tries=row.tries + 1)
    )
    if won.rowcount != 1:
        return None
    return Incoming(row.update_id, row.user_key, row.payload, row.tries + 1)


def claim_heads(engine: Engine, owner: str, lease: timedelta, limit: int, skip: set[int], now: datetime | None = None) -> tuple[list[Incoming], bool]:
    """Up to `limit` people's first updates that nobody is handling (or whose handler's lease
    ran out), oldest first, now owned by `owner`; people in `skip` are being worked here
    already. Also says whether any were left (skipped, or over the limit)."""
    now = now or utcnow()
    first = select(func.min(INBOX.c.update_id)).group_by(INBOX.c.user_key).scalar_subquery()
    taken: list[Incoming] = []
    left = False
    with engine.begin() as connection:
        rows = connection.execute(
            select(INBOX).where(INBOX.c.update_id.in_(first), _free(now - lease)).order_by(INBOX.c.update_id).limit(limit + len(skip) + 1)
        ).all()
        for row in rows:
            if row.user_key in skip or len(taken) >= limit:
                left = True
                continue
            incoming = _take(connection, row, owner, now, lease)
            if incoming is not None:
                taken.append(incoming)
    return taken, left


async def heads_on_loop(loop: LoopConnection, owner: str, lease: timedelta, limit: int, skip: set[int]) -> tuple[list[Incoming], bool] | None:
    """`claim_heads` on PostgreSQL, awaited on the event loop in one statement; None when it could
    not be made there (the caller then does it in a thread)."""
    now = utcnow()
    params = {"owner": owner, "now": now, "expired": now - lease, "limit": limit, "skip": sorted(skip)}
    found = await loop.run(_HEADS_ON_LOOP, params, "claim the inbox's waiting updates")
    if found is None:
        return None
    taken = sorted((Incoming(*row[:4]) for row in found.rows if row[0] is not None), key=lambda item: item.update_id)
    return taken, found.rows[0][4] > len(taken)


def finish_and_next(engine: Engine, done: Incoming, owner: str, lease: timedelta, now: datetime | None = None) -> list[Incoming]:
    """Forget the handled update (the engine's transaction usually has) and claim the same
    person's next one, if nobody has it (a list of one, or none); a read alone when there is
    nothing to do."""
    now = now or utcnow()
    with engine.begin() as connection:
        rows = connection.execute(_QUEUE, {"key": done.user_key}).all()
        if rows and rows[0].update_id == done.update_id:
            connection.execute(delete(INBOX).where(INBOX.c.update_id == done.update_id, INBOX.c.claimed_by == owner))
            rows = rows[1:]
        free = rows and (not rows[0].claimed_by or (rows[0].claimed_at is not None and rows[0].claimed_at < now - lease))
        taken = _take(connection, rows[0], owner, now, lease) if free else None
        return [taken] if taken is not None else []


def release(engine: Engine, owner: str) -> None:
    """Updates this process claimed and did not handle go back (a clean shutdown)."""
    with Session(engine) as session:
        session.execute(update(InboxUpdate).where(col(InboxUpdate.claimed_by) == owner).values(claimed_by="", claimed_at=None, tries=InboxUpdate.tries - 1))
        session.commit()


def release_dead(session: Session, owners: list[str]) -> int:
    """Updates that dead processes were handling go back to their queues (ProcessedUpdate tells
    whether the handling had committed)."""
    if not owners:
        return 0
    return changed_rows(session, update(InboxUpdate).where(col(InboxUpdate.claimed_by).in_(owners)).values(claimed_by="", claimed_at=None))


def claimants(session: Session) -> set[str]:
    """The processes that hold updates now."""
    return set(session.execute(select(INBOX.c.claimed_by).where(INBOX.c.claimed_by != "").distinct()).scalars())


def waiting(engine: Engine) -> int:
    """How many updates are stored and not yet handled."""
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(INBOX)).scalar_one()
