"""The hot path of a role-play turn: what it writes, and how often."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from dialogs.engine import Engine
from storage.dialog_state import StaleState
from storage.models import RolePlay, RolePlayTurn, User, utcnow
from storage.roleplays import record_turn
from tests.chat import Chat


@contextmanager
def recorded(engine: Engine) -> Iterator[tuple[list[str], list[int]]]:
    """The SQL statements sent (verb and table) and the flushes made while the block runs."""
    statements: list[str] = []
    flushes: list[int] = []

    def statement(conn, cursor, sql, parameters, context, executemany):  # type: ignore[no-untyped-def]
        verb = sql.split()[0]
        table = re.search(r"\bFROM (\w+)" if verb == "SELECT" else r"^(?:UPDATE|INSERT INTO|DELETE FROM) (\w+)", sql)
        statements.append(f"{verb} {table.group(1) if table else '?'}")

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
    assert "UPDATE user" not in statements
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
    assert statements == ["SELECT user", "SELECT dialogstate", "SELECT roleplay", "UPDATE roleplay", "INSERT roleplayturn", "UPDATE dialogstate"]
    assert flushes == [1]


def test_a_turn_number_another_event_took_first_makes_the_event_play_again(engine: Engine) -> None:
    ann = Chat(engine, 11, lang="en")
    ann.send("/roleplay plum")
    ann.send("What do you usually buy?")
    with Session(engine.db) as session:
        roleplay = session.exec(select(RolePlay)).one()
        with pytest.raises(StaleState):
            record_turn(session, roleplay, RolePlayTurn(roleplay_id=roleplay.id or 0, number=1, rep_text="Who are the plums for?"))
