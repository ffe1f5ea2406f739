"""/scripts: reps browse the SPIN questioning scripts by industry and drill them."""

from __future__ import annotations

import pytest

from dialogs.engine import Engine
from knowledge.loader import Knowledge
from tests.chat import Chat, shown
from tests.telegram_fake import FakeTelegram, texts


@pytest.fixture
def rep(engine: Engine) -> Chat:
    chat = Chat(engine, 4, lang="en")
    chat.send("/help")
    return chat


def test_a_rep_browses_a_script_in_order(rep: Chat, knowledge: Knowledge) -> None:
    listing = rep.text("/scripts")
    assert "SPIN questioning scripts" in listing and "Fruit retail (8 questions)" in listing
    assert [b.label for b in rep.buttons] == [knowledge.scripts[s].industry.en for s in sorted(knowledge.scripts)]

    text = shown(rep.press("Fruit retail"))
    fruit = knowledge.scripts["fruit_retail"]
    assert fruit.customer.en[:40] in text
    positions = [text.index(step.question.en) for step in fruit.steps]
    assert positions == sorted(positions)
    assert "1. situation question (S)" in text and "8. need-payoff question (N)" in text
    assert f"Why: {fruit.steps[4].purpose.en}" in text and f"Customer: {fruit.steps[4].customer_answer.en}" in text
    assert [b.label for b in rep.buttons] == ["🎯 Drill this script", "📜 All scripts"]
    assert "Fruit retail (8 questions)" in shown(rep.press("📜 All scripts"))


def test_a_drill_checks_each_stage_and_shows_the_scripts_question(rep: Chat, knowledge: Knowledge) -> None:
    fruit = knowledge.scripts["fruit_retail"]
    rep.send("/scripts fruit_retail")
    start = shown(rep.press("🎯 Drill this script"))
    assert "I play the customer" in start and "Question 1/8" in start and "should be: situation question (S)" in start

    step = rep.text("How many people is the fruit for?")
    assert "✅ Right stage: situation question (S)." in step
    assert f"The script asks: {fruit.steps[0].question.en}" in step
    assert f"Customer: {fruit.steps[0].customer_answer.en}" in step and "Question 2/8" in step

    rep.send("Which fruit do you buy?")
    wrong = rep.text("How many apples do you buy each week?")
    assert "❌ You asked: situation question (S). This step calls for: problem question (P)." in wrong
    assert f"The script asks: {fruit.steps[2].question.en}" in wrong and "Question 4/8" in wrong

    for question in (
        "What are your colleagues unhappy about?",
        "How does that affect how your work is judged?",
        "What does that cost you each month?",
        "If we delivered, how would that help?",
    ):
        rep.send(question)
    done = rep.text("Would a weekly rotation help with the next survey?")
    assert f"Customer: {fruit.steps[-1].customer_answer.en}" in done
    assert "Drill done: 7 of 8 questions at the right stage." in done
    assert "Question 1/8" in shown(rep.press("🔁 Drill again"))


def test_an_unknown_script_or_stray_text_shows_the_list(rep: Chat) -> None:
    assert rep.keys("/scripts nope") == ["scripts_unknown", "scripts_list"]
    assert rep.keys("tell me more") == ["scripts_use_buttons", "scripts_list"]
    assert rep.keys("logistics") == ["scripts_show"]


async def test_scripts_on_telegram(telegram: FakeTelegram) -> None:
    await telegram.send(8, "/start")
    await telegram.press(8, "中文")
    assert "SPIN 提问话术" in texts(await telegram.send(8, "/scripts"))[0]
    shown_script = texts(await telegram.press(8, "水果零售"))[0]
    assert "<b>1. 背景问题（S）</b>" in shown_script and "目的：" in shown_script
    assert "第 1/8 问" in texts(await telegram.press(8, "🎯 练这个话术"))[0]
    feedback = texts(await telegram.send(8, "这些水果是给几个人吃的？"))
    assert "✅ 对，这一步要的就是背景问题（S）。" in feedback[0] and "话术里的问法" in feedback[0]
    assert "第 2/8 问" in feedback[1]
