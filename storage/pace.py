"""One send budget for every bot process: when the next message may go out, kept in the database.

Telegram takes about 30 messages a second from a bot and about one a second in a chat, and
answers more with 429 and a retry_after for that chat. The budget is the generic cell rate
algorithm (a token bucket written as one number): each row holds `tat`, the theoretical time
of the next message, for the whole bot (row 0) or one chat. A message may go at `now` when
`tat <= now + slack` (slack = (burst - 1) x interval lets `burst` messages go at once); taking it
moves `tat` to `max(tat, now) + interval`. A chat without a row may be sent to at once.

`take` is one transaction of conditional upserts, the whole bot's row first: on PostgreSQL its
row lock queues every process's takes one after another; on SQLite the first statement is a
write, so the transaction holds the write lock from its start (as BEGIN IMMEDIATE would) and
never reads a snapshot it then cannot write. A take costs one round trip per row, and on
PostgreSQL does not wait for its commit to reach the disk (storage/db.py: commit_without_fsync).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Table, bindparam, case, delete, select
from sqlalchemy.engine import Connection, Engine

from storage.db import DIALECTS, commit_without_fsync, upsert
from storage.models import SendPace

PACE: Table = SendPace.__table__  # type: ignore[attr-defined]
WHOLE_BOT = 0  # the row of the bot's overall budget (no chat has id 0)
_NOW = bindparam("now", type_=Float)
_LATER = case((PACE.c.tat > _NOW, PACE.c.tat), else_=_NOW)


@dataclass(frozen=True)
class Rule:
    """At most one message every `interval` seconds, `burst` of them at once."""

    interval: float
    burst: int = 1

    @property
    def slack(self) -> float:
        return (self.burst - 1) * self.interval


@dataclass(frozen=True)
class Taken:
    """What a take found: 0 and 0 when the message may go now; else the seconds until the whole
    bot (`overall`) or the chat (`chat`) may send again."""

    overall: float = 0.0
    chat: float = 0.0

    @property
    def granted(self) -> bool:
        return self.overall <= 0 and self.chat <= 0


def _statements(dialect: str) -> tuple[Any, Any]:
    fresh = upsert(dialect, PACE).values(chat_id=bindparam("chat"), tat=_NOW + bindparam("interval", type_=Float))
    step = fresh.on_conflict_do_update(
        index_elements=[PACE.c.chat_id], set_={"tat": _LATER + bindparam("interval", type_=Float)}, where=PACE.c.tat <= _NOW + bindparam("slack", type_=Float)
    ).returning(PACE.c.tat)
    later = bindparam("until", type_=Float)
    hold = upsert(dialect, PACE).values(chat_id=bindparam("chat"), tat=later)
    hold = hold.on_conflict_do_update(index_elements=[PACE.c.chat_id], set_={"tat": case((PACE.c.tat > later, PACE.c.tat), else_=later)})
    return step, hold


# Built once per dialect: constructing a statement costs more than running it on SQLite.
_STATEMENTS = {dialect: _statements(dialect) for dialect in DIALECTS}
_TAT = select(PACE.c.tat).where(PACE.c.chat_id == bindparam("chat"))


def _step(connection: Connection, chat_id: int, now: float, rule: Rule) -> float:
    """Takes one message of `chat_id`'s row; 0, or the seconds until it could."""
    step, _ = _STATEMENTS[connection.dialect.name]
    if connection.execute(step, {"chat": chat_id, "now": now, "interval": rule.interval, "slack": rule.slack}).first() is not None:
        return 0.0
    tat: float = connection.execute(_TAT, {"chat": chat_id}).scalar_one()
    return max(tat - rule.slack - now, 1e-3)


def take(engine: Engine, chat_id: int, now: float, overall: Rule, chat: Rule) -> Taken:
    """Takes one message for `chat_id` from the whole bot's budget and the chat's, both or
    neither; says how long to wait when either has none left. `now` is seconds since the epoch
    (the processes' clocks are assumed synchronised, as NTP keeps them)."""
    with engine.connect() as connection, connection.begin() as transaction:
        commit_without_fsync(connection)
        wait = _step(connection, WHOLE_BOT, now, overall)
        if wait:
            return Taken(overall=wait)
        wait = _step(connection, chat_id, now, chat)
        if wait:
            transaction.rollback()
            return Taken(chat=wait)
    return Taken()


def hold(engine: Engine, chat_id: int, until: float) -> None:
    """Nothing more to `chat_id` before `until` (less its burst's slack), whoever sends: Telegram
    answered 429 with a retry_after for it."""
    with engine.begin() as connection:
        _, statement = _STATEMENTS[connection.dialect.name]
        connection.execute(statement, {"chat": chat_id, "until": until})


def prune(engine: Engine, before: float) -> int:
    """Forget rows whose time passed before `before`: their chats may be sent to at once anyway."""
    with engine.begin() as connection:
        return connection.execute(delete(PACE).where(PACE.c.tat < before)).rowcount
