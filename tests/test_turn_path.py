"""The hot path of a role-play turn: what it writes, and how often."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from dialogs.engine import Engine
from storage.models import User, utcnow
from tests.chat import Chat


@contextmanager
def recorded(engine: Engine) -> Iterator[tuple[list[str], list[int]]]:
    """The SQL statements sent and the flushes made while the block runs."""
    statements: list[str] = []
    flushes: list[int] = []

    def statement(conn, cursor, sql, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(" ".join(sql.split()[:3]))

    def flushed(session, context):  # type: ignore[no-untyped-def]
        flushes.append(1)

    event.listen(engine.db, "before_cursor_execute", statement)
    event.listen(OrmSession, "after_flush", flushed)
    try:
        yield statements, flushes
    finally:
        event.remove(engine.db, "before_cursor_execute", statement)
        event.remove(OrmSession, "after_flush", flushed)


def test_last_seen_is_written_only_when_a_minute_old(engine: Engine) -> None:
    ann = Chat(engine, 11, lang="en")
    ann.send("/help")
    with recorded(engine) as (statements, _):
        ann.send("/help")
    assert not [s for s in statements if s.startswith("UPDATE user")]
    old = utcnow() - timedelta(minutes=2)
    with Session(engine.db) as session:
        user = session.get(User, 11)
        assert user is not None
        user.last_seen = old
        session.add(user)
        session.commit()
    ann.send("/help")
    with Session(engine.db) as session:
        user = session.get(User, 11)
        assert user is not None and user.last_seen > old + timedelta(minutes=1)


def test_a_roleplay_turn_is_six_statements_and_one_flush(engine: Engine) -> None:
    ann = Chat(engine, 11, lang="en")
    ann.send("/roleplay plum")
    with recorded(engine) as (statements, flushes):
        assert ann.keys("What do you usually buy?") == ["roleplay_customer"]
    assert statements == [
        "SELECT user.id, user.name,", "SELECT dialogstate.user_id, dialogstate.dialog,", "SELECT roleplay.id, roleplay.user_id,",
        "UPDATE roleplay SET", "INSERT INTO roleplayturn", "UPDATE dialogstate SET",
    ]
    assert flushes == [1]
