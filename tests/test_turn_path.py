"""The hot path of a role-play turn: what it writes, and how often."""

from __future__ import annotations

import asyncio
import gc
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from dialogs.core.events import Event, Reply
from dialogs.engine import Engine, Outbox
from storage.dialog_state import Snapshot, StaleState, save_state
from storage.models import DialogState, RolePlay, RolePlayTurn, User, utcnow
from storage.roleplay_tallies import unmatched_lines
from storage.roleplays import PROGRESS, Scene, record_turn
from storage.users import meet
from tests.chat import Chat, shown
from tests.telegram_fake import FakeTelegram, texts
from tests.writers import another_thread_writing

# Tests that trace SQLite's own statements or its writer lock: SQLite whatever
# SALESCOACH_TEST_DATABASES asks for (PostgreSQL's turn path has tests of its own below).
ON_SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@contextmanager
def recorded(engine: Engine, *also: sqlite3.Connection) -> Iterator[tuple[list[str], list[int]]]:
    """The SQL statements SQLite ran (verb and table, and each COMMIT) and the ORM flushes made
    while the block runs. Traced by the driver's connections (the pool's, and `also`), so
    statements run past SQLAlchemy (storage/prepared.py) count too."""
    statements: list[str] = []
    flushes: list[int] = []

    def statement(sql: str) -> None:
        verb = sql.split()[0].upper()
        if verb == "COMMIT":
            statements.append(verb)
        elif verb in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            table = re.search(r"\bFROM (\w+)" if verb == "SELECT" else r"^(?:UPDATE|INSERT INTO|DELETE FROM) (\w+)", sql)
            statements.append(f"{verb} {table.group(1) if table else '?'}")

    def trace(dbapi_connection, _record, _proxy):  # type: ignore[no-untyped-def]
        dbapi_connection.set_trace_callback(statement)

    def untrace(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.set_trace_callback(None)

    def flushed(session, context):  # type: ignore[no-untyped-def]
        flushes.append(1)

    event.listen(engine.db, "checkout", trace)
    event.listen(engine.db, "checkin", untrace)
    event.listen(OrmSession, "after_flush", flushed)
    for connection in also:
        connection.set_trace_callback(statement)
    try:
        yield statements, flushes
    finally:
        for connection in also:
            connection.set_trace_callback(None)
        event.remove(engine.db, "checkout", trace)
        event.remove(engine.db, "checkin", untrace)
        event.remove(OrmSession, "after_flush", flushed)


@ON_SQLITE
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


@ON_SQLITE
def test_a_roleplay_turn_is_four_statements_and_no_orm_flush(engine: Engine) -> None:
    """The user and their dialog state are read in one statement (a join), so SELECT user names
    both; where the customer stands is kept in the state too, so the role-play's row is not read."""
    ann = Chat(engine, 11, lang="en")
    ann.send("/roleplay plum")
    with recorded(engine) as (statements, flushes):
        assert ann.keys("What do you usually buy?") == ["roleplay_customer"]
    assert statements == ["SELECT user", "UPDATE roleplay", "INSERT roleplayturn", "UPDATE dialogstate", "COMMIT"]
    assert flushes == []


def test_the_progress_a_turn_keeps_in_the_state_is_the_role_play_s_and_a_scene_saved_without_it_goes_on(engine: Engine) -> None:
    ann = Chat(engine, 11, lang="en")
    ann.send("/roleplay plum")
    for line in ("How is business these days?", "What do you usually buy?", "Who are the plums for?"):
        ann.send(line)
    with Session(engine.db) as session:
        roleplay = session.exec(select(RolePlay)).one()
        state = session.get(DialogState, 11)
        assert state is not None and state.data["progress"] == {name: getattr(roleplay, name) for name in PROGRESS}
        assert roleplay.turns == 3
        state.data = {key: value for key, value in state.data.items() if key != "progress"}  # as scenes were saved before session 10
        session.add(state)
        session.commit()
    assert ann.keys("How many people at home?") == ["roleplay_customer"]
    with Session(engine.db) as session:
        roleplay = session.exec(select(RolePlay)).one()
        state = session.get(DialogState, 11)
        assert roleplay.turns == 4 and state is not None and state.data["progress"]["turns"] == 4


@ON_SQLITE
async def test_a_roleplay_turn_from_telegram_commits_once_before_its_reply_is_sent(telegram: FakeTelegram) -> None:
    """The update's record, the turn and the reply's outbox row go in one transaction of seven
    statements; the reply's place in the send budget every process shares (the bot's and the
    chat's) is the second, and recording the reply as sent the third (from the event loop, on the
    outbox's own connection: storage/outbox.SentMarks)."""
    await telegram.send(11, "/roleplay plum", lang="en")
    engine: Engine = telegram.app.bot_data["engine"]
    with recorded(engine, telegram.app.bot_data["outbox"].marks.connection) as (statements, flushes):
        assert texts(await telegram.send(11, "What do you usually buy?", lang="en"))
    assert statements == [
        "INSERT processedupdate",
        "DELETE inboxupdate",
        "SELECT user",
        "UPDATE roleplay",
        "INSERT roleplayturn",
        "UPDATE dialogstate",
        "INSERT outboxmessage",
        "COMMIT",
        "INSERT sendpace",
        "INSERT sendpace",
        "COMMIT",
        "UPDATE outboxmessage",
        "COMMIT",
    ]
    assert flushes == []


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)  # on PostgreSQL the turn is inserted inside the UPDATE
def test_a_turn_number_another_event_took_first_makes_the_event_play_again(engine: Engine) -> None:
    ann = Chat(engine, 11, lang="en")
    ann.send("/roleplay plum")
    ann.send("What do you usually buy?")
    with Session(engine.db) as session:
        roleplay = session.exec(select(RolePlay)).one()
        scene, progress = Scene(roleplay.id or 0, roleplay.user_id, roleplay.scenario_id), {name: getattr(roleplay, name) for name in PROGRESS}
        with pytest.raises(StaleState):
            record_turn(
                session, scene, progress, number=1, rep_text="Who are the plums for?", suggested=False, verdict={}, move=None, customer_text="", at=utcnow()
            )


def test_what_the_warm_up_loaded_is_set_aside_from_the_garbage_collector(engine: Engine) -> None:
    """A full collection no longer walks the models, rules and dictionaries every turn relies on
    (it stopped the bot for 80-150 ms each time)."""
    frozen = gc.get_freeze_count()
    try:
        engine.warm()
        assert gc.get_freeze_count() > frozen + 100_000
    finally:
        gc.unfreeze()


@ON_SQLITE
async def test_a_line_typed_in_a_scene_is_answered_on_the_event_loop_once_everything_is_loaded(telegram: FakeTelegram) -> None:
    """No thread hop for a role-play turn once the warm-up is done and nothing else is writing:
    the turn holds SQLite's writer lock on the loop. A command, a line before the warm-up has
    finished, and a line while another thread writes go to a worker thread as before; every one
    is answered alike."""
    engine: Engine = telegram.app.bot_data["engine"]
    loop_thread = threading.get_ident()
    where: list[bool] = []
    handle = engine.handle

    def spy(event: Event, outbox: Outbox | None = None) -> list[Reply]:
        where.append(threading.get_ident() == loop_thread)
        return handle(event, outbox)

    engine.handle = spy  # type: ignore[method-assign]
    assert "Granny Li" in "".join(texts(await telegram.send(11, "/roleplay plum", lang="en")))
    assert texts(await telegram.send(11, "What do you usually buy?", lang="en")), "still loading: a thread"
    engine.warmed.set()
    assert texts(await telegram.send(11, "Who are the plums for?", lang="en")), "on the loop"
    with another_thread_writing(engine.db) as done:
        asyncio.get_running_loop().call_later(0.05, done.set)
        assert texts(await telegram.send(11, "How many people at home?", lang="en")), "another writer: a thread, after it"
    assert where == [False, False, True, False]


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_on_postgresql_every_turn_goes_to_a_thread(engine: Engine) -> None:
    """Its statements wait on the network, which the event loop must never do."""
    ann = Chat(engine, 11, lang="en")
    ann.send("/roleplay plum")
    engine.warmed.set()
    assert engine.handle_here(Event(11, 11, "Ann", "en", text="Who are the plums for?")) is None


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_on_postgresql_a_line_the_customer_missed_is_counted_in_the_turns_own_statement(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """For /results' lines not understood, at no round trip of its own; an understood line is not counted."""
    ann = Chat(engine, 11, lang="en")
    ann.send("/roleplay plum")
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def noting(cursor: psycopg.Cursor[object], query: object, *args: object, **kwargs: object) -> object:
        sent.append(str(query))
        return execute(cursor, query, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(psycopg.Cursor, "execute", noting)
    ann.send("Nice weather today.")
    ann.send("What kind would you like?")
    monkeypatch.undo()
    counting = [statement for statement in sent if "unmatchedtally" in statement]
    assert len(counting) == 2 and all("INSERT INTO roleplayturn" in statement for statement in counting), "one statement a turn"
    with Session(engine.db) as session:
        assert [(line.text, line.count) for line in unmatched_lines(session, "plum", None)] == [("nice weather today.", 1)]


@ON_SQLITE
def test_only_a_line_typed_in_a_quick_state_is_handled_where_it_arrives(engine: Engine) -> None:
    engine.warmed.set()
    ann = Chat(engine, 11, lang="en")
    line = Event(11, 11, "Ann", "en", text="Who are the plums for?")
    assert engine.handle_here(line) is None, "not in a scene yet"
    ann.send("/roleplay plum")
    assert engine.handle_here(Event(11, 11, "Ann", "en", command="help")) is None, "a command"
    assert engine.handle_here(Event(11, 11, "Ann", "en", button="x")) is None, "a button"
    replies = engine.handle_here(line)
    assert replies is not None and "Granny Li" in shown(replies)
    ann.send("/cancel")
    assert engine.handle_here(line) is None, "the scene was left"


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_the_second_of_two_events_at_once_reads_the_state_the_first_left(engine: Engine) -> None:
    """One statement reads a user with their state and locks both; the second event waits for the
    first and then reads the state as the first saved it, not as it was before its wait."""
    ann = Chat(engine, 11, lang="en")
    ann.send("/roleplay plum")
    first = Session(engine.db)
    _, snap = meet(first, 11, "Ann", 11)
    snap.data = {**snap.data, "seen_by": "the first event"}
    saved = save_state(first, snap)
    read: list[Snapshot] = []

    def second() -> None:
        with Session(engine.db) as session:
            read.append(meet(session, 11, "Ann", 11)[1])

    waiting = threading.Thread(target=second)
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive(), "the second event waits for the first's locks"
    first.commit()
    first.close()
    waiting.join(10)
    assert read[0].version == saved and read[0].data["seen_by"] == "the first event"


def test_a_turn_an_older_process_played_is_noticed_and_the_row_read(engine: Engine) -> None:
    """A rolling deploy: a process still running the code from before the copy plays a turn. It
    moves the row and the state's `turn` on, not the copy; the next turn here must play on from
    the row (from the stale copy it would take a turn number already used, and retry in vain)."""
    ann = Chat(engine, 11, lang="en")
    ann.send("/roleplay plum")
    ann.send("How is business these days?")
    with Session(engine.db) as session:  # the older process's turn
        roleplay = session.exec(select(RolePlay)).one()
        state = session.get(DialogState, 11)
        assert state is not None and roleplay.id is not None
        roleplay.turns += 1
        session.add(roleplay)
        session.add(
            RolePlayTurn(roleplay_id=roleplay.id, number=roleplay.turns, rep_text="What do you usually buy?", verdict={}, customer_text="…", at=utcnow())
        )
        state.data = {**state.data, "turn": roleplay.turns}
        session.add(state)
        session.commit()
    assert ann.keys("Who are the plums for?") == ["roleplay_customer"]
    with Session(engine.db) as session:
        numbers = session.exec(select(RolePlayTurn.number).order_by(RolePlayTurn.number)).all()  # type: ignore[arg-type]
        assert list(numbers) == [1, 2, 3]


SCENE_TO_ITS_END = """
import sys
from dialogs.core.events import Event
from dialogs.engine import Engine
from knowledge.validate import cached_knowledge
from storage.db import make_engine

engine = Engine(make_engine("sqlite:///{db}"), cached_knowledge())
engine.warm()
said = lambda **what: [reply.key for reply in engine.handle(Event(user_id=11, chat_id=11, lang_hint="en", **what))]
said(command="roleplay", args="plum")
said(text="How is business these days?")
said(text="Who are the plums for?")
ended = said(command="end")
assert any(reply == "roleplay_turn_mix" for reply in ended), ended
print("matplotlib" in sys.modules)
"""


def test_a_scene_s_chart_does_not_load_matplotlib_on_the_engine_s_path(tmp_path: Path) -> None:
    """The reply only says what to draw; the fonts and matplotlib load where it is drawn, when it
    is sent (in a thread). Loading them took 100-200 ms, which the first scene's end after a start
    spent holding the writer lock (and, handled on it, the event loop). A process of its own: in
    this one another test may have loaded matplotlib already."""
    script = SCENE_TO_ITS_END.format(db=tmp_path / "bot.db")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
