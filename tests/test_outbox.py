"""The reply outbox: a rep's replies are kept with what their message changed, and reach them
despite crashes, 5xx, lost connections, timeouts and 429s, in order, one chat's trouble
never holding up another chat."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiolimiter import AsyncLimiter
from sqlmodel import Session, col, select, update
from telegram.error import NetworkError, TimedOut
from telegram.ext import ExtBot
from telegram.request import RequestData

import bot.outbox
from bot.budget import SendBudget
from bot.claims import new_owner, release_dead
from bot.outbox import Outbox
from bot.settings import Settings
from bot.telegram_app import OverallLimit
from dialogs.core.events import Button, Picture, Reply
from dialogs.engine import Engine
from dialogs.pictures import charts, drawings
from storage import claims, outbox
from storage.loop_connection import LoopConnection
from storage.models import DialogState, OutboxMessage, QuizAttempt, utcnow
from storage.outbox import Outgoing
from storage.prepared import Prepared
from storage.quiz_polls import PollTarget
from tests.pictures import assert_picture
from tests.telegram_fake import TOKEN, Call, FakeTelegram, RecordingRequest, photos, telegram_with, texts
from tests.test_results import setup as setup_results
from tests.writers import another_thread_writing

pytestmark = pytest.mark.both_databases


class TroubledTelegram(RecordingRequest):
    """Telegram whose sendMessage to some chats goes wrong as scripted, one trouble per call:
    "500" (refused with a 5xx), "down" (no connection), "timeout" (delivered, but the answer
    never comes), "429" (too many requests, retry after `retry_after` seconds). Each call's
    time is noted."""

    def __init__(self, troubles: dict[int, list[str]] | None = None, retry_after: int = 3) -> None:
        super().__init__()
        self.troubles = troubles or {}
        self.retry_after = retry_after
        self.times: list[tuple[float, str, int]] = []
        self.refused_at: list[float] = []

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        chat = int(params.get("chat_id", 0) or 0)
        trouble = self.troubles[chat].pop(0) if name == "sendMessage" and self.troubles.get(chat) else ""
        if trouble == "500":
            return 500, json.dumps({"ok": False, "error_code": 500, "description": "Internal Server Error"}).encode()
        if trouble == "down":
            raise NetworkError("httpx.ConnectError: connection refused") from httpx.ConnectError("connection refused")
        if trouble == "429":
            self.refused_at.append(time.monotonic())
            body = {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {self.retry_after}",
                "parameters": {"retry_after": self.retry_after},
            }
            return 429, json.dumps(body).encode()
        answer = await super().do_request(url, method, request_data, *args, **kwargs)
        self.times.append((time.monotonic(), name, chat))
        if trouble == "timeout":
            raise TimedOut("delivered, but the answer never came")
        return answer


def outbox_of(telegram: FakeTelegram) -> Outbox:
    return telegram.app.bot_data["outbox"]


def statuses(engine: Engine, chat_id: int) -> list[str]:
    with Session(engine.db) as session:
        return list(session.exec(select(OutboxMessage.status).where(OutboxMessage.chat_id == chat_id).order_by(col(OutboxMessage.id))).all())


def sent_to(request: RecordingRequest, chat_id: int) -> list[str]:
    return [c.params["text"] for c in request.calls if c.method == "sendMessage" and int(c.params["chat_id"]) == chat_id]


async def work_until_done(telegram: FakeTelegram, engine: Engine, chat_id: int, seconds: float = 10) -> None:
    """Runs the outbox's job (as its timer would) until nothing is open for the chat."""
    give_up = time.monotonic() + seconds
    while any(s in ("pending", "sending") for s in statuses(engine, chat_id)) and time.monotonic() < give_up:
        await outbox_of(telegram).work(telegram.app.bot)
        await asyncio.sleep(0.05)


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries after milliseconds, not seconds (the waits are what other tests check)."""
    monkeypatch.setattr(bot.outbox, "FIRST_RETRY", timedelta(milliseconds=10))
    monkeypatch.setattr(bot.outbox, "UNSURE_RETRY", timedelta(milliseconds=10))


async def sent_after_a_restart(
    telegram: FakeTelegram, settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch, chat_id: int, text: str
) -> list[Call]:
    """The chat sends `text`, its replies are committed, the process dies before sending them
    and the next process sends them; returns what was sent before the process died."""

    async def died(*_: Any) -> None:
        """The process is killed between the commit and the send."""

    monkeypatch.setattr(Outbox, "flush", died)
    before = await telegram.send(chat_id, text, lang="en")
    monkeypatch.undo()
    await telegram.app.shutdown()
    restarted = await telegram_with(telegram.request, settings, engine)
    release_dead(engine.db, restarted.app.bot_data["owner"])
    await work_until_done(restarted, engine, chat_id)
    await restarted.app.shutdown()
    return before


async def test_a_reply_committed_before_the_process_died_goes_out_after_the_restart(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    telegram = await telegram_with(RecordingRequest(), settings, engine)
    await telegram.send(7, "/start", lang="en")
    await telegram.press(7, "English", lang="en")
    assert texts(await sent_after_a_restart(telegram, settings, engine, monkeypatch, 7, "/help")) == []
    assert len([text for text in sent_to(telegram.request, 7) if "/lang" in text]) == 1
    assert statuses(engine, 7)[-1] == "sent"


async def test_a_5xx_and_a_lost_connection_are_retried_and_the_replies_arrive_in_order(settings: Settings, engine: Engine) -> None:
    request = TroubledTelegram({7: ["500", "down"]})
    telegram = await telegram_with(request, settings, engine)
    await telegram.send(7, "/help", lang="en")
    await telegram.send(7, "/whoami", lang="en")
    assert sent_to(request, 7) == [], "the second reply waits behind the first"
    await work_until_done(telegram, engine, 7)
    help_text, whoami = sent_to(request, 7)
    assert "/lang" in help_text and "/lang" not in whoami
    assert statuses(engine, 7) == ["sent", "sent"]
    await telegram.app.shutdown()


async def test_a_reply_failing_every_time_is_given_up_after_max_tries(settings: Settings, engine: Engine) -> None:
    request = TroubledTelegram({7: ["500"] * 20})
    telegram = await telegram_with(request, settings, engine)
    await telegram.send(7, "/help", lang="en")
    await work_until_done(telegram, engine, 7, seconds=20)
    with Session(engine.db) as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == 7)).one()
    assert (row.status, row.tries) == ("failed", bot.outbox.MAX_TRIES) and "Internal Server Error" in row.error
    assert len(request.troubles[7]) == 20 - bot.outbox.MAX_TRIES
    await telegram.app.shutdown()


async def test_a_reply_that_timed_out_is_sent_once_more_and_never_a_third_time(settings: Settings, engine: Engine) -> None:
    request = TroubledTelegram({7: ["timeout", "timeout", "timeout"]})
    telegram = await telegram_with(request, settings, engine)
    await telegram.send(7, "/help", lang="en")
    await work_until_done(telegram, engine, 7)
    assert len(sent_to(request, 7)) == 2, "Telegram delivered it both times: the rep sees it twice, not three times"
    with Session(engine.db) as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == 7)).one()
    assert row.status == "failed" and row.unsure == 2 and "may have been delivered" in row.error
    await telegram.app.shutdown()


async def test_a_429_in_one_chat_delays_that_chat_and_not_another(settings: Settings, engine: Engine) -> None:
    request = TroubledTelegram({7: ["429"]}, retry_after=3)
    telegram = await telegram_with(request, settings, engine)
    first = asyncio.create_task(telegram.send(7, "/help", lang="en"))
    while not request.refused_at:
        await asyncio.sleep(0.01)
    refused_at = request.refused_at[0]
    await telegram.send(8, "/help", lang="en")
    [(other_at, _, _)] = [t for t in request.times if t[1] == "sendMessage" and t[2] == 8]
    assert other_at - refused_at < 1, "the other rep waited for the first one's 429"
    await first
    assert sent_to(request, 7) == [] and statuses(engine, 7) == ["pending"]
    await work_until_done(telegram, engine, 7)
    [(first_at, _, _)] = [t for t in request.times if t[1] == "sendMessage" and t[2] == 7]
    assert first_at - refused_at >= 3, "Telegram's retry_after was honoured for that chat"
    await telegram.app.shutdown()


async def test_the_rep_state_moves_on_once_however_the_send_went(settings: Settings, engine: Engine) -> None:
    request = TroubledTelegram({7: ["timeout", "500"]})
    telegram = await telegram_with(request, settings, engine)
    await telegram.send(7, "/start", lang="en")
    await work_until_done(telegram, engine, 7)
    with Session(engine.db) as session:
        version = session.get(DialogState, 7).version
    await telegram.press(7, "English", lang="en")
    with Session(engine.db) as session:
        assert session.get(DialogState, 7).version == version + 1
    await telegram.app.shutdown()


async def test_two_senders_never_send_one_chats_replies_twice(settings: Settings, engine: Engine) -> None:
    request = TroubledTelegram({7: ["500"]})
    telegram = await telegram_with(request, settings, engine)
    for line in ("/help", "/whoami", "/help"):
        await telegram.send(7, line, lang="en")
    other = Outbox(engine.db, new_owner())
    for _ in range(40):
        await asyncio.gather(outbox_of(telegram).work(telegram.app.bot), other.work(telegram.app.bot))
        await asyncio.sleep(0.02)
    assert len(sent_to(request, 7)) == 3
    assert statuses(engine, 7) == ["sent"] * 3
    await telegram.app.shutdown()


def test_of_a_dead_senders_calls_only_the_one_it_was_making_may_have_been_delivered(engine: Engine) -> None:
    with Session(engine.db) as session:
        outbox.queue(session, 1, [Outgoing(7, "message", {"text": f"part {n}", "markup": []}) for n in range(3)], "host:1:dead")
        session.commit()
    assert claims.release(engine.db, ["host:1:dead"]) == 3
    with Session(engine.db) as session:
        rows = session.exec(select(OutboxMessage.status, OutboxMessage.unsure).order_by(col(OutboxMessage.id))).all()
    assert rows == [("pending", 1), ("pending", 0), ("pending", 0)]


async def test_every_call_the_shared_budget_does_not_pace_goes_through_the_overall_limit() -> None:
    limit = OverallLimit(per_second=10)
    started = time.monotonic()

    async def call() -> bool:
        return True

    await asyncio.gather(*(limit.process_request(call, (), {}, "sendMessage", {}, None) for _ in range(20)))
    assert time.monotonic() - started >= 0.9, "20 calls at 10 a second take about a second"


NEW_MESSAGES = {
    "message": ("sendMessage", {"text": "您好", "markup": []}, None),
    "photo": ("sendPhoto", {"text": "📊 图表", "markup": [], "filename": "chart.png", "drawing": "quiz_scores", "args": {}}, b"\x89PNG"),
    "poll": ("sendPoll", {"question": "[1/1] 开放式问题是?", "options": ["为什么", "是不是"], "correct": 0, "explanation": ""}, None),
}


def asked(kind: str, chat: int) -> dict[str, Any]:
    """What a quiz poll to `chat` asks (nothing for other kinds)."""
    return {"target": PollTarget(chat, 1, "spin_basics", "q1", ("a", "b")).to_json()} if kind == "poll" else {}


@pytest.mark.parametrize("kind", NEW_MESSAGES)
async def test_replies_paced_by_the_shared_budget_leave_the_processs_own_cap_to_the_rest(engine: Engine, kind: str) -> None:
    """With a cap of 10 calls an hour, twenty reps' replies still go: each new message (text, a
    chart, a quiz poll) took its place in the budget all processes share, so the process's cap
    does not count it a second time."""
    method, payload, content = NEW_MESSAGES[kind]
    with Session(engine.db) as session:
        session.add(QuizAttempt(id=1, user_id=100, quiz_id="spin_basics"))  # what the polls ask belongs to an attempt
        session.commit()
        outbox.queue(session, 1, [Outgoing(chat, kind, payload | asked(kind, chat), content) for chat in range(100, 120)], "")
        session.execute(update(OutboxMessage).values(status="pending", claimed_by="", claimed_at=None))  # due for the sender's job
        session.commit()
    cap = OverallLimit()
    cap.limiter = AsyncLimiter(10, time_period=3600)
    request = RecordingRequest()
    bot = ExtBot(TOKEN, request=request, rate_limiter=cap)
    await bot.initialize()
    sender = Outbox(engine.db, new_owner(), budget=SendBudget(engine.db))
    await asyncio.wait_for(sender.work(bot), timeout=30)
    assert sorted(int(c.params["chat_id"]) for c in request.calls if c.method == method) == list(range(100, 120))
    await bot.shutdown()


def test_finished_calls_are_forgotten_after_two_days_and_open_ones_never(engine: Engine) -> None:
    with Session(engine.db) as session:
        outbox.queue(
            session, 1, [Outgoing(7, "message", {"text": "sent long ago", "markup": []}), Outgoing(8, "message", {"text": "still owed", "markup": []})], ""
        )
        session.commit()
        session.execute(update(OutboxMessage).where(col(OutboxMessage.chat_id) == 7).values(status="sent"))
        session.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(days=3)))
        session.commit()
    assert outbox.prune(engine.db, bot.outbox.KEEP_SENT) == 1
    with Session(engine.db) as session:
        assert session.exec(select(OutboxMessage.chat_id)).all() == [8]


async def test_a_chart_committed_before_the_process_died_arrives_as_a_photo_after_the_restart(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_results(engine)
    telegram = await telegram_with(RecordingRequest(), settings, engine)
    assert photos(await sent_after_a_restart(telegram, settings, engine, monkeypatch, 2, "/results plum_case")) == []
    [(caption, picture)] = photos(telegram.request.calls)
    assert caption.startswith("📊 Chart: the scores of the 2 reps who finished") and "20–29: 2" in caption
    assert_picture(picture, charts.SIZE)
    assert statuses(engine, 2)[-2:] == ["sent", "sent"]


async def test_a_chart_is_drawn_after_the_updates_transaction_and_its_words_go_out_first(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trainer's /results: the results text is sent before the chart is drawn, and nothing
    was drawn while the update's transaction (SQLite's writer lock) was open."""
    setup_results(engine)
    telegram = await telegram_with(RecordingRequest(), settings, engine)
    drawn_after: list[list[str]] = []
    quiz_scores = drawings.DRAWINGS["quiz_scores"]

    def noting(**args: Any) -> bytes:
        with Session(engine.db) as session:
            drawn_after.append(list(session.exec(select(OutboxMessage.kind).order_by(col(OutboxMessage.id))).all()))
        drawn_after.append([c.method for c in telegram.request.calls])
        return quiz_scores(**args)

    monkeypatch.setitem(drawings.DRAWINGS, "quiz_scores", noting)
    await telegram.send(2, "/results plum_case", lang="en")
    kinds, sent_before = drawn_after
    assert kinds[-2:] == ["message", "photo"], "both replies were committed before the drawing began"
    assert sent_before[-1] == "sendMessage" and "sendPhoto" not in sent_before, "the words went out first"
    [(caption, picture)] = photos(telegram.request.calls)
    assert caption.startswith("📊 Chart: the scores of the 2 reps who finished")
    assert_picture(picture, charts.SIZE)


async def test_a_picture_that_cannot_be_drawn_is_sent_as_its_words(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**_: Any) -> bytes:
        raise ValueError("a drawing bug")

    setup_results(engine)
    monkeypatch.setitem(drawings.DRAWINGS, "quiz_scores", broken)
    telegram = await telegram_with(RecordingRequest(), settings, engine)
    await telegram.send(2, "/results plum_case", lang="en")
    assert photos(telegram.request.calls) == []
    assert sent_to(telegram.request, 2)[-1].startswith("📊 Chart: the scores of the 2 reps who finished"), "the chart in words"
    assert statuses(engine, 2)[-2:] == ["sent", "sent"]


def test_a_picture_is_a_photo_captioned_with_its_text_and_what_does_not_fit_follows() -> None:
    rows = [(f"kind {n} " + "x" * 80, list(range(1, 40))) for n in range(8)]
    picture = Picture("turns.png", "turn_mix", {"kinds": ["situation", None], "lang": "en"})
    reply = Reply("roleplay_turn_mix", "en", {"rows": rows}, [[Button("Again", "rpa", data="1|3|rpa")]], picture=picture)
    photo, *rest = bot.outbox.outgoing([reply], 7)
    assert (photo.kind, photo.content, photo.payload["filename"], photo.payload["markup"]) == ("photo", None, "turns.png", [])
    assert (photo.payload["drawing"], photo.payload["args"]) == ("turn_mix", picture.args), "drawn as it is sent, after the update's transaction"
    assert photo.payload["text"].startswith("📊 Chart: the SPIN type of each of your messages") and len(photo.payload["text"]) <= 1024
    assert rest and [call.kind for call in rest] == ["message"] * len(rest)
    assert rest[-1].payload["markup"] == [[{"text": "Again", "callback_data": "1|3|rpa"}]]
    assert "".join(call.payload["text"] for call in [photo, *rest]).count("kind ") == 8


def test_on_postgresql_a_reply_is_recorded_as_sent_without_waiting_for_the_disk(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lost in a crash of the database's machine, the record costs at most the reply sent once more
    (storage/db.py, without_fsync); the update's own transaction still waits for the disk. The
    record is one statement in a transaction of its own (the driver's autocommit: one round trip),
    so the setting, local to that transaction, holds for that statement's commit and no other."""
    if engine.db.dialect.name != "postgresql":
        pytest.skip("SQLite's commits never wait for the disk in WAL mode with synchronous=NORMAL")
    with Session(engine.db) as session:
        (call,) = outbox.queue(session, 1, [Outgoing(7, "message", {"text": "您好", "markup": []})], "host:1:me")[7]
        session.commit()
    ran: list[tuple[str, bool, list[tuple[Any, ...]]]] = []
    execute = Prepared._execute

    def spy(compiled: Any, driver_connection: Any, dialect: Any, params: Any) -> Any:
        done = execute(compiled, driver_connection, dialect, params)
        ran.append((compiled.sql, driver_connection.autocommit, done.rows))
        return done

    monkeypatch.setattr(Prepared, "_execute", staticmethod(spy))
    assert outbox.mark_sent(engine.db, call, "host:1:me", message_id=101)
    ((sql, autocommit, rows),) = ran
    assert sql.startswith("UPDATE outboxmessage") and "set_config" in sql and autocommit and rows == [("off",)]
    with engine.db.connect() as connection:
        assert connection.exec_driver_sql("SELECT source FROM pg_settings WHERE name = 'synchronous_commit'").scalar() != "session"
    with Session(engine.db) as session:
        assert session.exec(select(OutboxMessage.status, OutboxMessage.message_id)).one() == ("sent", 101)


def three_replies_to_send(engine: Engine) -> list[outbox.Call]:
    """Three replies to chat 7 committed, claimed by sender host:1:me to send now."""
    with Session(engine.db) as session:
        calls = outbox.queue(session, 1, [Outgoing(7, "message", {"text": f"第 {n} 句", "markup": []}) for n in range(3)], "host:1:me")[7]
        session.commit()
    return calls


def test_on_sqlite_a_sent_reply_is_recorded_at_once_and_never_waits_for_a_writer(engine: Engine) -> None:
    """The event loop records a reply as sent itself only when nothing else is writing; otherwise
    it records nothing and leaves the record to a thread (bot/outbox.py), so it never waits."""
    if not outbox.SentMarks.usable(engine.db):
        pytest.skip("PostgreSQL's replies are recorded by storage/outbox.mark_sent_on_loop")
    marks = outbox.SentMarks(engine.db)
    calls = three_replies_to_send(engine)
    with another_thread_writing(engine.db):
        assert marks.mark_sent(calls[0], "host:1:me", message_id=101) is None
    other_process = sqlite3.connect(engine.db.url.database or "", isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")
    assert marks.mark_sent(calls[0], "host:1:me", message_id=101) is None
    other_process.execute("ROLLBACK")
    other_process.close()
    assert statuses(engine, 7) == ["sending"] * 3
    assert marks.mark_sent(calls[0], "host:1:me", message_id=101) is True
    assert marks.mark_sent(calls[1], "host:2:someone-else", message_id=102) is False, "not this sender's call"
    assert statuses(engine, 7) == ["sent", "sending", "sending"]
    assert outbox.mark_sent(engine.db, calls[1], "host:1:me", message_id=102), "the thread's way still works alongside"
    with Session(engine.db) as session:
        assert session.exec(select(OutboxMessage.message_id).order_by(col(OutboxMessage.id))).all() == [101, 102, None]


async def test_on_postgresql_the_event_loop_records_a_sent_reply_and_a_thread_does_if_its_connection_failed(engine: Engine) -> None:
    """The loop awaits the record on a connection of its own instead of handing it to a thread.
    When that connection has died, the record answers None (nothing recorded) so that the caller
    records it in a thread, and the next record opens a new connection."""
    if not LoopConnection.usable(engine.db):
        pytest.skip("SQLite's replies are recorded by storage/outbox.SentMarks")
    loop_db = LoopConnection(engine.db)
    calls = three_replies_to_send(engine)
    assert await outbox.mark_sent_on_loop(loop_db, calls[0], "host:1:me", message_id=101) is True
    assert await outbox.mark_sent_on_loop(loop_db, calls[1], "host:2:someone-else", message_id=102) is False, "not this sender's call"
    with engine.db.connect() as connection:
        connection.exec_driver_sql(f"SELECT pg_terminate_backend({loop_db.held[0].info.backend_pid})")
    assert await outbox.mark_sent_on_loop(loop_db, calls[1], "host:1:me", message_id=102) is None
    assert statuses(engine, 7) == ["sent", "sending", "sending"]
    assert await outbox.mark_sent_on_loop(loop_db, calls[1], "host:1:me", message_id=102) is True
    await loop_db.close()
    assert loop_db.held == []
    with Session(engine.db) as session:
        assert session.exec(select(OutboxMessage.message_id).order_by(col(OutboxMessage.id))).all() == [101, 102, None]


@pytest.mark.parametrize("committed", [False, True], ids=["nothing recorded", "recorded, its answer lost"])
async def test_a_reply_the_event_loop_could_not_record_is_recorded_in_a_thread(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, committed: bool
) -> None:
    """When the event loop's connection fails, a thread records the reply. If the loop's record
    had been committed after all (the connection was cut before the answer came), the reply is
    not taken for one sent after this sender's claim ran out."""
    telegram = await telegram_with(RecordingRequest(), settings, engine)
    box = outbox_of(telegram)
    if box.loop_db is None:
        pytest.skip("on SQLite a record the loop cannot make is storage/outbox.SentMarks' test's")
    run = box.loop_db.run

    async def failed(*args: Any) -> None:
        if committed:
            await run(*args)
        return None

    monkeypatch.setattr(box.loop_db, "run", failed)
    await telegram.send(7, "/help", lang="en")
    assert statuses(engine, 7) == ["sent"]
    assert "claim had run out" not in caplog.text
    await telegram.app.shutdown()
    await box.close()
