"""Several bot processes on one PostgreSQL database: nothing a rep does is lost or done twice,
and together they keep to Telegram's limits.

The last test starts two real `salescoach webhook` processes behind a load balancer, against the
Bot API emulator enforcing Telegram's limits, and pushes a quiz to 600 reps. The others check the
database's side of several processes at once: each "process" there is an Engine (or a push
sender) with its own connection pool, run in its own thread, so their transactions really
overlap in the database.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

import pytest
from sqlmodel import Session, col, select, update
from telegram.ext import ExtBot

from bot.budget import BURST, CHAT_BURST
from bot.push_sender import PushSender
from bot.settings import Settings
from dialogs.core.events import Event
from dialogs.engine import Engine
from knowledge.loader import Knowledge
from storage.db import make_engine
from storage.models import Assignment, Delivery, RolePlay, RolePlayTurn, User
from tests.chat import Chat, shown
from tests.e2e.balancer import Balancer
from tests.e2e.bot_process import TOKEN as E2E_TOKEN, BotProcess, free_port
from tests.e2e.emulator import Emulator
from tests.e2e.push_run import INVITE, REMINDER, max_in_any_second, received, team_of
from tests.postgres import PostgresServer
from tests.telegram_fake import TOKEN
from tests.test_push import FlakyTelegram, drain, team_with_reps

BIG_ID = 7_000_000_001  # Telegram ids no longer fit in 32 bits
T = TypeVar("T")


def at_once(*jobs: Callable[[], T]) -> list[T]:
    """Run the jobs in threads released together, and return their results in order."""
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], T]) -> T:
        start.wait()
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, jobs))


def two_processes(pg_url: str, knowledge: Knowledge, settings: Settings) -> tuple[Engine, Engine]:
    return Engine(make_engine(pg_url), knowledge, settings.engine_settings()), Engine(make_engine(pg_url), knowledge, settings.engine_settings())


def test_bot_processes_started_together_on_an_empty_database_all_come_up(postgres: PostgresServer) -> None:
    with postgres.fresh_database(empty=True) as url:
        engines = at_once(*[lambda: make_engine(url)] * 3)
        with Session(engines[0]) as session:
            assert session.exec(select(User)).all() == []


def test_a_new_rep_whose_first_messages_reach_two_processes_at_once_is_answered_by_both(pg_url: str, knowledge: Knowledge, settings: Settings) -> None:
    first, second = two_processes(pg_url, knowledge, settings)
    for user_id in range(BIG_ID, BIG_ID + 5):
        hello = Event(user_id, user_id, f"rep{user_id}", "en", command="help")
        answers = at_once(partial(first.handle, hello), partial(second.handle, hello))
        assert all("/quiz" in shown(replies) for replies in answers)
    with Session(first.db) as session:
        assert len(session.exec(select(User)).all()) == 5


def test_two_processes_take_turns_of_one_roleplay_at_once_without_losing_or_repeating_one(pg_url: str, knowledge: Knowledge, settings: Settings) -> None:
    first, second = two_processes(pg_url, knowledge, settings)
    Chat(first, BIG_ID, lang="en").send("/roleplay plum")
    said = {engine: [f"What kind of plums would you like, {name} {n}?" for n in range(8)] for engine, name in ((first, "first"), (second, "second"))}

    def talk(engine: Engine) -> list[str]:
        return [shown(engine.handle(Event(BIG_ID, BIG_ID, "Wang", "en", text=line))) for line in said[engine]]

    for answers in at_once(lambda: talk(first), lambda: talk(second)):
        assert all("Granny Li" in answer for answer in answers), answers
    with Session(first.db) as session:
        roleplay = session.exec(select(RolePlay)).one()
        turns = session.exec(select(RolePlayTurn).order_by(col(RolePlayTurn.number))).all()
    assert roleplay.turns == 16 and roleplay.finished_at is None
    assert [t.number for t in turns] == list(range(1, 17))
    assert sorted(t.rep_text for t in turns) == sorted(said[first] + said[second])


def test_two_push_senders_share_the_queue_and_nobody_gets_an_invitation_twice(pg_url: str, knowledge: Knowledge, settings: Settings) -> None:
    first, second = two_processes(pg_url, knowledge, settings)
    trainer, reps = team_with_reps(first, 120)
    trainer.send("/push plum_case east")
    telegrams = [FlakyTelegram(set(), set()), FlakyTelegram(set(), set())]
    ready = threading.Barrier(2)  # both senders start once both are up: a slow start must not leave one with nothing to do

    def send_all(engine: Engine, telegram: FlakyTelegram) -> None:
        async def run() -> None:
            bot = ExtBot(TOKEN, request=telegram)
            await bot.initialize()
            sender = PushSender(engine.db, knowledge, rate=100.0, batch=10)
            await asyncio.to_thread(ready.wait)
            await drain(sender, bot, time.monotonic() + 4)
            await bot.shutdown()

        asyncio.run(run())

    at_once(lambda: send_all(first, telegrams[0]), lambda: send_all(second, telegrams[1]))
    received = [chat for telegram in telegrams for _, chat in telegram.sends]
    assert sorted(received) == reps, "an invitation was lost or sent twice"
    assert all(telegram.sends for telegram in telegrams), "one sender did all the work: nothing was shared"
    with Session(first.db) as session:
        assert set(session.exec(select(Delivery.status)).all()) == {"sent"}


def test_two_admins_creating_the_same_team_at_once_get_one_team_and_clear_answers(pg_url: str, knowledge: Knowledge, settings: Settings) -> None:
    two_admins = settings.model_copy(update={"admin_ids": frozenset({42, 43})})
    first, second = two_processes(pg_url, knowledge, two_admins)
    for attempt in range(10):
        name = f"east{attempt}"
        create = [
            lambda engine=engine, admin=admin, name=name: engine.handle(Event(admin, admin, "Boss", "en", command="team", args=f"create {name}"))[0].key
            for engine, admin in ((first, 42), (second, 43))
        ]
        assert sorted(at_once(*create)) == ["team_created", "team_exists"]


def test_one_update_given_to_two_processes_at_once_is_handled_by_one(pg_url: str, knowledge: Knowledge, settings: Settings) -> None:
    first, second = two_processes(pg_url, knowledge, settings)
    Chat(first, BIG_ID, lang="en").send("/roleplay plum")
    for update_id in range(1, 9):
        said = Event(BIG_ID, BIG_ID, "Wang", "en", text=f"What do you usually cook with plums, {update_id}?", update_id=update_id)
        answers = at_once(partial(first.handle, said), partial(second.handle, said))
        assert sorted(bool(replies) for replies in answers) == [False, True], answers
    with Session(first.db) as session:
        assert session.exec(select(RolePlay)).one().turns == 8


REPS = 600
CHATTY = 60  # reps who send /help while the push goes out: both processes reply meanwhile
JITTER = 2


def remind_soon(url: str) -> None:
    """The push's deadline 24 s after it was made: reminders are due half way, 12 s in (/push
    itself takes hours and days)."""
    engine = make_engine(url)
    with Session(engine) as session:
        assignment = session.exec(select(Assignment)).one()
        session.execute(update(Assignment).values(deadline=assignment.created_at + timedelta(seconds=24)))
        session.commit()
    engine.dispose()


@pytest.mark.timeout(240)
def test_two_webhook_processes_push_to_600_reps_within_telegrams_limits_once_each(pg_url: str, tmp_path: Path) -> None:
    emulator = Emulator(E2E_TOKEN).start()
    balancer_port = free_port()
    bots = [
        BotProcess("webhook", emulator, tmp_path / name, database=pg_url, public_url=f"http://127.0.0.1:{balancer_port}/telegram/hook")
        for name in ("first", "second")
    ]
    balancer = Balancer(emulator, balancer_port, [bot.webhook_port for bot in bots]).start()
    try:
        for bot in bots:
            bot.workdir.mkdir()
        team = team_of(emulator, pg_url, REPS)
        at_once(*(bot.start for bot in bots))
        team.push()
        remind_soon(pg_url)
        for rep in team.reps[:CHATTY]:
            rep.send("/help")
        done = emulator.wait_until(
            lambda: len(received(emulator, team.reps, REMINDER)) == REPS and len(received(emulator, team.reps[:CHATTY], "/quiz")) == CHATTY, timeout=120
        )
        assert done, "not every rep got an invitation, a reminder and their answer in time"
        codes = [bot.stop() for bot in bots]
        invitations = emulator.on_loop(received, emulator, team.reps, INVITE)
        reminders = emulator.on_loop(received, emulator, team.reps, REMINDER)
    finally:
        for bot in bots:
            bot.stop()
        balancer.stop()
        emulator.stop()
    assert codes == [0, 0], [bot.log()[-3000:] for bot in bots]
    assert all(balancer.posts.get(bot.webhook_port) for bot in bots), f"one process got every update: {balancer.posts}"

    assert set(invitations.values()) == {1} and len(invitations) == REPS, "a rep got no invitation or two"
    assert set(reminders.values()) == {1} and len(reminders) == REPS, "a rep got no reminder or two"
    engine = make_engine(pg_url)
    with Session(engine) as session:
        assert len(session.exec(select(Delivery).where(Delivery.kind == "reminder")).all()) == REPS, "reminders were queued more than once"
    engine.dispose()

    assert not [e for e in emulator.errors if e[1] == 429], "Telegram answered 429: the processes went over its limits together"
    # The budget is a bucket of 30 a second with bursts of BURST (Telegram's, as the emulator
    # models it, allows 30): in w seconds at most BURST + 30 w, give or take JITTER messages
    # granted just before a window that reached Telegram inside it.
    times = [t for t, _ in emulator.accepted]
    for seconds in (1, 5, 20):
        assert max_in_any_second(times, seconds) <= BURST + 30 * seconds + JITTER, f"more than 30 messages a second together, over {seconds} s"
    by_chat: dict[int, list[float]] = {}
    for moment, chat in emulator.accepted:
        by_chat.setdefault(chat, []).append(moment)
    assert all(max_in_any_second(moments, 5) <= CHAT_BURST + 5 for moments in by_chat.values()), "more than one message a second to a chat"
    quiet = [by_chat[rep.id] for rep in team.reps[CHATTY:]]
    assert all(b - a >= 0.9 for moments in quiet for a, b in itertools.pairwise(moments)), "a rep got two pushes within a second"
