"""Leaderboards: a rep who has not opted in is never listed, whoever looks and in whichever
language; a manager sees their own team's board and no other; opting out takes a rep off at once.
The week's figures (path steps, review streak, best role-play) on a clock the test sets.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session

from dialogs.engine import Engine
from dialogs.review.days import local_day
from knowledge.loader import Knowledge
from storage.access import add_member, create_team, grant_role
from storage.models import ReviewDay, RolePlay, User, utcnow
from storage.reviews import QUIZ, missed, quiz_ref
from tests.chat import Chat, shown
from tests.clock import SHANGHAI, Clock, local
from tests.telegram_fake import FakeTelegram, texts

pytestmark = pytest.mark.both_databases

ADMIN = 42
MANAGER_EAST, ANN, ZED, KIM = 3, 11, 12, 13  # team east; Zed never opts in
BEA, BOB = 21, 22  # team west; Bob never opts in
NAMES = {MANAGER_EAST: "Mia Boss", ANN: "Ann Lee", ZED: "Zed Hidden", KIM: "<b>Kim</b>", BEA: "Bea Stone", BOB: "Bob Secret", ADMIN: "Ada Root"}
LANGS = ("zh", "en")


def teams(db: DbEngine) -> None:
    """Team east (a manager, Ann, Zed, Kim) and team west (Bea, Bob)."""
    with Session(db) as session:
        east, west = create_team(session, "east"), create_team(session, "west")
        assert east is not None and west is not None
        for user_id in (MANAGER_EAST, ANN, ZED, KIM):
            add_member(session, user_id, east.id or 0)
        for user_id in (BEA, BOB):
            add_member(session, user_id, west.id or 0)
        grant_role(session, MANAGER_EAST, "manager", ADMIN)
        session.commit()


def busy_week(db: DbEngine, user_ids: tuple[int, ...], now: datetime) -> None:
    """Each rep finished a role-play and reviewed today: every one of them has figures to show."""
    with Session(db) as session:
        for number, user_id in enumerate(user_ids):
            session.add(RolePlay(user_id=user_id, scenario_id="mop", state="closed", finished_at=now, outcome="won", score=60 + number))
            session.add(ReviewDay(user_id=user_id, day=local_day(now, SHANGHAI)))
        session.commit()


async def boards(telegram: FakeTelegram, user_id: int, lang: str) -> str:
    """What the user reads after typing /leaderboard."""
    return "\n".join(texts(await telegram.send(user_id, "/leaderboard", name=NAMES[user_id], lang=lang)))


def listed(text: str) -> str:
    """The boards of a /leaderboard answer, without its last paragraph (whether and as whom the viewer is on them)."""
    return text.rsplit("\n\n", 1)[0]


async def test_only_reps_who_opted_in_are_listed_and_only_on_their_own_teams_boards(telegram: FakeTelegram, db: DbEngine) -> None:
    teams(db)
    for user_id in NAMES:
        await telegram.send(user_id, "/whoami", name=NAMES[user_id])
    busy_week(db, (ANN, ZED, KIM, BEA, BOB), utcnow())
    assert "李子达人" in texts(await telegram.send(ANN, "/leaderboard nick 李子达人", name=NAMES[ANN]))[0]
    for user_id in (ANN, KIM, BEA):
        await telegram.send(user_id, "/leaderboard on", name=NAMES[user_id])

    for lang in LANGS:
        for viewer in NAMES:
            text = listed(await boards(telegram, viewer, lang))
            assert "Zed" not in text and "Hidden" not in text and "Bob" not in text and "Secret" not in text, (viewer, lang)
        manager = await boards(telegram, MANAGER_EAST, lang)
        assert "<b>east</b>" in manager and "李子达人" in manager and "&lt;b&gt;Kim&lt;/b&gt;" in manager
        assert "west" not in manager and "Bea" not in manager and "Ann" not in manager
        bea = await boards(telegram, BEA, lang)
        assert "<b>west</b>" in bea and "Bea" in bea and "east" not in bea and "李子达人" not in bea and "Kim" not in bea
        admin = await boards(telegram, ADMIN, lang)
        assert "<b>east</b>" in admin and "<b>west</b>" in admin and "李子达人" in admin and "Bea" in admin
    assert "你不在排行榜上" in await boards(telegram, ZED, "zh")
    assert "You are not on the boards" in await boards(telegram, ZED, "en")
    assert "You are on your teams' boards as <b>李子达人</b>" in await boards(telegram, ANN, "en")

    assert "你已下榜" in texts(await telegram.send(ANN, "/leaderboard off", name=NAMES[ANN]))[0]
    for lang in LANGS:
        for viewer in (MANAGER_EAST, KIM, ADMIN, ANN):
            text = listed(await boards(telegram, viewer, lang))
            assert "李子达人" not in text and "Ann" not in text, (viewer, lang)
        assert "&lt;b&gt;Kim&lt;/b&gt;" in await boards(telegram, MANAGER_EAST, lang)


async def test_a_rep_in_no_team_sees_no_board(telegram: FakeTelegram) -> None:
    await telegram.send(ANN, "/leaderboard on", name=NAMES[ANN], lang="en")
    text = await boards(telegram, ANN, "en")
    assert "You are in no team yet" in text and "You are on your teams' boards as <b>Ann</b>" in text
    assert "你还没有加入任何团队" in await boards(telegram, ANN, "zh")


@pytest.mark.parametrize(
    ("typed", "zh", "en"),
    [
        ("<b>Boss</b>", "这个昵称不能用：“&lt;b&gt;Boss&lt;/b&gt;”", "That nickname can't be used: “&lt;b&gt;Boss&lt;/b&gt;”"),
        ("A", "这个昵称不能用", "That nickname can't be used"),
        ("Plum Queen of the Eastern Market", "这个昵称不能用", "That nickname can't be used"),
        ("🍑🍑🍑", "这个昵称不能用", "That nickname can't be used"),
        ("  李子   达人 ", "你在排行榜上的名字改为 <b>李子 达人</b>", "Your leaderboard name is now <b>李子 达人</b>"),
        ("", "昵称已清除：排行榜上显示为 <b>Ann</b>", "Nickname removed: the leaderboards show you as <b>Ann</b>"),
    ],
)
async def test_a_nickname_is_letters_digits_and_spaces_of_a_sensible_length(telegram: FakeTelegram, typed: str, zh: str, en: str) -> None:
    for lang, said in (("zh", zh), ("en", en)):
        assert said in texts(await telegram.send(ANN, f"/leaderboard nick {typed}", name=NAMES[ANN], lang=lang))[0]


@pytest.mark.parametrize(
    ("lang", "taken", "now_as"), [("zh", "这个昵称不能用：队友在排行榜上叫", "改为 "), ("en", "a teammate is shown on the boards as ", "is now ")]
)
def test_a_rep_cannot_take_the_name_a_teammate_is_shown_by_even_if_that_teammate_is_not_on_the_boards(
    engine: Engine, db: DbEngine, lang: str, taken: str, now_as: str
) -> None:
    teams(db)
    with Session(db) as session:  # Bob, in west, has no name: the boards would show him as Rep 22 / 销售 22
        session.add(User(id=BOB))
        session.commit()
    chats = {user_id: Chat(engine, user_id, name=NAMES[user_id], lang=lang) for user_id in (MANAGER_EAST, ANN, ZED, KIM, BEA)}
    for chat in chats.values():
        chat.send("/whoami")
    assert f"{now_as}Plum Queen" in chats[KIM].text("/leaderboard nick Plum Queen")

    for typed in ("  zed ", "MIA", "plum   QUEEN"):  # Zed and the manager never opted in; Kim is shown by her nickname
        assert f"{taken}“{' '.join(typed.split())}”" in chats[ANN].text(f"/leaderboard nick {typed}"), typed
    assert "Plum Queen" not in chats[ANN].text("/leaderboard"), "a refused nickname is not set"
    for typed in ("Rep 22", "销售 22"):
        assert taken in chats[BEA].text(f"/leaderboard nick {typed}"), typed

    assert f"{now_as}Bea" in chats[ANN].text("/leaderboard nick Bea"), "Bea is in another team"
    assert f"{now_as}Kim" in chats[ANN].text("/leaderboard nick Kim"), "Kim is shown by her nickname, not by her name"
    assert taken in chats[ZED].text("/leaderboard nick kim"), "now Ann is shown as Kim"
    assert f"{now_as}Ann" in chats[ZED].text("/leaderboard nick Ann"), "Ann's first name is no longer shown"


def test_help_lists_it_and_a_rep_opts_in_and_out_in_chinese_words_too_and_anything_else_gets_the_usage(engine: Engine) -> None:
    rep = Chat(engine, ANN, name="Ann Lee", lang="zh")
    assert "/leaderboard — 团队周榜（自愿上榜）" in rep.text("/help")
    assert "/leaderboard — Team weekly leaderboard (opt-in)" in Chat(engine, BEA, lang="en").text("/help")
    assert "你已经上榜，团队排行榜上显示为 Ann。" in rep.text("/leaderboard 开")
    assert "你已下榜" in rep.text("/leaderboard 关闭")
    assert "立即下榜" in rep.text("/leaderboard 请")
    assert "/leaderboard on" in Chat(engine, BEA, lang="en").text("/leaderboard please")


@pytest.fixture
def wednesday(engine: Engine) -> Clock:
    """The engine's clock at 10:00 on Wednesday 9 December 2026: the week began on Monday the 7th."""
    moved = Clock(local(9, 10))
    engine.clock = moved
    return moved


def reviewed(db: DbEngine, user_id: int, *days: int) -> None:
    """The rep reviewed on these days of December."""
    with Session(db) as session:
        session.add_all(ReviewDay(user_id=user_id, day=local(day, 0).date()) for day in days)
        session.commit()


def read_next_lesson(rep: Chat) -> None:
    """The rep opens /path and takes the next step of SPIN basics: a lesson, read."""
    rep.send("/path")
    assert "✅ Lesson read" in shown(rep.press("▶ SPIN basics: next step"))


def review_wrongly(rep: Chat) -> None:
    """The rep answers the first question of today's review (the SPIN question missed on Saturday), wrongly: it is due again tomorrow."""
    assert "Review 1/" in rep.text("/review")
    rep.press("A")


def play_mop(rep: Chat, knowledge: Knowledge, lines: int | None = None) -> int:
    """The rep plays the mop role-play with the model conversation's lines, all of them or the first
    `lines` and then ends it; the score on the scorecard."""
    rep.send("/roleplay mop")
    said = [rep.text(turn.rep.en) for turn in knowledge.scenarios["mop"].model_conversation[:lines]]
    scorecard = rep.text("/end") if lines is not None else said[-1]
    score = re.search(r"Score: (\d+)/100", scorecard)
    assert score is not None, scorecard
    return int(score.group(1))


def test_the_weeks_figures_count_from_monday_midnight_in_the_bots_timezone(engine: Engine, db: DbEngine, knowledge: Knowledge, wednesday: Clock) -> None:
    teams(db)
    with Session(db) as session:  # each has a question to review, missed on Saturday
        for user_id in (ANN, KIM, ZED):
            missed(session, user_id, QUIZ, quiz_ref("spin_basics", "sb01"), "quiz", local(5, 9))
        session.commit()
    ann, kim, zed = (Chat(engine, user_id, name=name, lang="en") for user_id, name in ((ANN, "Ann Lee"), (KIM, "Kim Ho"), (ZED, "Zed Hidden")))
    for rep in (ann, kim, zed):
        rep.send("/leaderboard on")

    wednesday.at(local(6, 12))  # Sunday: last week
    review_wrongly(zed)
    wednesday.at(local(6, 20))
    sunday = play_mop(ann, knowledge)
    wednesday.at(local(6, 23))
    read_next_lesson(ann)
    wednesday.at(local(7, 7))  # Monday 07:00 in Shanghai, still Sunday in UTC
    read_next_lesson(ann)
    wednesday.at(local(7, 12))
    for rep in (ann, kim, zed):
        review_wrongly(rep)
    wednesday.at(local(8, 9))
    read_next_lesson(kim)
    wednesday.at(local(8, 12))
    for rep in (ann, kim):
        review_wrongly(rep)
    wednesday.at(local(8, 15))
    tuesday = play_mop(ann, knowledge, lines=2)
    wednesday.at(local(9, 9))
    assert play_mop(kim, knowledge, lines=2) == tuesday < sunday
    wednesday.at(local(9, 9, 30))
    review_wrongly(ann)

    wednesday.at(local(9, 10))
    text = ann.text("/leaderboard").replace("📚 ", "").replace("🔁 ", "")
    assert "(since Monday 2026-12-07)" in text
    assert "Path steps completed\n1. Ann — 1 step\n1. Kim — 1 step\nReview streak" in text
    assert "1. Ann — 3 days in a row\n2. Kim — 2 days in a row\n" in text and "Zed" not in text, "Zed reviewed nothing yesterday: his streak is broken"
    assert f"1. Ann — {tuesday}\n1. Kim — {tuesday}" in text, "Sunday's better score was last week; tied reps share the place"

    wednesday.at(local(9, 10, 5))
    read_next_lesson(kim)
    wednesday.at(local(10, 9))
    text = kim.text("/leaderboard")
    assert "1. Kim — 2 steps\n2. Ann — 1 step" in text
    assert "1. Ann — 3 days in a row\n" in text and "Kim — " not in text.split("Review streak")[1].split("Best role-play")[0]
    zh = Chat(engine, ZED, name="Zed Hidden", lang="zh").text("/leaderboard")
    assert "1. Kim — 2 步" in zh and "1. Ann — 连续 3 天" in zh and "你以 Zed 的名字出现在团队排行榜上" in zh


def test_a_review_answered_starts_a_new_streak_after_a_day_without_one(engine: Engine, db: DbEngine, wednesday: Clock) -> None:
    teams(db)
    reviewed(db, ZED, 5, 6, 7)
    with Session(db) as session:  # Zed missed the first SPIN question on Monday
        missed(session, ZED, QUIZ, quiz_ref("spin_basics", "sb01"), "quiz", local(7, 9))
        session.commit()
    zed = Chat(engine, ZED, name=NAMES[ZED], lang="en")
    zed.send("/leaderboard on")
    assert "No streak running" in zed.text("/leaderboard")
    assert "Review 1/1" in zed.text("/review")
    zed.press("C")
    assert "1. Zed — 1 day in a row" in zed.text("/leaderboard")
    wednesday.at(local(9, 23, 59) + timedelta(minutes=2))
    assert local_day(wednesday.now, SHANGHAI) == local(10, 0).date()
    assert "1. Zed — 1 day in a row" in zed.text("/leaderboard"), "today is not over: yesterday's review keeps the streak"
