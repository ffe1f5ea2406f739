"""A rep takes a quiz marked `poll: true` on Telegram: native quiz polls where a question fits
one, buttons where it does not, and the votes count like button answers in /results and xAPI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session, select

from bot.settings import Settings
from dialogs.engine import Engine
from knowledge.polls import misfits
from knowledge.schema import Question
from knowledge.validate import load_knowledge
from storage.access import add_member, create_team, grant_role
from storage.models import QuizAnswer, QuizPoll
from storage.users import preset_language
from tests.chat import Chat
from tests.conftest import make_telegram
from tests.telegram_fake import FakeTelegram, polls, texts

pytestmark = pytest.mark.both_databases

CONTENT = Path(__file__).parent / "fixtures" / "content"
TRAINER, REP = 2, 11
WORDS = {
    "en": {
        "first": "[1/4] Which kind of question asks about the customer's difficulties?",
        "options": ["Situation", "Problem", "Implication"],
        "second": "question 2/4",
        "true_false": ["True", "False"],
        "score": "Poll quiz: 75/100",
    },
    "zh": {
        "first": "[1/4] 哪类问题询问客户遇到的困难？",
        "options": ["背景问题", "难点问题", "暗示问题"],
        "second": "第 2/4 题",
        "true_false": ["正确", "错误"],
        "score": "投票测验：75 分",
    },
}


@pytest.fixture
def poll_engine(db: DbEngine, settings: Settings) -> Engine:
    return Engine(db, load_knowledge((CONTENT,)), settings.engine_settings())


@pytest.fixture
async def telegram(settings: Settings, poll_engine: Engine) -> AsyncIterator[FakeTelegram]:
    fake = await make_telegram(settings, poll_engine)
    yield fake
    await fake.app.shutdown()


def a_team_with(engine: Engine, rep_lang: str) -> None:
    """Team east: a trainer who reads English and a rep who reads `rep_lang`."""
    with Session(engine.db) as session:
        team = create_team(session, "east")
        assert team is not None and team.id is not None
        grant_role(session, TRAINER, "trainer", 42)
        for user_id, lang in ((TRAINER, "en"), (REP, rep_lang)):
            add_member(session, user_id, team.id)
            preset_language(session, user_id, f"user{user_id}", lang)
        session.commit()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_quiz_taken_by_polls_lands_in_the_results_and_the_xapi_export(telegram: FakeTelegram, poll_engine: Engine, lang: str) -> None:
    a_team_with(poll_engine, lang)
    words = WORDS[lang]

    [first] = polls(await telegram.send(REP, "/quiz poll_demo", lang=lang))
    assert first["question"] == words["first"] and first["options"] == words["options"]
    assert (first["type"], first["correct_option_ids"], first["is_anonymous"]) == ("quiz", [1], False)
    assert first["explanation"].startswith("Problem questions (P)" if lang == "en" else "难点问题（P）")

    shown = await telegram.vote(REP, 1, lang=lang)
    assert not polls(shown) and words["second"] in texts(shown)[0], "several answers: asked with buttons, and no feedback message (the poll showed it)"
    assert len(texts(shown)) == 1
    await telegram.press(REP, "▫️ A", lang=lang)
    await telegram.press(REP, "▫️ C", lang=lang)
    shown = await telegram.press(REP, "Submit" if lang == "en" else "提交答案", lang=lang)
    assert not polls(shown), "an option over 100 characters: asked with buttons"
    shown = await telegram.press(REP, "B", lang=lang)
    [true_false] = polls(shown)
    assert true_false["question"].startswith("[4/4] ") and true_false["options"] == words["true_false"] and true_false["correct_option_ids"] == [1]

    result = texts(await telegram.vote(REP, 0, lang=lang))
    assert len(result) == 1 and words["score"] in result[0]

    summary = texts(await telegram.send(TRAINER, "/results poll_demo", lang="en"))[0]
    assert "1 finished" in summary and "average 75" in summary
    export = await telegram.press(TRAINER, "⬇ xAPI", lang="en")
    [(filename, content)] = [call.files["document"] for call in export if call.method == "sendDocument"]
    assert filename == "poll_demo-results.jsonl"
    statements = [json.loads(line) for line in content.splitlines()]
    answered = {s["object"]["id"].rsplit("/", 1)[1]: s["result"] for s in statements if s["verb"]["display"]["en-US"] == "answered"}
    assert answered == {
        "poll01": {"success": True, "response": "b"},
        "poll02": {"success": True, "response": "a,c"},
        "poll03": {"success": True, "response": "b"},
        "poll04": {"success": False, "response": "true"},
    }
    assert statements[-1]["verb"]["display"]["en-US"] == "passed" and statements[-1]["result"]["score"]["raw"] == 75


async def test_a_vote_in_an_old_poll_or_a_second_vote_counts_nothing_and_says_so(telegram: FakeTelegram, poll_engine: Engine) -> None:
    a_team_with(poll_engine, "en")
    await telegram.send(REP, "/quiz poll_demo", lang="en")
    first = telegram.request.polls[REP][-1]
    await telegram.vote(REP, 0, lang="en")
    again = texts(await telegram.vote(REP, 1, first, lang="en"))
    assert again == ["That poll is not the question you are on now, so this answer was not counted. Type /quiz to get back to your quiz."]
    await telegram.send(REP, "/cancel", lang="en")
    assert "not counted" in texts(await telegram.vote(REP, 1, "poll-nobody-sent", lang="en"))[0]
    with Session(poll_engine.db) as session:
        assert [(a.question_id, a.chosen, a.correct) for a in session.exec(select(QuizAnswer)).all()] == [("poll01", ["a"], False)]
        assert [(p.poll_id, p.user_id, p.quiz_id, p.question_id, p.option_ids) for p in session.exec(select(QuizPoll)).all()] == [
            (first, REP, "poll_demo", "poll01", ["a", "b", "c"])
        ]


async def test_another_persons_vote_in_a_reps_poll_counts_nothing(telegram: FakeTelegram, poll_engine: Engine) -> None:
    a_team_with(poll_engine, "en")
    await telegram.send(REP, "/quiz poll_demo", lang="en")
    await telegram.send(77, "/quiz poll_demo", lang="en")
    told = texts(await telegram.vote(77, 1, telegram.request.polls[REP][-1], name="Eve", lang="en"))
    assert len(told) == 1 and "not counted" in told[0]
    with Session(poll_engine.db) as session:
        assert session.exec(select(QuizAnswer)).all() == []
    assert "question 2/4" in texts(await telegram.vote(REP, 1, lang="en"))[0]


async def test_typing_mid_poll_asks_to_answer_in_the_poll_and_sends_it_again(telegram: FakeTelegram, poll_engine: Engine) -> None:
    a_team_with(poll_engine, "zh")
    await telegram.send(REP, "/quiz poll_demo")
    shown = await telegram.send(REP, "我选 B")
    assert texts(shown) == ["测验进行中，请在下面的题目里选择答案（输入的文字不会被当作答案）。也可以输入 /cancel 退出，进度会保留到你下次开始。"]
    assert [p["question"] for p in polls(shown)] == [WORDS["zh"]["first"]]
    assert len(telegram.request.polls[REP]) == 2
    await telegram.vote(REP, 1, telegram.request.polls[REP][0])
    with Session(poll_engine.db) as session:
        assert [a.question_id for a in session.exec(select(QuizAnswer)).all()] == ["poll01"], "either copy of the current question's poll counts"


def test_the_console_asks_poll_questions_with_buttons(poll_engine: Engine) -> None:
    rep = Chat(poll_engine, REP, lang="en")
    assert "question 1/4" in rep.text("/quiz poll_demo")
    assert [b.label for b in rep.buttons] == ["A", "B", "C"]
    assert "✅ Correct!" in rep.text("/2")


def question(**changes: object) -> Question:
    """A single-answer question at Telegram's limits, with `changes`."""
    data: dict[str, object] = {
        "id": "q1",
        "kind": "single",
        "difficulty": 1,
        "text": {"zh": "问" * 294, "en": "q" * 294},
        "options": [{"id": "a", "text": {"zh": "甲" * 100, "en": "a" * 100}}, {"id": "b", "text": {"zh": "乙", "en": "b"}}],
        "answer": ["a"],
        "explanation": {"zh": "释" * 200, "en": "line\nline\n" + "e" * 190},
    }
    return Question.model_validate({**data, **changes})


def test_a_question_fits_a_poll_up_to_telegrams_limits_and_no_further() -> None:
    assert misfits(question(), total=9) == [], "'[9/9] ' and 294 characters make 300"
    assert [m.reason for m in misfits(question(), total=10)] == [
        "its question (zh) is 302 characters with its number; a poll question has at most 300",
        "its question (en) is 302 characters with its number; a poll question has at most 300",
    ]
    long_option = question(options=[{"id": "a", "text": {"zh": "甲", "en": "a" * 100 + "😀"}}, {"id": "b", "text": {"zh": "乙", "en": "b"}}])
    assert [(m.field, m.reason) for m in misfits(long_option, total=1)] == [
        (("options", 0, "text"), "option 'a' (en) is 102 characters; a poll option has at most 100")
    ]
    three_breaks = question(explanation={"zh": "释", "en": "a\nb\nc\nd"})
    assert [m.reason for m in misfits(three_breaks, total=1)] == ["its explanation (en) has 3 line breaks; a poll explanation has at most 2"]
    eleven = question(options=[{"id": f"o{i}", "text": {"zh": "选", "en": "o"}} for i in range(11)], answer=["o1"])
    assert [m.reason for m in misfits(eleven, total=1)] == ["it has 11 options; a poll has at most 10"]
    several = question(kind="multiple", answer=["a", "b"])
    assert [m.field for m in misfits(several, total=1)] == [("kind",)]
    assert misfits(question(explanation={"zh": "释" * 201, "en": "e"}), total=1, langs=("en",)) == [], "each language on its own"
