"""Prepared statements (storage/prepared.py) read and write what SQLAlchemy would, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Engine as DbEngine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.db import WRITER
from storage.models import RolePlay, RolePlayTurn, User
from storage.prepared import Prepared

pytestmark = pytest.mark.both_databases
USER = User.__table__  # type: ignore[attr-defined]
TURN = RolePlayTurn.__table__  # type: ignore[attr-defined]
AT = datetime(2026, 11, 30, 9, 15, 30, 123456, tzinfo=UTC)
BEIJING = timezone(timedelta(hours=8))  # a timestamp given in another zone is stored as the same instant
ANN = {"id": 11, "name": "安 Ann", "lang": "zh", "lang_hint": "en", "chat_id": 11, "created_at": AT, "last_seen": AT, "on_leaderboard": True, "nickname": "Ann"}


def test_a_prepared_row_reads_back_as_sqlalchemy_reads_it(db: DbEngine) -> None:
    with Session(db) as session:
        Prepared(insert(USER)).run(session.connection(), ANN)
        session.commit()
    with Session(db) as session:
        ran = Prepared(USER.select().where(USER.c.id == bindparam("id"))).run(session.connection(), {"id": 11})
        assert ran.first_mapping() == ANN == dict(session.connection().execute(USER.select()).one()._mapping)
        assert session.get(User, 11) == User(**ANN)


def test_json_a_later_timezone_and_returning_round_trip(db: DbEngine) -> None:
    with Session(db) as session:
        roleplay = RolePlay(user_id=11, scenario_id="plum", state="opening", lang="zh", started_at=AT)
        session.add(User(**ANN))
        session.add(roleplay)
        session.flush()
        verdict = {"form": "open", "spin": "situation", "cues": ["什么"], "moves": ["ask_kind"]}
        eastern = AT.astimezone(BEIJING)
        added = Prepared(insert(TURN).returning(TURN.c.id, TURN.c.verdict, TURN.c.at)).run(
            session.connection(),
            {
                "roleplay_id": roleplay.id,
                "number": 1,
                "rep_text": "您买什么？",
                "suggested": True,
                "verdict": verdict,
                "move": None,
                "customer_text": "",
                "at": eastern,
            },
        )
        turn_id, stored, at = added.rows[0]
        assert stored == verdict and at == AT and at.tzinfo is not None
        assert session.connection().execute(select(TURN.c.verdict, TURN.c.suggested).where(TURN.c.id == turn_id)).one() == (verdict, True)


def test_a_broken_constraint_is_sqlalchemy_s_integrity_error_and_changes_nothing(db: DbEngine) -> None:
    add = Prepared(insert(USER))
    with Session(db) as session:
        add.run(session.connection(), ANN)
        session.commit()
    with Session(db) as session, pytest.raises(IntegrityError):
        add.run(session.connection(), {**ANN, "name": "Someone else"})
    with Session(db) as session:
        assert session.get(User, 11) == User(**ANN)


def test_rowcount_says_how_many_rows_changed(db: DbEngine) -> None:
    rename = Prepared(update(USER).where(USER.c.id == bindparam("user_id")))
    with Session(db) as session:
        Prepared(insert(USER)).run(session.connection(), ANN)
        assert rename.run(session.connection(), {"user_id": 11, "name": "Ann Lee"}).rowcount == 1
        assert rename.run(session.connection(), {"user_id": 12, "name": "Nobody"}).rowcount == 0
        session.commit()
    with Session(db) as session:
        user = session.get(User, 11)
        assert user is not None and user.name == "Ann Lee"


def test_a_statement_missing_a_column_with_a_default_is_refused(db: DbEngine) -> None:
    """Defaults SQLAlchemy computes in Python are not computed here: the caller must give every column."""
    with Session(db) as session, pytest.raises(ValueError, match="missing"):
        Prepared(insert(USER)).run(session.connection(), {"id": 11})


def test_a_statement_run_without_a_parameter_it_names_is_refused(db: DbEngine) -> None:
    with Session(db) as session, pytest.raises(ValueError, match="missing: user_id"):
        Prepared(update(USER).where(USER.c.id == bindparam("user_id"))).run(session.connection(), {"name": "Ann"})


def test_a_prepared_write_takes_the_sqlite_writer_s_place(db: DbEngine) -> None:
    with Session(db) as session:
        connection = session.connection()
        Prepared(insert(USER)).run(connection, ANN)
        assert connection.info.get(WRITER) == ("held" if db.dialect.name == "sqlite" else None)
