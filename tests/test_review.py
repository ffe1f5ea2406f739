"""The review queue: what a rep gets wrong comes back in /review on the day FSRS schedules it,
answering moves it by FSRS, and the daily nudge keeps to the rep's time and quiet hours.

The engine runs on a clock the test sets (Asia/Shanghai, the default TIMEZONE).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Card, Rating
from sqlmodel import Session, select

from bot.settings import Settings
from dialogs.engine import Engine
from knowledge.loader import Knowledge
from storage.models import ReviewItem
from storage.reviews import QUIZ, SCHEDULER, card_of, missed, quiz_ref
from tests.chat import Chat, shown
from tests.clock import SHANGHAI, Clock, local
from tests.conftest import make_telegram
from tests.telegram_fake import FakeTelegram, texts

pytestmark = pytest.mark.both_databases

IMPLICATION = "What happens to your sales if deliveries keep arriving late?"
SITUATION = "How many people work in your team?"


def scheduled(*answers: tuple[Rating, datetime]) -> datetime:
    """When FSRS itself would next have a card due after these ratings."""
    card = Card(card_id=1, due=answers[0][1])
    for rating, at in answers:
        card, _ = SCHEDULER.review_card(card, rating, at.astimezone(UTC))
    return card.due


def items_of(engine: Engine, user_id: int) -> dict[str, ReviewItem]:
    """The rep's review items by kind:ref, as stored."""
    with Session(engine.db) as session:
        return {f"{i.kind}:{i.ref}": i for i in session.exec(select(ReviewItem).where(ReviewItem.user_id == user_id))}


@pytest.fixture
def clock(engine: Engine) -> Clock:
    """The engine's clock, at 10:00 on 1 December."""
    moved = Clock(local(1, 10))
    engine.clock = moved
    return moved


def situation_of(prompt: str) -> str:
    """The customer situation a review prompt gives."""
    return prompt.split("\n\n")[1]


def miss_the_first_spin_question(rep: Chat) -> None:
    """The rep answers "Which four types of question…" with A (Solution, Product, …)."""
    assert "Which four types of question" in rep.text("/quiz spin_basics")
    assert "Not quite" in shown(rep.press("A"))
    rep.send("/cancel")


def test_a_missed_question_and_a_confused_spin_type_come_back_on_their_day_and_move_on(engine: Engine, clock: Clock) -> None:
    rep = Chat(engine, 5, lang="en")
    missed_at = clock.now
    miss_the_first_spin_question(rep)
    assert "write this type: situation question (S)" in rep.text("/spin")
    clock.at(local(1, 10, 1))
    assert "We asked for: situation question (S)" in rep.text(IMPLICATION)
    clock.at(local(1, 10, 2))
    assert "We asked for: situation question (S)" in rep.text(IMPLICATION)
    rep.send("/cancel")

    quiz_due = scheduled((Rating.Again, missed_at))
    spin_due = scheduled((Rating.Again, local(1, 10, 1)), (Rating.Again, local(1, 10, 2)))
    assert quiz_due.astimezone(SHANGHAI).date() == spin_due.astimezone(SHANGHAI).date() == local(2, 0).date()
    assert {key: item.due for key, item in items_of(engine, 5).items()} == {"quiz:spin_basics/sb01": quiz_due, "spin:situation": spin_due}

    clock.at(local(1, 23))
    text = rep.text("/review")
    assert "Nothing to review today." in text and "Next review: 2026-12-02." in text

    clock.at(local(2, 8))
    text = rep.text("/review")
    assert "Review 1/2" in text and "a question you missed in SPIN selling: the basics" in text
    assert "Which four types of question" in text and [b.label for b in rep.buttons] == ["A", "B", "C", "D"]

    quiz_next = scheduled((Rating.Again, missed_at), (Rating.Good, local(2, 8)))
    text = shown(rep.press("C"))
    assert "✅ Right this time! Answer: C. Situation, Problem, Implication, Need-payoff" in text
    assert "Next review of this one: in " in text and f"({quiz_next.astimezone(SHANGHAI).date()})." in text
    assert "Review 2/2" in text and "write this type: situation question (S)" in text

    text = rep.text(SITUATION)
    assert "✅ Yes, that is a situation question (S)." in text
    assert "Today's review is done: 2 of 2 right." in text
    spin_next = scheduled((Rating.Again, local(1, 10, 1)), (Rating.Again, local(1, 10, 2)), (Rating.Good, local(2, 8)))
    assert {key: item.due for key, item in items_of(engine, 5).items()} == {"quiz:spin_basics/sb01": quiz_next, "spin:situation": spin_next}

    assert "Nothing to review today." in rep.text("/review")
    assert "0 items due today · you likely remember 100% of your review queue (FSRS estimate)" in rep.text("/me")
    clock.at(quiz_next + timedelta(days=30))
    cards = [card_of(item) for item in items_of(engine, 5).values()]
    kept = round(100 * sum(SCHEDULER.get_card_retrievability(card, clock.now) for card in cards) / len(cards))
    assert kept < 100 and f"2 items due today · you likely remember {kept}% of your review queue" in rep.text("/me")


def test_a_question_with_several_answers_is_ticked_and_submitted_again(engine: Engine, clock: Clock) -> None:
    with Session(engine.db) as session:  # the rep missed "Which of these are common mistakes…" last week
        missed(session, 12, QUIZ, quiz_ref("spin_basics", "sb13"), "quiz", clock.now - timedelta(days=7))
        session.commit()
    rep = Chat(engine, 12, lang="en")
    assert "several answers: tick them, then tap Submit" in rep.text("/review")
    assert [r.key for r in rep.press("Submit")] == ["quiz_select_first"]
    rep.press("▫️ A")
    assert "Selected: A, B" in shown(rep.press("▫️ B"))
    rep.press("▫️ D")
    text = shown(rep.press("Submit"))
    assert "✅ Right this time! Answer: A. Firing off Situation questions" in text and "Today's review is done: 1 of 1 right." in text


def test_a_wrong_answer_brings_an_item_back_the_next_day_in_fresh_words(engine: Engine, clock: Clock) -> None:
    rep = Chat(engine, 6, lang="zh")
    rep.send("/spin")
    assert "这一步要的是背景问题（S）" in rep.text("如果交货一直延误，会对您的销售有什么影响？")
    rep.send("/cancel")

    clock.at(local(2, 9))
    first = rep.text("/review")
    assert "复习 1/1" in first and "写一个背景问题（S）" in first
    text = rep.text("如果交货一直延误，会对您的销售有什么影响？")
    assert "你写的是暗示问题（I），这里要的是背景问题（S）" in text
    assert "1 天后（2026-12-03）再来复习这一条" in text and "1 条里答对 0 条" in text

    clock.at(local(3, 9))
    second = rep.text("/review")
    assert "写一个背景问题（S）" in second
    assert situation_of(second) != situation_of(first)
    assert "对，这是背景问题（S）" in rep.text("您公司现在有多少员工？")
    me = rep.text("/me")
    assert "今天要复习 0 条" in me and "FSRS 估计" in me


def test_a_question_at_the_wrong_stage_of_a_script_drill_comes_back_as_that_stage(engine: Engine, clock: Clock) -> None:
    rep = Chat(engine, 11, lang="en")
    rep.send("/scripts fruit_retail")
    rep.press("🎯 Drill this script")
    rep.send(IMPLICATION)
    with Session(engine.db) as session:
        item = session.exec(select(ReviewItem).where(ReviewItem.user_id == 11)).one()
    assert (item.kind, item.ref, item.source) == ("spin", "situation", "scripts")

    clock.at(local(2, 9))
    assert "write this type: situation question (S)" in rep.text("/review")


def test_a_leading_question_in_a_role_play_comes_back_as_a_question_to_ask_without_it(engine: Engine, clock: Clock) -> None:
    rep = Chat(engine, 7, lang="en")
    rep.send("/roleplay plum")
    rep.send("Don't you think these are the best plums in the market?")
    rep.send("/end")
    assert "act:leading" in items_of(engine, 7)

    clock.at(local(2, 9))
    text = rep.text("/review")
    assert "ask a good question, and leave out leading questions" in text
    assert "It still has leading questions" in rep.text("Wouldn't you agree that your supplier is too slow?")
    clock.at(local(3, 9))
    rep.send("/review")
    assert "Good: a question, without leading questions" in rep.text(SITUATION)


def test_the_reminder_is_set_in_chat_and_never_falls_in_quiet_hours(engine: Engine, clock: Clock) -> None:
    rep = Chat(engine, 8, lang="en")
    text = rep.text("/review")
    assert "Nothing to review today." in text and "Daily reminder: off · quiet hours 22:00-08:00 (Asia/Shanghai)" in text
    text = shown(rep.press("⏰ Daily reminder"))
    assert [b.label for b in rep.buttons] == ["08:00", "12:30", "18:00", "20:00", "🔕 No reminder", "▶ Start reviewing"]
    assert "I will remind you at 20:00" in shown(rep.press("20:00"))
    assert "That time is in your quiet hours (22:00-08:00)" in rep.text("23:00")
    assert "Quiet hours are now 23:00-07:00" in rep.text("23:00-07:00")
    assert "I will remind you at 22:30" in rep.text("22:30")
    assert "That time is in your quiet hours" in rep.text("/review 6:30")
    assert "I did not understand that" in rep.text("tomorrow")
    assert "No more daily reminders." in shown(rep.press("🔕 No reminder"))


async def nudged_at(telegram: FakeTelegram, moment: datetime) -> list[str]:
    """The nudges the job sends at `moment` (Shanghai time), as Telegram receives them."""
    nudger = telegram.app.bot_data["nudger"]
    nudger.clock = lambda: moment.astimezone(UTC)
    for posting in nudger.queue():
        await nudger.outbox.flush(telegram.app.bot, posting)
    sent = telegram.request.calls[telegram.seen :]
    telegram.seen = len(telegram.request.calls)
    return texts(sent)


async def test_the_daily_nudge_comes_once_at_the_reps_time_and_never_in_quiet_hours(telegram: FakeTelegram, engine: Engine, clock: Clock) -> None:
    await telegram.send(9, "/start", lang="en")
    await telegram.press(9, "English", lang="en")
    await telegram.send(9, "/review 21:30", lang="en")
    await telegram.send(10, "/review 21:30", lang="zh")
    assert await nudged_at(telegram, local(1, 21, 31)) == []  # nothing is due yet

    await telegram.send(9, "/quiz spin_basics", lang="en")
    await telegram.vote(9, 0, lang="en")  # spin_basics is a poll quiz: A, wrong, in its first poll
    await telegram.send(9, "/cancel", lang="en")
    await telegram.send(10, "/quiz spin_basics", lang="zh")
    await telegram.vote(10, 0, lang="zh")
    await telegram.send(10, "/cancel", lang="zh")

    assert await nudged_at(telegram, local(2, 21, 29)) == []
    sent = await nudged_at(telegram, local(2, 21, 30))
    assert sent == [
        "🔁 1 item is due for review today: missed questions and question types to practise again. A few minutes keeps them fresh.",
        "🔁 今天有 1 条要复习：答错过的题和要再练的提问类型。花几分钟，记得更牢。",
    ]
    assert await nudged_at(telegram, local(2, 21, 45)) == []  # once a day

    assert await nudged_at(telegram, local(3, 22, 5)) == []  # the job ran late, into the quiet hours
    assert await nudged_at(telegram, local(4, 7, 59)) == []
    await telegram.send(9, "/review 23:00-07:00", lang="en")
    english = ["🔁 1 item is due for review today: missed questions and question types to practise again. A few minutes keeps them fresh."]
    assert await nudged_at(telegram, local(4, 22, 40)) == english  # no longer quiet for rep 9; rep 10 keeps 22:00-08:00
    assert await nudged_at(telegram, local(5, 22, 40)) == english

    clock.at(local(5, 22, 41))
    replies = await telegram.press(9, "▶ Start reviewing", lang="en")
    assert "Review 1/1" in texts(replies)[-1] and "Which four types of question" in texts(replies)[-1]


async def test_a_rep_who_never_chose_a_language_is_nudged_in_their_telegram_clients(telegram: FakeTelegram, clock: Clock) -> None:
    for rep, client in ((15, "en-GB"), (16, "zh-hans")):  # neither pressed 中文 or English
        await telegram.send(rep, "/review 21:30", lang=client)
        await telegram.send(rep, "/quiz spin_basics", lang=client)
        await telegram.vote(rep, 0, lang=client)
        await telegram.send(rep, "/cancel", lang=client)
    assert await nudged_at(telegram, local(2, 21, 30)) == [
        "🔁 1 item is due for review today: missed questions and question types to practise again. A few minutes keeps them fresh.",
        "🔁 今天有 1 条要复习：答错过的题和要再练的提问类型。花几分钟，记得更牢。",
    ]


def without_question(knowledge: Knowledge, quiz_id: str, question_id: str) -> Knowledge:
    """The content after a trainer took one question out of a quiz."""
    quiz = knowledge.quizzes[quiz_id]
    edited = quiz.model_copy(update={"questions": [q for q in quiz.questions if q.id != question_id]})
    return Knowledge(items=knowledge.items | {"quizzes": knowledge.quizzes | {quiz_id: edited}}, sources=knowledge.sources)


async def test_a_question_taken_out_of_its_quiz_is_not_counted_on_me_or_in_the_nudge(engine: Engine, settings: Settings, clock: Clock) -> None:
    with Session(engine.db) as session:  # last week the rep missed two questions of spin_basics
        missed(session, 14, QUIZ, quiz_ref("spin_basics", "sb01"), "quiz", clock.now - timedelta(days=7))
        missed(session, 14, QUIZ, quiz_ref("spin_basics", "sb02"), "quiz", clock.now - timedelta(days=7))
        session.commit()
    edited = Engine(engine.db, without_question(engine.knowledge, "spin_basics", "sb02"), engine.settings, clock=clock)
    telegram = await make_telegram(settings, edited)
    try:
        await telegram.send(14, "/review 21:30")
        assert "今天要复习 1 条" in texts(await telegram.send(14, "/me"))[0]
        assert await nudged_at(telegram, local(1, 21, 30)) == ["🔁 今天有 1 条要复习：答错过的题和要再练的提问类型。花几分钟，记得更牢。"]
        clock.at(local(1, 21, 31))
        assert "复习 1/1" in texts(await telegram.press(14, "▶ 开始复习"))[-1]
    finally:
        await telegram.app.shutdown()
