"""The PostgreSQL server drops the bot's connections (a restart, a failover): reps never notice,
and connections used a moment ago are not tried before every use."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine as DbEngine
from sqlalchemy.pool import NullPool

import storage.db
from dialogs.engine import Engine
from storage.db import make_engine
from tests.needs_helpers import rep

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


def drop_connections(db: DbEngine) -> int:
    """What a restart does to the bot's connections: the server ends every one of them."""
    outsider = create_engine(db.url, poolclass=NullPool)
    with outsider.connect() as connection:
        dropped = connection.execute(
            text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        ).scalar_one()
    outsider.dispose()
    return int(dropped)


def test_a_turn_right_after_the_server_dropped_its_connections_is_answered(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """The rep's connection was used a moment before, so it is handed out untried; its first
    statement fails as lost, and the turn is played again on a new connection."""
    ann = rep(engine, 5)
    ann.send("/roleplay plum")
    assert drop_connections(engine.db) >= 1
    with caplog.at_level(logging.WARNING, logger="dialogs.engine"):
        answer = ann.text("What kind of plums would you like?")
    assert "sour" in answer, "the customer answers as if nothing happened"
    assert any("database connection was lost" in record.getMessage() for record in caplog.records)
    assert "daughter-in-law" in ann.text("Why do you want sour ones?"), "and the scene goes on"


def test_a_connection_idle_for_a_while_is_tried_and_replaced_but_one_just_used_is_not(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage.db, "IDLE_PING_S", 0.05)
    db = make_engine(db_url)
    pings: list[Any] = []
    ping = db.dialect.do_ping
    monkeypatch.setattr(db.dialect, "do_ping", lambda connection: pings.append(connection) or ping(connection))
    try:
        for _ in range(3):
            with db.connect() as connection:
                assert connection.execute(text("SELECT 1")).scalar_one() == 1
        assert pings == [], "used a moment ago: handed out as it is"
        assert drop_connections(db) >= 1
        time.sleep(0.1)
        with db.connect() as connection:
            assert connection.execute(text("SELECT 2")).scalar_one() == 2, "the dead connection was replaced before use"
        assert len(pings) == 1
    finally:
        db.dispose()
