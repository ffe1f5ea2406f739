"""The inbox: an update is stored before Telegram is told it arrived, nothing a rep sends is
lost when handling stops half-way, and one rep's messages are handled in order even when two
bot processes receive them."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
import tornado.httpserver
import tornado.netutil
from sqlmodel import Session, select, update
from telegram import Update
from telegram.ext import Application
from telegram.request import RequestData

import storage.inbox
from bot.claims import release_dead
from bot.inbox import InboxWorker, poll, worker_for, written
from bot.settings import Settings
from bot.telegram_app import build_application
from bot.webhook import MAX_BODY, SECRET_HEADER, WebhookApp
from dialogs.engine import Engine
from knowledge.loader import Knowledge
from storage.db import make_engine
from storage.inbox import Incoming
from storage.loop_connection import LoopConnection
from storage.models import InboxUpdate, NeedDraft, ProcessedUpdate, utcnow
from storage.updates import claim_update
from storage.users import preset_language
from tests.postgres import postgres_server
from tests.telegram_fake import RecordingRequest, texts
from tests.writers import another_thread_writing

pytestmark = pytest.mark.both_databases
REP = 5


def said(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    """An update in Telegram's JSON: the rep typed `text`."""
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Ann", "language_code": "en"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


class BotProcess:
    """One bot process: its own connection pool, its Application (on offline Telegram) and its inbox worker."""

    def __init__(self, url: str, knowledge: Knowledge, settings: Settings, request: RecordingRequest) -> None:
        self.engine = Engine(make_engine(url), knowledge, settings.engine_settings())
        self.app = build_application(settings, self.engine, request=request)
        self.worker = worker_for(self.app)

    async def __aenter__(self) -> BotProcess:
        await self.app.initialize()
        self.working = asyncio.create_task(self.worker.run())
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.worker.stop()
        await self.working
        await self.app.shutdown()
        await self.app.bot_data["outbox"].close()
        self.engine.db.dispose()

    async def die(self) -> None:
        """kill -9: everything stops where it is; nothing is given back."""
        for task in [self.working, *self.worker.working.values()]:
            task.cancel()
        await asyncio.gather(self.working, *self.worker.working.values(), return_exceptions=True)
        await self.app.shutdown()
        self.engine.db.dispose()

    def hang(self, update_id: int) -> None:
        """Handling `update_id` never ends in this process."""
        process_update = self.app.process_update

        async def hanging(update: Update) -> None:
            if update.update_id == update_id:
                await asyncio.sleep(3600)
            await process_update(update)

        self.app.process_update = hanging  # type: ignore[method-assign]

    async def receive(self, payload: dict[str, Any]) -> None:
        """Telegram hands this process an update (a webhook post, or a getUpdates batch)."""
        await self.worker.receive([Update.de_json(payload, self.app.bot)])

    def slow_down(self, update_id: int, seconds: float) -> None:
        """Handling `update_id` takes this process `seconds` longer (a busy machine, a long GC)."""
        handle = self.engine.handle

        def slow(event: Any, outbox: Any = None) -> Any:
            if event.update_id == update_id:
                time.sleep(seconds)
            return handle(event, outbox)

        self.engine.handle = slow  # type: ignore[method-assign]


async def until(check: Callable[[], Any], seconds: float = 10) -> Any:
    give_up = time.monotonic() + seconds
    while not (result := check()) and time.monotonic() < give_up:
        await asyncio.sleep(0.02)
    return result


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_inbox_write_is_made_on_the_event_loop_unless_another_thread_is_writing(db_url: str) -> None:
    """Storing, claiming and finishing updates are short writes: no thread hop for them while
    this process's SQLite writer lock is free; a thread, which waits its turn, while it is not."""
    db = make_engine(db_url)
    loop_thread = threading.get_ident()

    def on_the_loop() -> bool:
        return threading.get_ident() == loop_thread

    assert await written(db, on_the_loop)
    with another_thread_writing(db) as done:
        asyncio.get_running_loop().call_later(0.05, done.set)
        assert not await written(db, on_the_loop), "in a thread, once the other writer is done"
    db.dispose()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_on_postgresql_an_inbox_write_is_made_in_a_thread(db_url: str) -> None:
    db = make_engine(db_url)
    loop_thread = threading.get_ident()
    assert not await written(db, lambda: threading.get_ident() == loop_thread), "its statements wait on the network"
    db.dispose()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_on_postgresql_storing_and_finishing_an_update_are_one_statement_each_on_the_event_loop(db_url: str) -> None:
    """As `receive` and `finish_and_next` do in a thread: a person's first update is claimed as it
    is stored and their next waits; an update stored or handled before is left out; finishing
    an update claims the person's next. A cut connection answers None, and the next write opens
    a new one."""
    db = make_engine(db_url)
    loop_db = LoopConnection(db)
    lease = timedelta(minutes=2)
    rows = [(2, 7, {"text": "二"}), (1, 7, {"text": "一"}), (3, 8, {"text": "三"})]
    first, other = Incoming(1, 7, {"text": "一"}, 1), Incoming(3, 8, {"text": "三"}, 1)
    assert await storage.inbox.receive_on_loop(loop_db, rows, "me") == [first, other]
    assert await storage.inbox.receive_on_loop(loop_db, [*rows, (4, 9, {})], "") == [], "stored before, or stored unclaimed"
    with Session(db) as session:
        session.add(ProcessedUpdate(update_id=5, created_at=utcnow()))
        session.commit()
    assert await storage.inbox.receive_on_loop(loop_db, [(5, 10, {}), (6, 9, {})], "me") == [], "5 was handled; 4 waits before 6"
    assert await storage.inbox.next_on_loop(loop_db, first, "me", lease) == [Incoming(2, 7, {"text": "二"}, 1)]
    assert await storage.inbox.next_on_loop(loop_db, Incoming(2, 7, {"text": "二"}, 1), "me", lease) == []
    assert await storage.inbox.next_on_loop(loop_db, other, "someone else", lease) == [], "not that process's update"
    with Session(db) as session:
        assert session.exec(select(InboxUpdate.update_id, InboxUpdate.claimed_by).order_by(InboxUpdate.update_id)).all() == [(3, "me"), (4, ""), (6, "")]
    with db.connect() as connection:
        connection.exec_driver_sql(f"SELECT pg_terminate_backend({loop_db.held[0].info.backend_pid})")
    assert await storage.inbox.receive_on_loop(loop_db, [(7, 11, {})], "me") is None
    assert await storage.inbox.receive_on_loop(loop_db, [(7, 11, {})], "me") == [Incoming(7, 11, {}, 1)]
    await loop_db.close()
    db.dispose()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("where", ["event loop", "thread"])
async def test_on_postgresql_a_sweep_claims_the_first_waiting_update_of_each_person_nobody_handles(db_url: str, where: str) -> None:
    """One statement on the event loop claims what `claim_heads` claims in a thread: people's first
    updates, oldest first, up to the limit, none of a person this process works already, and
    one whose claim's lease ran out; and it says whether free ones were left."""
    db = make_engine(db_url)
    loop_db = LoopConnection(db)
    lease = timedelta(minutes=2)

    async def sweep(owner: str, limit: int, skip: set[int]) -> tuple[list[Incoming], bool]:
        if where == "thread":
            return storage.inbox.claim_heads(db, owner, lease, limit, skip)
        found = await storage.inbox.heads_on_loop(loop_db, owner, lease, limit, skip)
        assert found is not None
        return found

    storage.inbox.receive(db, [(1, 7, {}), (2, 7, {}), (3, 8, {}), (4, 9, {}), (5, 10, {})])
    assert await sweep("me", 2, {8}) == ([Incoming(1, 7, {}, 1), Incoming(4, 9, {}, 1)], True)
    assert await sweep("me", 5, set()) == ([Incoming(3, 8, {}, 1), Incoming(5, 10, {}, 1)], False)
    assert await sweep("me", 5, set()) == ([], False), "7's second update waits behind the first"
    with Session(db) as session:
        session.exec(update(InboxUpdate).where(InboxUpdate.update_id == 3).values(claimed_at=utcnow() - 2 * lease))
        session.commit()
    assert await sweep("another process", 5, set()) == ([Incoming(3, 8, {}, 2)], False)
    await loop_db.close()
    db.dispose()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_on_postgresql_the_worker_stores_and_finishes_updates_on_the_event_loop(
    db_url: str, knowledge: Knowledge, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rep's two messages are stored, handled in order and finished with no inbox write in a thread."""

    def in_a_thread(*_: Any) -> Any:
        raise AssertionError("an inbox write went to a thread")

    for write in ("receive", "claim_heads", "finish_and_next"):
        monkeypatch.setattr(storage.inbox, write, in_a_thread)
    request = RecordingRequest()
    async with BotProcess(db_url, knowledge, settings, request) as process:
        await process.worker.receive([Update.de_json(said(50, REP, "/help"), process.app.bot), Update.de_json(said(51, REP, "/whoami"), process.app.bot)])
        await until(inbox_is_empty(db_url))
    replies = texts(request.calls)
    assert len(replies) == 2 and "/lang" in replies[0] and str(REP) in replies[1]


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_on_postgresql_handling_an_update_from_the_inbox_commits_without_waiting_for_the_disk(db_url: str) -> None:
    """The inbox holds the update durably until the commit of its handling takes it out, so that
    commit need not wait for the disk: if the database loses it, the update is handled again. An
    update handled without the inbox commits durably."""
    db = make_engine(db_url)
    storage.inbox.receive(db, [(60, REP, said(60, REP, "/help"))])
    for update_id, synchronous_commit in ((60, "off"), (61, "on")):
        with Session(db) as session:
            session.connection().exec_driver_sql("SET LOCAL synchronous_commit = on")  # as on a production server
            assert claim_update(session, update_id)
            assert session.connection().exec_driver_sql("SHOW synchronous_commit").scalar() == synchronous_commit
            session.commit()
    assert storage.inbox.waiting(db) == 0
    db.dispose()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_a_crash_of_postgresql_may_lose_a_handled_updates_commit_but_never_the_update(knowledge: Knowledge, settings: Settings) -> None:
    """The rep's message is stored durably; the commit of its handling does not wait for the disk
    and is lost when the database and the bot die together. After the restart the message is in
    the inbox again and is answered again: the rep sees the answer twice, and nothing is lost."""
    request = RecordingRequest()
    with postgres_server(durable=True) as server, server.fresh_database() as url:
        server.configure("wal_writer_delay", "10s")  # the handling's commit stays in the server's memory
        server.configure("autovacuum", "off")  # and no other commit writes it out before the crash
        crashed = await BotProcess(url, knowledge, settings, request).__aenter__()
        await crashed.receive(said(70, REP, "/help"))
        await until(lambda: texts(request.calls))
        await crashed.die()
        server.crash_and_restart()
        db = make_engine(url)
        with Session(db) as session:
            assert session.get(ProcessedUpdate, 70) is None, "the handling's commit was lost"
        assert storage.inbox.waiting(db) == 1, "the message itself was not"
        async with BotProcess(url, knowledge, settings, request) as restarted:
            release_dead(restarted.engine.db, restarted.app.bot_data["owner"])
            restarted.worker.wake()
            await until(inbox_is_empty(url))
        with Session(db) as session:
            assert session.get(ProcessedUpdate, 70) is not None
        db.dispose()
    answers = [t for t in texts(request.calls) if "/lang" in t]
    assert len(answers) == 2, "answered before the crash, and again after it"


def inbox_is_empty(url: str) -> Callable[[], bool]:
    db = make_engine(url)
    return lambda: storage.inbox.waiting(db) == 0


async def test_a_reps_two_answers_posted_to_two_processes_are_handled_in_order(db_url: str, knowledge: Knowledge, settings: Settings) -> None:
    request = RecordingRequest()
    async with BotProcess(db_url, knowledge, settings, request) as first, BotProcess(db_url, knowledge, settings, request) as second:
        with Session(first.engine.db) as session:
            preset_language(session, REP, "Ann", "en")
        await first.receive(said(10, REP, "/need"))
        await until(inbox_is_empty(db_url))
        first.slow_down(12, 0.5)
        await first.receive(said(12, REP, "Acme Fruit Ltd"))
        await second.receive(said(13, REP, "Director Li, office"))
        await until(inbox_is_empty(db_url))
        with Session(first.engine.db) as session:
            draft = session.get(NeedDraft, REP)
    assert draft is not None
    assert (draft.values["customer_company"], draft.values["contact_name"]) == ("Acme Fruit Ltd", "Director Li, office")


async def test_a_starting_worker_forgets_updates_handled_more_than_a_week_ago(db_url: str, knowledge: Knowledge, settings: Settings) -> None:
    request = RecordingRequest()
    with Session(make_engine(db_url)) as session:
        session.add(ProcessedUpdate(update_id=1, created_at=utcnow() - timedelta(days=8)))
        session.add(ProcessedUpdate(update_id=2, created_at=utcnow() - timedelta(days=6)))
        session.commit()
    async with BotProcess(db_url, knowledge, settings, request) as bot:
        await bot.receive(said(3, REP, "/help"))
        await until(inbox_is_empty(db_url))

        def remembered() -> set[int]:
            with Session(bot.engine.db) as session:
                return set(session.exec(select(ProcessedUpdate.update_id)).all())

        assert await until(lambda: remembered() == {2, 3}), f"remembered {remembered()}: the week-old update should be forgotten, the others kept"


async def test_an_update_whose_handling_was_cut_short_is_handled_by_the_next_process(db_url: str, knowledge: Knowledge, settings: Settings) -> None:
    request = RecordingRequest()
    dying = await BotProcess(db_url, knowledge, settings, request).__aenter__()
    dying.hang(20)
    await dying.receive(said(20, REP, "/help"))
    await until(lambda: dying.worker.working)
    await dying.die()
    assert texts(request.calls) == []
    async with BotProcess(db_url, knowledge, settings, request) as restarted:
        release_dead(restarted.engine.db, restarted.app.bot_data["owner"])
        restarted.worker.wake()
        assert await until(lambda: texts(request.calls)), "the update was lost"
        await until(inbox_is_empty(db_url))
    assert len([t for t in texts(request.calls) if "/lang" in t]) == 1


async def test_an_update_that_killed_its_process_three_times_is_dropped_not_tried_again(
    db_url: str, knowledge: Knowledge, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    request = RecordingRequest()
    async with BotProcess(db_url, knowledge, settings, request) as process:
        storage.inbox.receive(process.engine.db, [(50, REP, said(50, REP, "/help"))])
        with Session(process.engine.db) as session:
            session.execute(update(InboxUpdate).values(tries=storage.inbox.MAX_TRIES))
            session.commit()
        process.worker.wake()
        await until(inbox_is_empty(db_url))
    assert texts(request.calls) == [] and "update 50 was claimed 3 times without being handled; dropped" in caplog.text


class PollingTelegram(RecordingRequest):
    """getUpdates hands out `pending` updates until an offset past them confirms them, as
    Telegram does; each offset the bot asked with is noted."""

    def __init__(self, pending: list[dict[str, Any]]) -> None:
        super().__init__()
        self.pending = pending
        self.offsets: list[int | None] = []

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if not url.endswith("/getUpdates"):
            return await super().do_request(url, method, request_data, *args, **kwargs)
        params = dict(request_data.parameters) if request_data else {}
        offset = params.get("offset")
        self.offsets.append(offset)
        if offset is not None:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        await asyncio.sleep(0.01)
        return 200, json.dumps({"ok": True, "result": self.pending}).encode()


async def loop_connection_away(*_: Any) -> None:
    """storage.inbox.receive_on_loop when the event loop's connection has failed (PostgreSQL): the
    worker stores the updates in a thread instead, where these tests make the database fail."""
    return None


async def test_polling_confirms_an_update_to_telegram_only_once_it_is_stored(
    db_url: str, knowledge: Knowledge, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = PollingTelegram([said(30, REP, "/help"), said(31, REP, "/whoami")])
    async with BotProcess(db_url, knowledge, settings, request) as process:
        real, failures = storage.inbox.receive, [RuntimeError("the database is away")]

        def receive(*args: Any) -> Any:
            if failures:
                raise failures.pop()
            return real(*args)

        monkeypatch.setattr(storage.inbox, "receive_on_loop", loop_connection_away)
        monkeypatch.setattr(storage.inbox, "receive", receive)
        stop = asyncio.Event()
        polling = asyncio.create_task(poll(process.app, process.worker, [], stop))
        await until(lambda: 32 in request.offsets)
        stop.set()
        await polling
        await until(inbox_is_empty(db_url))
    assert request.offsets[:3] == [None, None, 32], "the offset moved on only after the batch was stored"
    assert len([t for t in texts(request.calls) if "/lang" in t]) == 1


async def post(app: Application, worker: InboxWorker, body: bytes) -> int:
    """Posts `body` to our webhook server with the right secret; the HTTP status."""
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(WebhookApp(app, worker, "/hook", "s3cret"), max_body_size=MAX_BODY)
    server.add_sockets(sockets)
    try:
        async with httpx.AsyncClient() as client:
            answer = await client.post(f"http://127.0.0.1:{sockets[0].getsockname()[1]}/hook", content=body, headers={SECRET_HEADER: "s3cret"})
            return answer.status_code
    finally:
        server.stop()


async def test_the_webhook_answers_200_only_once_the_update_is_stored(
    db_url: str, knowledge: Knowledge, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = RecordingRequest()
    engine = Engine(make_engine(db_url), knowledge, settings.engine_settings())
    app = build_application(settings, engine, request=request)
    await app.initialize()
    worker = worker_for(app)
    body = json.dumps(said(40, REP, "/help")).encode()

    def away(*_: Any) -> Any:
        raise RuntimeError("the database is away")

    with monkeypatch.context() as patch:
        patch.setattr(storage.inbox, "receive_on_loop", loop_connection_away)
        patch.setattr(storage.inbox, "receive", away)
        assert await post(app, worker, body) == 500, "Telegram must send it again"
    assert texts(request.calls) == []
    assert await post(app, worker, body) == 200
    assert await until(lambda: texts(request.calls)), "stored, then handled"
    await worker.stop()
    with Session(engine.db) as session:
        assert session.get(ProcessedUpdate, 40) is not None and session.exec(select(InboxUpdate)).all() == []
    await app.shutdown()
    await app.bot_data["outbox"].close()
    engine.db.dispose()
