"""Trainers push quizzes: one invitation per rep, within Telegram's limits, never twice."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from aiolimiter import AsyncLimiter
from sqlmodel import Session, col, select
from telegram.error import TimedOut
from telegram.ext import ExtBot
from telegram.request import RequestData

from bot.push_sender import PushSender
from bot.telegram_app import OverallLimit
from dialogs.core.events import Button
from dialogs.engine import Engine
from dialogs.quiz.push import Push
from storage import claims
from storage.access import add_member, create_team, grant_role
from storage.deliveries import MAX_TRIES, claim, queue_reminders, set_progress_message
from storage.models import Assignment, Delivery, DialogState, Team, User, utcnow
from storage.users import preset_language
from tests.chat import Chat, shown
from tests.e2e.push_run import max_in_any_second
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


def test_a_deadline_typed_at_the_deadline_step_is_the_pushs_deadline(engine: Engine) -> None:
    """The trainer picks the quiz and team with buttons, then types the deadline: one that cannot
    be read is asked for again (nothing is pushed), a readable one sends the push with it."""
    trainer, reps = team_with_reps(engine, 2)
    trainer.send("/push")
    trainer.press(next(b.label for b in trainer.buttons if "plum" in b.data))
    trainer.press("east")
    again = trainer.text("someday")
    assert 'can\'t read the deadline "someday"' in again and "Step 3: deadline? Pick one, or type it" in again
    with Session(engine.db) as session:
        assert session.exec(select(Assignment)).all() == []
    assert any(r.progress_of for r in trainer.send("2099-12-01"))
    with Session(engine.db) as session:
        assignment = session.exec(select(Assignment)).one()
        assert assignment.quiz_id == "plum_case" and assignment.deadline is not None and assignment.deadline.year == 2099
        assert sorted(session.exec(select(Delivery.user_id)).all()) == reps


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


def test_a_rep_who_never_chose_a_language_is_invited_in_their_telegram_clients(engine: Engine) -> None:
    trainer, _ = team_with_reps(engine, 0)
    with Session(engine.db) as session:
        team = session.exec(select(Team)).one()
        for uid, client in ((1100, "en-US"), (1101, "zh-hans")):  # they wrote to the bot but pressed neither 中文 nor English
            session.add(User(id=uid, name=f"rep{uid}", lang_hint=client, chat_id=uid))
            add_member(session, uid, team.id or 0)
        session.commit()
    trainer.send("/push plum_case east")
    assert {item.user_id: item.lang for item in claim(engine.db, 10, timedelta(seconds=60))} == {1100: "en", 1101: "zh"}


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


async def drain(sender: PushSender, bot: ExtBot, until: float, done: Callable[[], bool] = lambda: False) -> None:
    """Run the sender until `until`, or until `done` says what the test waits for has happened."""
    while time.monotonic() < until and not done():
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

    first = PushSender(engine.db, engine.knowledge, owner="first", rate=rate, lease=timedelta(seconds=1), batch=20)
    task = asyncio.create_task(drain(first, bot, time.monotonic() + 30))
    give_up = time.monotonic() + 20
    while len(flaky.sends) < 200 and not task.done() and time.monotonic() < give_up:
        await asyncio.sleep(0.01)
    assert not task.done(), task.exception()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    restarted = PushSender(engine.db, engine.knowledge, owner="restarted", rate=rate, lease=timedelta(seconds=1), batch=20)
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


class SlowTelegram(RecordingRequest):
    """Takes its time to accept a message: long enough to stop the sender in the middle."""

    def __init__(self) -> None:
        super().__init__()
        self.accepting = asyncio.Event()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if url.endswith("/sendMessage"):
            self.accepting.set()
            await asyncio.sleep(0.2)
        return await super().do_request(url, method, request_data, *args, **kwargs)


async def test_a_sender_stopped_while_telegram_accepts_a_message_still_records_it_sent(engine: Engine) -> None:
    """The push job is cancelled (the bot stops) while Telegram is taking an invitation: the
    invitation is recorded as sent, so the sender after it does not send it twice."""
    trainer, reps = team_with_reps(engine, 1)
    trainer.send("/push plum_case east")
    slow = SlowTelegram()
    bot = ExtBot(TOKEN, request=slow)
    await bot.initialize()
    sender = PushSender(engine.db, engine.knowledge, owner="stopping", lease=timedelta(seconds=30))
    task = asyncio.create_task(sender.run_once(bot))
    await slow.accepting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with Session(engine.db) as session:
            status = session.exec(select(Delivery.status).where(Delivery.user_id == reps[0])).one()
        if status != "sending":
            break
        await asyncio.sleep(0.05)
    assert status == "sent"
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
    await drain(sender, bot, time.monotonic() + 15, done=lambda: len(flaky.sends) >= 3)
    await drain(sender, bot, time.monotonic() + 0.5)  # nothing more comes
    times = [t for t, chat in flaky.sends if chat == reps[0]]
    assert len(times) == 3
    assert all(b - a >= 0.99 for a, b in pairwise(times))
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


async def test_invitations_paced_by_the_shared_budget_leave_the_processs_own_cap_to_the_rest(engine: Engine) -> None:
    """The process's cap on calls (OverallLimit) counts what the shared budget does not pace:
    with a cap of 10 calls an hour, all 20 invitations still go, and so does the trainer's progress
    edit. Counted twice before, a push at Telegram's 30 a second left the cap no room, and each
    progress edit took an invitation's turn."""
    trainer, reps = team_with_reps(engine, 20)
    trainer.send("/push plum_case east")
    with Session(engine.db) as session:
        assignment = session.exec(select(Assignment)).one()
    set_progress_message(engine.db, assignment.id or 0, 2, 555)
    telegram = FlakyTelegram(set(), set())
    cap = OverallLimit()
    cap.limiter = AsyncLimiter(10, time_period=3600)
    bot = ExtBot(TOKEN, request=telegram, rate_limiter=cap)
    await bot.initialize()
    await asyncio.wait_for(PushSender(engine.db, engine.knowledge, rate=100).work(bot), timeout=30)
    assert sorted(chat for _, chat in telegram.sends) == [2, *reps]  # the trainer's is the summary
    edits = [c.params["text"] for c in telegram.calls if c.method == "editMessageText"]
    assert edits and "sent 20 / 20" in edits[-1]
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


def test_push_typed_again_half_way_starts_over_at_the_quiz_and_its_buttons_work(engine: Engine) -> None:
    trainer, reps = team_with_reps(engine, 2)
    trainer.send("/push")
    title = next(b.label for b in trainer.buttons if "plum" in b.data)
    trainer.press(title)
    assert [r.key for r in trainer.send("/push")] == ["push_pick_quiz"]
    trainer.press(title)
    trainer.press("east")
    assert any(r.progress_of for r in trainer.press("1 day"))


@pytest.mark.parametrize("team", ["华东一组", "Team " + "x" * 55])
def test_push_with_buttons_to_a_team_named_in_chinese_or_at_full_length(engine: Engine, team: str) -> None:
    trainer, reps = team_with_reps(engine, 2, team=team)
    trainer.send("/push")
    trainer.press(next(b.label for b in trainer.buttons if "plum" in b.data))
    assert all(len(b.data.encode()) <= 64 and team not in b.data for b in trainer.buttons)
    trainer.press(team)
    assert any(r.progress_of for r in trainer.press("1 day"))
    with Session(engine.db) as session:
        assert sorted(session.exec(select(Delivery.user_id)).all()) == reps


def test_a_button_that_cannot_be_encoded_changes_nothing(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    trainer, _ = team_with_reps(engine, 1)
    trainer.send("/push")
    trainer.press(next(b.label for b in trainer.buttons if "plum" in b.data))
    monkeypatch.setattr(Push, "ask_deadline", lambda self: self.ctx.say("push_pick_deadline", [[Button("bad", "pd:not a valid action")]]))
    with pytest.raises(ValueError):
        trainer.press("east")
    with Session(engine.db) as session:
        assert session.get(DialogState, 2).state == "choosing_target"
    monkeypatch.undo()
    trainer.send("/push")
    trainer.press(next(b.label for b in trainer.buttons if "plum" in b.data))
    trainer.press("east")
    assert any(r.progress_of for r in trainer.press("1 day"))


TIMEOUT = 0  # in a script: Telegram delivers the message, but its answer never comes


class ScriptedTelegram(RecordingRequest):
    """Answers each sendMessage to a rep with the next (status, description) of that rep's script
    (then success), and counts the attempts."""

    def __init__(self, scripts: dict[int, list[tuple[int, str]]]) -> None:
        super().__init__()
        self.scripts = scripts
        self.attempts: dict[int, int] = {}

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        params = dict(request_data.parameters) if request_data else {}
        if url.endswith("/sendMessage") and int(params["chat_id"]) in self.scripts:
            chat = int(params["chat_id"])
            self.attempts[chat] = self.attempts.get(chat, 0) + 1
            if self.scripts[chat]:
                status, description = self.scripts[chat].pop(0)
                if status == TIMEOUT:
                    await super().do_request(url, method, request_data, *args, **kwargs)
                    raise TimedOut(description)
                body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
                if status == 429:
                    body["parameters"] = {"retry_after": 1}
                return status, json.dumps(body).encode()
        return await super().do_request(url, method, request_data, *args, **kwargs)


async def push_through(engine: Engine, scripts: dict[int, list[tuple[int, str]]]) -> tuple[ScriptedTelegram, dict[int, tuple[str, str]]]:
    """A trainer pushes to reps 1000… whose sends go as scripted; the queue is worked until
    nothing is left to retry. Returns the fake Telegram and each rep's (status, error)."""
    trainer, _ = team_with_reps(engine, len(scripts))
    trainer.send("/push plum_case east")
    fake = ScriptedTelegram(scripts)
    bot = ExtBot(TOKEN, request=fake)
    await bot.initialize()
    sender = PushSender(engine.db, engine.knowledge, rate=1000, per_chat_seconds=0, retry_in=timedelta(0))
    give_up = time.monotonic() + 30
    while time.monotonic() < give_up:
        await sender.run_once(bot)
        with Session(engine.db) as session:
            if not session.exec(select(Delivery).where(col(Delivery.status).in_(["pending", "sending"]))).all():
                break
        await asyncio.sleep(0.05)
    await bot.shutdown()
    with Session(engine.db) as session:
        rows = session.exec(select(Delivery.user_id, Delivery.status, Delivery.error)).all()
    return fake, {uid: (status, error) for uid, status, error in rows}


async def test_a_rep_who_blocked_the_bot_or_is_gone_is_undeliverable_with_the_reason(engine: Engine) -> None:
    _, outcome = await push_through(
        engine,
        {
            1000: [(403, "Forbidden: bot was blocked by the user")],
            1001: [(400, "Bad Request: chat not found")],
            1002: [(403, "Forbidden: user is deactivated")],
            1003: [(400, "Bad Request: user is deactivated")],
        },
    )
    assert outcome == {
        1000: ("undeliverable", "403 Forbidden: bot was blocked by the user"),
        1001: ("undeliverable", "400 Chat not found"),
        1002: ("undeliverable", "403 Forbidden: user is deactivated"),
        1003: ("undeliverable", "400 User is deactivated"),
    }


async def test_any_other_bad_request_is_failed_with_telegrams_message_and_not_retried(engine: Engine) -> None:
    fake, outcome = await push_through(engine, {1000: [(400, "Bad Request: can't parse entities: unexpected end tag")]})
    assert outcome[1000] == ("failed", "400 Can't parse entities: unexpected end tag")
    assert fake.attempts[1000] == 1


async def test_a_5xx_or_network_error_is_tried_exactly_max_tries_times_and_a_429_does_not_count(engine: Engine) -> None:
    always_500 = [(500, "Internal Server Error")] * (MAX_TRIES + 3)
    fake, outcome = await push_through(
        engine,
        {
            1000: list(always_500),
            1001: [(429, "Too Many Requests: retry after 1")] + list(always_500),
            1002: [(502, "Bad Gateway")] * (MAX_TRIES - 1),
        },
    )
    assert fake.attempts[1000] == MAX_TRIES and outcome[1000] == ("failed", f"gave up after {MAX_TRIES} tries: NetworkError: Internal Server Error")
    assert fake.attempts[1001] == MAX_TRIES + 1 and outcome[1001][0] == "failed"
    assert fake.attempts[1002] == MAX_TRIES and outcome[1002] == ("sent", "")


async def test_a_push_that_timed_out_after_delivery_is_sent_at_most_once_more(engine: Engine) -> None:
    fake, outcome = await push_through(
        engine,
        {
            1000: [(TIMEOUT, "delivered, no answer")] * MAX_TRIES,
            1001: [(TIMEOUT, "delivered, no answer")],
        },
    )
    assert fake.attempts[1000] == 2 and outcome[1000][0] == "failed" and "may have been delivered" in outcome[1000][1]
    assert fake.attempts[1001] == 2 and outcome[1001] == ("sent", "")


def test_of_a_dead_senders_claims_only_the_one_it_was_sending_may_have_been_delivered(engine: Engine) -> None:
    trainer, reps = team_with_reps(engine, 3)
    trainer.send("/push plum_case east")
    assert len(claim(engine.db, 10, timedelta(seconds=60), owner="host:1:dead")) == 3
    assert claims.release(engine.db, ["host:1:dead"]) == 3
    with Session(engine.db) as session:
        rows = session.exec(select(Delivery.user_id, Delivery.status, Delivery.unsure).order_by(col(Delivery.id))).all()
    assert rows == [(reps[0], "pending", 1), (reps[1], "pending", 0), (reps[2], "pending", 0)]
