"""Trainers push quizzes: one invitation per rep, within Telegram's limits, never twice."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select
from telegram.ext import ExtBot
from telegram.request import RequestData

from bot.push_sender import PushSender
from dialogs.engine import Engine
from storage.access import add_member, create_team, grant_role
from storage.deliveries import queue_reminders, set_progress_message
from storage.models import Assignment, Delivery, User, utcnow
from storage.users import preset_language
from tests.chat import Chat, shown
from tests.telegram_fake import TOKEN, RecordingRequest

pytestmark = pytest.mark.both_databases

ADMIN = 42


def team_with_reps(engine: Engine, reps: int, team: str = "east") -> tuple[Chat, list[int]]:
    """A trainer (id 2) and `reps` reps (ids 1000…) in one team."""
    with Session(engine.db) as session:
        created = create_team(session, team)
        grant_role(session, 2, "trainer", ADMIN)
        add_member(session, 2, created.id)
        ids = list(range(1000, 1000 + reps))
        for uid in ids:
            session.add(User(id=uid, name=f"rep{uid}", lang="zh" if uid % 2 else "en", chat_id=uid))
            add_member(session, uid, created.id)
        session.commit()
        preset_language(session, 2, "trainer", "en")
    trainer = Chat(engine, 2, lang="en")
    trainer.send("/help")
    return trainer, ids


def test_a_trainer_pushes_a_quiz_to_their_team_by_command(engine: Engine) -> None:
    trainer, reps = team_with_reps(engine, 3)
    replies = trainer.send("/push plum_case east 3d")
    [progress] = [r for r in replies if r.progress_of is not None]
    assert "sent 0 / 3" in shown([progress]) and "due " in shown([progress])
    with Session(engine.db) as session:
        assert sorted(session.exec(select(Delivery.user_id)).all()) == reps
    listing = Chat(engine, reps[1], lang="en").text("/quiz")
    assert "📌 Plum" in listing or "📌 " in listing.split("\n")[1]


def test_the_same_push_with_buttons(engine: Engine) -> None:
    trainer, reps = team_with_reps(engine, 2)
    trainer.send("/push")
    title = next(b.label for b in trainer.buttons if "plum" in b.data)
    trainer.press(title)
    trainer.press("east")
    replies = trainer.press("1 day")
    assert any(r.progress_of for r in replies)
    with Session(engine.db) as session:
        assignment = session.exec(select(Assignment)).one()
        assert assignment.quiz_id == "plum_case" and assignment.deadline is not None


def test_who_may_push_where(engine: Engine) -> None:
    trainer, _ = team_with_reps(engine, 1)
    with Session(engine.db) as session:
        create_team(session, "west")
        session.commit()
    assert "not allowed to use /push" in Chat(engine, 1000, lang="en").text("/push plum_case east")
    assert "only push to your own teams" in trainer.text("/push plum_case west")
    assert "Only admins can push to everyone" in trainer.text("/push plum_case all")
    assert "can't read the deadline" in trainer.text("/push plum_case east tomorrowish")
    assert "no quiz with the id" in trainer.text("/push nope east")
    admin = Chat(engine, ADMIN, lang="en")
    assert "sent 0 / 2" in admin.text("/push plum_case all")


class FlakyTelegram(RecordingRequest):
    """Answers 403 for reps who blocked the bot and 429 the first time for some others."""

    def __init__(self, blocked: set[int], limited: set[int], retry_after: int = 1) -> None:
        super().__init__()
        self.blocked, self.limited, self.retry_after = blocked, limited, retry_after
        self.sends: list[tuple[float, int]] = []
        self.refused_at: dict[int, float] = {}

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        params = dict(request_data.parameters) if request_data else {}
        if url.endswith("/sendMessage"):
            chat = int(params["chat_id"])
            if chat in self.blocked:
                return 403, json.dumps({"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}).encode()
            if chat in self.limited and chat not in self.refused_at:
                self.refused_at[chat] = time.monotonic()
                body = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": self.retry_after}}
                return 429, json.dumps(body).encode()
            self.sends.append((time.monotonic(), chat))
        return await super().do_request(url, method, request_data, *args, **kwargs)


def max_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def drain(sender: PushSender, bot: ExtBot, until: float) -> None:
    while time.monotonic() < until:
        if not await sender.run_once(bot):
            await asyncio.sleep(0.05)


async def test_a_push_to_500_reps_survives_429_403_and_a_killed_sender(engine: Engine) -> None:
    trainer, reps = team_with_reps(engine, 500)
    blocked, limited = set(reps[10:30]), set(reps[100:103])
    trainer.send("/push plum_case east")
    flaky = FlakyTelegram(blocked, limited)
    bot = ExtBot(TOKEN, request=flaky)
    await bot.initialize()
    rate = 200.0

    first = PushSender(engine.db, engine.knowledge, rate=rate, lease=timedelta(seconds=0), batch=20)
    task = asyncio.create_task(drain(first, bot, time.monotonic() + 30))
    give_up = time.monotonic() + 20
    while len(flaky.sends) < 200 and not task.done() and time.monotonic() < give_up:
        await asyncio.sleep(0.01)
    assert not task.done(), task.exception()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    restarted = PushSender(engine.db, engine.knowledge, rate=rate, lease=timedelta(seconds=0), batch=20)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        await restarted.run_once(bot)
        with Session(engine.db) as session:
            open_rows = session.exec(select(Delivery).where(col(Delivery.status).in_(["pending", "sending"]))).all()
        if not open_rows:
            break
        await asyncio.sleep(0.05)

    received = [chat for _, chat in flaky.sends]
    assert len(received) == len(set(received)), "someone got the invitation twice"
    assert set(received) == set(reps) - blocked
    with Session(engine.db) as session:
        statuses = dict(session.exec(select(Delivery.user_id, Delivery.status)).all())
    assert {uid for uid, status in statuses.items() if status == "undeliverable"} == blocked
    assert {uid for uid, status in statuses.items() if status == "sent"} == set(reps) - blocked
    assert max_in_any_second([t for t, _ in flaky.sends]) <= rate + 1
    for chat in limited:
        retried_at = next(t for t, c in flaky.sends if c == chat)
        assert retried_at - flaky.refused_at[chat] >= 1.0, "retry_after was not honoured"
    await bot.shutdown()


async def test_one_chat_gets_at_most_one_message_a_second(engine: Engine) -> None:
    trainer, reps = team_with_reps(engine, 1)
    trainer.send("/push plum_case east")
    trainer.send("/push quiz_b_need_oriented_selling east")
    trainer.send("/push spin_basics east")
    flaky = FlakyTelegram(set(), set())
    bot = ExtBot(TOKEN, request=flaky)
    await bot.initialize()
    sender = PushSender(engine.db, engine.knowledge, rate=100)
    await drain(sender, bot, time.monotonic() + 2.6)
    times = [t for t, chat in flaky.sends if chat == reps[0]]
    assert len(times) == 3
    assert all(b - a >= 0.99 for a, b in zip(times, times[1:]))
    await bot.shutdown()


async def test_the_trainer_sees_progress_and_a_final_summary(engine: Engine) -> None:
    trainer, reps = team_with_reps(engine, 4)
    blocked = {reps[0]}
    trainer.send("/push plum_case east")
    with Session(engine.db) as session:
        assignment = session.exec(select(Assignment)).one()
    set_progress_message(engine.db, assignment.id or 0, 2, 555)
    flaky = FlakyTelegram(blocked, set())
    bot = ExtBot(TOKEN, request=flaky)
    await bot.initialize()
    await PushSender(engine.db, engine.knowledge, rate=100).run_once(bot)
    edits = [c for c in flaky.calls if c.method == "editMessageText"]
    assert edits and edits[-1].params["message_id"] == 555 and "sent 4 / 4" in edits[-1].params["text"]
    summaries = [c.params["text"] for c in flaky.calls if c.method == "sendMessage" and int(c.params["chat_id"]) == 2]
    assert summaries == ["✅ Push complete: 3 delivered, 1 undeliverable (e.g. they blocked the bot), 4 in all. Type /results to follow progress."]
    await bot.shutdown()


def test_reminders_go_to_those_who_have_not_finished(engine: Engine) -> None:
    trainer, reps = team_with_reps(engine, 3)
    trainer.send("/push plum_case east 2d")
    with Session(engine.db) as session:
        for delivery in session.exec(select(Delivery)).all():
            delivery.status = "sent"
            session.add(delivery)
        session.commit()
    finisher = Chat(engine, reps[0], lang="en")
    finisher.send("/quiz plum_case")
    for _ in range(60):
        actions = [b.action for b in finisher.buttons]
        if any(a.startswith("qr:") for a in actions):
            break
        finisher.send("/1")
        submit = [i for i, b in enumerate(finisher.buttons, start=1) if b.action.startswith("qs:")]
        if submit:
            finisher.send(f"/{submit[0]}")
    assert "1 attempt, best" in finisher.text("/me")
    assert queue_reminders(engine.db, timedelta(hours=24)) == 0
    assert queue_reminders(engine.db, timedelta(hours=24), now=utcnow() + timedelta(days=1, hours=1)) == 2
    assert queue_reminders(engine.db, timedelta(hours=24), now=utcnow() + timedelta(days=1, hours=2)) == 0
    with Session(engine.db) as session:
        reminded = session.exec(select(Delivery.user_id).where(Delivery.kind == "reminder")).all()
    assert sorted(reminded) == reps[1:]


async def test_on_telegram_the_push_reply_becomes_the_progress_message(engine: Engine, settings: object) -> None:
    from tests.conftest import make_telegram

    team_with_reps(engine, 2)
    telegram = await make_telegram(settings, engine)  # type: ignore[arg-type]
    sent = await telegram.send(2, "/push plum_case east", lang="en")
    [message] = [c for c in sent if c.method == "sendMessage"]
    assert "sent 0 / 2" in message.params["text"]
    with Session(engine.db) as session:
        assignment = session.exec(select(Assignment)).one()
    assert assignment.progress_chat_id == 2 and assignment.progress_message_id is not None
    await telegram.app.shutdown()
