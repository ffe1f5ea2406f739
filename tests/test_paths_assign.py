"""Trainers assign a learning path to a team, like /push: each rep is invited through the push
queue, /path shows the assigned path first with its deadline, and a reminder before the deadline
goes to those who hold no certificate of it yet."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select
from telegram.ext import ExtBot

from bot.push_sender import PushSender
from dialogs.engine import Engine
from storage.access import add_member, create_team, grant_role, team_by_name
from storage.certificates import issue
from storage.deliveries import queue_reminders
from storage.dialog_state import load_state
from storage.models import Assignment, Delivery, User, utcnow
from tests.chat import Chat, shown
from tests.telegram_fake import TOKEN, FakeTelegram, RecordingRequest, notices, texts

pytestmark = pytest.mark.both_databases
ADMIN, TRAINER, REPS = 42, 2, (1001, 1002, 1003)
EXPIRED = "This button has expired; nothing was changed."


def east_and_west(engine: Engine) -> None:
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


@pytest.fixture
def trainer(engine: Engine) -> Chat:
    """The trainer of east_and_west, on the console in English."""
    east_and_west(engine)
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
    assert 'no learning path with the id "spin_basic". Paths: plum_to_b2b, spin_basics.' in unknown and "step 1: pick the path" in unknown
    assert "sent 0 / 3" in trainer.text("/assign plum_to_b2b")
    with Session(engine.db) as session:
        assert session.exec(select(Assignment.path_id)).all() == ["plum_to_b2b"]


def labels(telegram: FakeTelegram, user_id: int) -> list[str]:
    """The labels of the buttons under the latest message to `user_id`."""
    return [b["text"] for row in telegram.last_markup[user_id]["markup"]["inline_keyboard"] for b in row]


async def test_a_trainer_assigns_a_path_by_buttons_alone_and_the_reps_get_it(telegram: FakeTelegram, engine: Engine) -> None:
    """The trainer types only /assign and picks the path, the team and two weeks, then confirms (in
    Chinese): the assignment `/assign plum_to_b2b east 14d` makes, each rep invited in their language."""
    east_and_west(engine)
    assert "第 1 步：选择路径" in texts(await telegram.send(TRAINER, "/assign"))[0]
    assert labels(telegram, TRAINER) == ["SPIN 基础", "从李子案例到大客户销售"]
    assert "第 2 步：推送给哪个团队？" in texts(await telegram.press(TRAINER, "从李子案例到大客户销售"))[0]
    assert labels(telegram, TRAINER) == ["east"]
    assert "第 3 步：<b>从李子案例到大客户销售</b> 的截止时间？" in texts(await telegram.press(TRAINER, "east"))[0]
    assert labels(telegram, TRAINER) == ["不设截止", "1 周", "2 周"]
    confirm = texts(await telegram.press(TRAINER, "2 周"))[0]
    due = re.search(r"指定给 <b>east</b>，截止 (\S+ \S+)（UTC）？", confirm)
    assert due is not None and labels(telegram, TRAINER) == ["✅ 指定", "✖ 取消"]
    in_two_weeks = datetime.strptime(due.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC) - utcnow()
    assert timedelta(days=13, hours=23) < in_two_weeks <= timedelta(days=14)
    with Session(engine.db) as session:
        assert session.exec(select(Assignment)).all() == []

    progress = texts(await telegram.press(TRAINER, "✅ 指定"))[0]
    assert f"📤 <b>推送：从李子案例到大客户销售</b> → east（截止 {due.group(1)} UTC）" in progress and "已发送 0 / 3" in progress
    with Session(engine.db) as session:
        assignment = session.exec(select(Assignment)).one()
        assert (assignment.path_id, assignment.quiz_id, assignment.deadline is not None) == ("plum_to_b2b", "", True)
        assert load_state(session, TRAINER).dialog == ""

    assert await PushSender(engine.db, engine.knowledge, per_chat_seconds=0).run_once(telegram.app.bot) == 3
    invites = {int(c.params["chat_id"]): c.params["text"] for c in telegram.request.calls if c.method == "sendMessage" and int(c.params["chat_id"]) in REPS}
    assert sorted(invites) == list(REPS)
    assert f"培训师给你指定了学习路径：<b>从李子案例到大客户销售</b>\n请在 {due.group(1)}（UTC）前完成。" in invites[REPS[0]]
    assert "assigned you a learning path: <b>From the plum case to B2B</b>" in invites[REPS[1]]
    listing = texts(await telegram.press_data(REPS[1], "1|g|go:path", lang="en"))[-1]
    assert f"<b>From the plum case to B2B</b> · 📌 assigned, due {due.group(1)} (UTC)" in listing


async def test_a_forged_or_stale_picker_button_is_refused_and_changes_nothing(telegram: FakeTelegram, engine: Engine) -> None:
    """A team the trainer is not in, everyone (admins only), a step not reached, a button from an
    earlier step, a confirm pressed twice or by someone else: each is answered "expired" and
    nothing is assigned twice."""
    east_and_west(engine)
    with Session(engine.db) as session:
        west = team_by_name(session, "west")
        assert west is not None
    await telegram.send(TRAINER, "/assign", lang="en")
    path_button = telegram.button_data(TRAINER, "SPIN basics")
    await telegram.press(TRAINER, "SPIN basics", lang="en")
    stamp = telegram.button_data(TRAINER, "east").rsplit("|", 1)[0]
    for forged in (f"{stamp}|at:{west.id}", f"{stamp}|at:all", f"{stamp}|ad:7d", f"{stamp}|ac", path_button, "1|zz|ac"):
        assert notices(await telegram.press_data(TRAINER, forged, lang="en")) == [EXPIRED]
    with Session(engine.db) as session:
        assert (load_state(session, TRAINER).state, session.exec(select(Assignment)).all()) == ("choosing_target", [])

    await telegram.press(TRAINER, "east", lang="en")
    await telegram.press(TRAINER, "No deadline", lang="en")
    confirm = telegram.button_data(TRAINER, "✅ Assign")
    assert "sent 0 / 3" in texts(await telegram.press_data(TRAINER, confirm, lang="en"))[0]
    assert notices(await telegram.press_data(TRAINER, confirm, lang="en")) == [EXPIRED]
    assert notices(await telegram.press_data(REPS[1], confirm, lang="en")) == [EXPIRED]
    assert "not allowed to use /assign" in texts(await telegram.press_data(REPS[1], "1|g|go:assign", lang="en"))[0]
    with Session(engine.db) as session:
        assert [(a.path_id, a.deadline) for a in session.exec(select(Assignment)).all()] == [("spin_basics", None)]
        assert len(session.exec(select(Delivery)).all()) == 3


def test_a_missing_team_is_picked_a_deadline_typed_and_a_cancel_assigns_nothing(engine: Engine) -> None:
    """An admin names only the path: the teams (and everyone) are offered; a deadline that cannot be
    read is asked again, a typed one is shown as a date; text typed at the confirmation keeps the
    choices and asks for a button; cancelling at the end assigns nothing."""
    east_and_west(engine)
    admin = Chat(engine, ADMIN, lang="en")
    assert "Step 2: which team should get it?" in admin.text("/assign plum_to_b2b")
    assert [b.label for b in admin.buttons] == ["east", "west", "Everyone"]
    admin.press("west")
    again = shown(admin.send("someday"))
    assert 'can\'t read the deadline "someday"' in again and "Step 3: deadline for From the plum case to B2B?" in again
    confirm = shown(admin.send("2099-12-01"))
    assert "Step 4: assign the learning path From the plum case to B2B to west, due 2099-12-01 23:59 (UTC)?" in confirm
    typed = shown(admin.send("yes please"))
    assert "Tap ✅ Assign to send the path to the team, or ✖ Cancel" in typed
    assert "Step 4: assign the learning path From the plum case to B2B to west, due 2099-12-01 23:59 (UTC)?" in typed
    assert "Nothing was assigned" in shown(admin.press("✖ Cancel"))
    with Session(engine.db) as session:
        assert session.exec(select(Assignment)).all() == []
    admin.send("/assign plum_to_b2b")
    admin.press("Everyone")
    assert "Step 4: assign the learning path From the plum case to B2B to Everyone, with no deadline?" in shown(admin.press("No deadline"))
    assert "📤 Push: From the plum case to B2B → all" in shown(admin.press("✅ Assign"))
    with Session(engine.db) as session:
        assert [(a.path_id, a.team_id, a.deadline) for a in session.exec(select(Assignment)).all()] == [("plum_to_b2b", None, None)]
