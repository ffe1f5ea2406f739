"""Trainers assign a learning path to a team, like /push: each rep is invited through the push
queue, /path shows the assigned path first with its deadline, and a reminder before the deadline
goes to those who hold no certificate of it yet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select
from telegram.ext import ExtBot

from bot.push_sender import PushSender
from dialogs.engine import Engine
from storage.access import add_member, create_team, grant_role
from storage.certificates import issue
from storage.deliveries import queue_reminders
from storage.models import Assignment, Delivery, User, utcnow
from tests.chat import Chat, shown
from tests.telegram_fake import TOKEN, RecordingRequest

pytestmark = pytest.mark.both_databases
ADMIN, TRAINER, REPS = 42, 2, (1001, 1002, 1003)


@pytest.fixture
def trainer(engine: Engine) -> Chat:
    """A trainer of team east, whose reps are 1001 (Chinese), 1002 and 1003 (English); team west exists too."""
    with Session(engine.db) as session:
        east = create_team(session, "east")
        create_team(session, "west")
        assert east is not None
        grant_role(session, TRAINER, "trainer", ADMIN)
        add_member(session, TRAINER, east.id or 0)
        for rep in REPS:
            session.add(User(id=rep, name=f"rep{rep}", lang="zh" if rep == REPS[0] else "en", chat_id=rep))
            add_member(session, rep, east.id or 0)
        session.commit()
    chat = Chat(engine, TRAINER, lang="en")
    chat.send("/help")
    return chat


async def test_a_trainer_assigns_spin_basics_and_the_reps_are_invited_and_reminded(trainer: Chat, engine: Engine) -> None:
    [progress] = [r for r in trainer.send("/assign spin_basics east 3d") if r.progress_of is not None]
    assert "Push: SPIN basics → east (due " in shown([progress]) and "sent 0 / 3" in shown([progress])
    with Session(engine.db) as session:
        assignment = session.exec(select(Assignment)).one()
        assert (assignment.path_id, assignment.quiz_id) == ("spin_basics", "")
        assert sorted(session.exec(select(Delivery.user_id)).all()) == list(REPS)

    listing = Chat(engine, REPS[1], lang="en").text("/path")
    assert listing.index("SPIN basics · 📌 assigned, due ") < listing.index("From the plum case to B2B")

    request = RecordingRequest()
    bot = ExtBot(TOKEN, request=request)
    await bot.initialize()
    sender = PushSender(engine.db, engine.knowledge, per_chat_seconds=0)
    assert await sender.run_once(bot) == 3
    invites = {int(c.params["chat_id"]): c.params for c in request.calls if c.method == "sendMessage"}
    assert "培训师给你指定了学习路径：<b>SPIN 基础</b>" in invites[REPS[0]]["text"]
    assert "assigned you a learning path: <b>SPIN basics</b>" in invites[REPS[1]]["text"]
    button = invites[REPS[1]]["reply_markup"]["inline_keyboard"][0][0]
    assert button == {"text": "🧭 Open the path", "callback_data": "1|g|go:path"}

    with Session(engine.db) as session:
        issue(session, REPS[2], "spin_basics", "rep1003")
        session.commit()
    assert queue_reminders(engine.db, timedelta(hours=24)) == 0
    assert queue_reminders(engine.db, timedelta(hours=24), now=utcnow() + timedelta(days=2, hours=1)) == 2
    assert await sender.run_once(bot) == 2
    reminded = {int(c.params["chat_id"]): c.params["text"] for c in request.calls[-2:]}
    assert sorted(reminded) == [REPS[0], REPS[1]]
    assert "the learning path <b>SPIN basics</b> is not complete yet" in reminded[REPS[1]]
    await bot.shutdown()


def test_who_may_assign_what_where(trainer: Chat, engine: Engine) -> None:
    assert "not allowed to use /assign" in Chat(engine, REPS[1], lang="en").text("/assign spin_basics east")
    assert "only push to your own teams" in trainer.text("/assign spin_basics west")
    assert "Only admins can push to everyone" in trainer.text("/assign spin_basics all")
    assert "can't read the deadline" in trainer.text("/assign spin_basics east someday")
    unknown = trainer.text("/assign spin_basic east")
    assert 'no learning path with the id "spin_basic". Paths: plum_to_b2b, spin_basics.' in unknown and "Usage: /assign PATH_ID" in unknown
    assert "sent 0 / 3" in trainer.text("/assign plum_to_b2b")
    with Session(engine.db) as session:
        assert session.exec(select(Assignment.path_id)).all() == ["plum_to_b2b"]
