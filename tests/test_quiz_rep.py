"""A rep takes quizzes: one question at a time, buttons only, answers counted once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session, select

from bot.settings import Settings
from dialogs.engine import Engine
from knowledge.validate import load_knowledge
from storage.db import make_engine
from storage.models import QuizAnswer
from tests.chat import Chat, shown

pytestmark = pytest.mark.both_databases

CONTENT = Path(__file__).parent / "fixtures" / "content"


@pytest.fixture
def quiz_engine(db: DbEngine, settings: Settings) -> Engine:
    return Engine(db, load_knowledge((CONTENT,)), settings.engine_settings())


@pytest.fixture
def rep(quiz_engine: Engine) -> Chat:
    chat = Chat(quiz_engine, 4, lang="en")
    chat.send("/help")
    return chat


def test_a_rep_answers_all_three_kinds_and_gets_a_scorecard(rep: Chat) -> None:
    text = rep.text("/quiz demo_quiz")
    assert "question 1/3" in text and "What kind of plums" in text
    assert [b.label for b in rep.buttons] == ["A", "B"]

    feedback = rep.text("/2")
    assert "✅ Correct!" in feedback and "pregnant daughter-in-law" in feedback
    assert "question 2/3 (several answers" in feedback

    assert "Selected: A" in shown(rep.press("▫️ A"))
    assert "Selected: A, C" in shown(rep.press("▫️ C"))
    assert "Selected: A" in shown(rep.press("✅ C"))
    feedback = shown(rep.press("Submit"))
    assert "❌ Not quite. Answer: A. Situation; C. Implication" in feedback
    assert "question 3/3 (true or false)" in feedback

    result = shown(rep.press("✘ False"))
    assert "Answer: ✔ True" in result
    assert "Demo quiz: 33/100" in result and "1 of 3 right" in result and "not passed (pass mark 60)" in result
    assert "Which are SPIN question types?" in result and "A closed question" in result
    assert [b.label for b in rep.buttons] == ["🔁 Retake", "📌 Review mistakes only", "📝 All quizzes"]


def test_review_mistakes_only_asks_just_the_missed_questions(rep: Chat) -> None:
    rep.send("/quiz demo_quiz")
    rep.send("/1")
    rep.press("▫️ A")
    rep.press("▫️ C")
    rep.press("Submit")
    rep.press("✔ True")
    text = shown(rep.press("📌 Review mistakes only"))
    assert "question 1/1" in text and "What kind of plums" in text
    assert "(mistakes review): 100/100" in shown(rep.press("B"))


def test_a_submit_with_nothing_ticked_is_refused_politely(rep: Chat) -> None:
    rep.send("/quiz demo_quiz")
    rep.send("/2")
    replies = rep.press("Submit")
    assert [r.key for r in replies] == ["quiz_select_first"] and replies[0].notice


def test_pressing_twice_or_an_old_question_never_double_counts(rep: Chat, quiz_engine: Engine) -> None:
    rep.send("/quiz demo_quiz")
    first_answer = rep.data_of("B")
    rep.send("/2")
    again = rep.press_data(first_answer)
    assert [r.key for r in again] == ["quiz_already_answered"]
    with Session(quiz_engine.db) as session:
        assert len(session.exec(select(QuizAnswer)).all()) == 1


def test_typing_mid_quiz_changes_nothing_and_shows_the_question_again(rep: Chat) -> None:
    rep.send("/quiz demo_quiz")
    assert rep.keys("I think it is B") == ["quiz_use_buttons", "quiz_question"]
    assert "question 1/3" in rep.text("🍑🍑🍑")


def test_a_finished_quizs_buttons_are_refused(rep: Chat) -> None:
    rep.send("/quiz demo_quiz")
    rep.send("/2")
    rep.press("▫️ A")
    rep.press("▫️ C")
    rep.press("Submit")
    last = rep.data_of("✔ True")
    rep.press("✔ True")
    assert [r.key for r in rep.press_data(last)] == ["quiz_already_answered"]
    assert "Demo quiz: 1 attempt, best 100" in rep.text("/me")


def test_a_quiz_in_progress_survives_a_restart(quiz_engine: Engine, settings: Settings) -> None:
    rep = Chat(quiz_engine, 4, lang="en")
    rep.send("/quiz demo_quiz")
    rep.send("/2")
    restarted = Engine(make_engine(settings.database_url), quiz_engine.knowledge, quiz_engine.settings)
    again = Chat(restarted, 4, lang="en")
    assert "question 2/3" in again.text("where was I?")
    again.buttons = rep.buttons
    assert "Selected: A" in shown(again.press("▫️ A"))


def test_the_quiz_list_shows_best_scores(rep: Chat) -> None:
    rep.send("/quiz demo_quiz")
    rep.send("/2")
    rep.press("▫️ A")
    rep.press("▫️ C")
    rep.press("Submit")
    rep.press("✔ True")
    listing = rep.text("/quiz")
    assert "Demo quiz (3 questions) · best 100" in listing
    assert "Demo quiz" in [b.label for b in rep.buttons]
    assert "question 1/3" in shown(rep.press("Demo quiz"))


def test_an_unknown_quiz_id_lists_the_quizzes(rep: Chat) -> None:
    assert rep.keys("/quiz nope") == ["quiz_unknown", "quiz_list"]


def test_quiz_or_the_menus_quiz_button_mid_quiz_shows_the_question_the_rep_is_on(rep: Chat) -> None:
    rep.send("/quiz demo_quiz")
    rep.send("/2")
    text = rep.text("/quiz")
    assert "You are in the middle of" in text and "question 2/3" in text
    assert "question 2/3" in shown(rep.press_data("1|g|go:quiz"))
    assert "Selected: A" in shown(rep.press("▫️ A"))
    assert "question 1/3" in rep.text("/quiz demo_quiz")
