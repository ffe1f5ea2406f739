"""The SPIN coach (/spin): a rep learns each step, writes questions, and gets them explained."""

from __future__ import annotations

import json

import pytest
from markupsafe import escape
from ruamel.yaml import YAML
from sqlmodel import Session

from bot.settings import Settings
from dialogs.coach.spin import lesson_for
from dialogs.coach.verdict import explanations
from dialogs.engine import Engine
from dialogs.understanding.classifier import RULES_DIR
from knowledge.loader import Knowledge
from storage.db import make_engine
from storage.spin_progress import ROUNDS_PER_STEP, SPIN_STAGES, spin_completed
from tests.chat import Chat, shown
from tests.conftest import make_telegram
from tests.telegram_fake import Call, FakeTelegram, texts

pytestmark = pytest.mark.both_databases

GOOD = {
    "situation": "How many people in your home use the internet?",
    "problem": "What are you unhappy with about the way it works now?",
    "implication": "How does that affect your monthly revenue?",
    "need_payoff": "If we fixed that, how would it help you?",
}


def situation(knowledge: Knowledge, stage: str, user_id: int, served: int, lang: str = "en") -> str:
    """The practice situation a rep is given: the rotation starts at the rep's id."""
    practice = lesson_for(knowledge.lessons.values(), stage).practice
    return practice[(user_id + served) % len(practice)].situation.get(lang)


def strong(knowledge: Knowledge, stage: str, user_id: int, served: int, lang: str = "en") -> str:
    practice = lesson_for(knowledge.lessons.values(), stage).practice
    return practice[(user_id + served) % len(practice)].strong_example.get(lang)


def button_in(calls: list[Call], label: str) -> str:
    """The callback data of a button on any message among `calls`."""
    for call in calls:
        markup = call.params.get("reply_markup")
        rows = (json.loads(markup) if isinstance(markup, str) else markup or {}).get("inline_keyboard", [])
        for button in (b for row in rows for b in row):
            if button["text"] == label:
                return str(button["callback_data"])
    raise AssertionError(f"no button {label!r}")


@pytest.fixture
def rep(engine: Engine) -> Chat:
    chat = Chat(engine, 4, lang="en")
    chat.send("/help")
    return chat


def test_a_rep_learns_all_four_steps_and_gets_a_summary(rep: Chat, engine: Engine, knowledge: Knowledge) -> None:
    text = rep.text("/spin")
    assert "SPIN coach" in text and "Step 1/4" in text and "Situation questions" in text
    assert "Example (" in text and "Practice 1/2" in text
    assert situation(knowledge, "situation", 4, 0) in text
    assert [b.label for b in rep.buttons] == ["🆓 Free practice", "⏭ Skip"]

    feedback = rep.text(GOOD["situation"])
    assert "✅ Yes, that is the type we asked for: situation question (S), first time!" in feedback
    assert "situation question (S): it asks for facts such as numbers, size or frequency (“how many”)" in feedback
    assert f"A stronger one: {strong(knowledge, 'situation', 4, 0)}" in feedback
    assert "Practice 2/2" in feedback and situation(knowledge, "situation", 4, 1) in feedback
    assert "Step 2/4" in rep.text(GOOD["situation"])

    miss = rep.text(GOOD["situation"])
    assert "❌ You wrote: situation question (S). We asked for: problem question (P)." in miss
    assert "Example, problem question (P)" in miss and "Try again" in miss
    assert "first time" not in rep.text(GOOD["problem"])
    rep.send(GOOD["problem"])
    for stage in ("implication", "need_payoff"):
        rep.send(GOOD[stage])
        with Session(engine.db) as session:
            assert not spin_completed(session, 4)
        last = rep.text(GOOD[stage])

    assert "All four steps done!" in last
    assert "situation question (S): 2/2 (100%)" in last
    assert "problem question (P): 1/2 (50%)" in last
    assert "implication question (I): 2/2 (100%)" in last and "need-payoff question (N): 2/2 (100%)" in last
    assert "Overall: 88%" in last and "role-plays are now unlocked" in last
    with Session(engine.db) as session:
        assert spin_completed(session, 4)
        assert not spin_completed(session, 5)
    assert "All four steps done!" in rep.text("/spin")


def test_two_misses_in_a_row_offer_a_hint_and_the_rep_may_skip(rep: Chat, knowledge: Knowledge) -> None:
    rep.send("/spin")
    rep.send(GOOD["situation"])
    rep.send(GOOD["situation"])
    rep.send(GOOD["situation"])
    assert [b.label for b in rep.buttons] == ["⏭ Skip"]
    assert "not a question yet" in rep.text("I can offer you a great deal.")
    assert [b.label for b in rep.buttons] == ["💡 Hint", "⏭ Skip"]

    hint = shown(rep.press("💡 Hint"))
    assert "Hint" in hint and "dissatisfaction, difficulties and worries" in hint

    skipped = shown(rep.press("⏭ Skip"))
    assert f"Skipped. A strong question for this situation (problem question (P)): {strong(knowledge, 'problem', 4, 0)}" in skipped
    assert "Practice 2/2" in skipped and situation(knowledge, "problem", 4, 1) in skipped
    rep.send(GOOD["problem"])
    assert "problem question (P): ✅ right first time 1/2 (50%)" in rep.text("/me")


def test_an_old_hint_button_expires_once_the_rep_moves_on(rep: Chat) -> None:
    rep.send("/spin")
    rep.send("Hello.")
    rep.send("Hello.")
    hint = rep.data_of("💡 Hint")
    rep.send(GOOD["situation"])
    assert [r.key for r in rep.press_data(hint)] == ["button_expired"]


def test_progress_outlives_cancel_and_a_restart(rep: Chat, engine: Engine, settings: Settings, knowledge: Knowledge) -> None:
    rep.send("/spin")
    rep.send(GOOD["situation"])
    rep.send("/cancel")
    rep.send("/quiz")
    restarted = Engine(make_engine(settings.database_url), engine.knowledge, engine.settings)
    again = Chat(restarted, 4, lang="en")
    text = again.text("/spin")
    assert "Welcome back! You are on step 1/4: situation question (S), with 1/2 situations done." in text
    assert situation(knowledge, "situation", 4, 1) in text
    again.send("Hello.")
    once_more = Chat(Engine(make_engine(settings.database_url), engine.knowledge, engine.settings), 4, lang="en")
    assert situation(knowledge, "situation", 4, 1) in once_more.text("/spin")
    assert "Step 2/4" in once_more.text(GOOD["situation"])


def test_reps_get_different_situations_each_round(engine: Engine, knowledge: Knowledge) -> None:
    first, second = Chat(engine, 10, lang="en"), Chat(engine, 11, lang="en")
    assert situation(knowledge, "situation", 10, 0) in first.text("/spin")
    assert situation(knowledge, "situation", 11, 0) in second.text("/spin")
    assert situation(knowledge, "situation", 10, 0) != situation(knowledge, "situation", 11, 0)
    assert situation(knowledge, "situation", 10, 1) in first.text(GOOD["situation"])


def test_free_practice_classifies_any_question_until_the_rep_leaves(rep: Chat) -> None:
    rep.send("/spin")
    assert "Free practice" in shown(rep.press("🆓 Free practice"))
    verdict = rep.text("这个问题会带来什么影响？")
    assert "→ open · implication question (I)" in verdict
    assert "implication question (I): it asks about the consequences, effects or cost of a problem (“影响”)" in verdict
    closed = rep.text("Are you happy with your current supplier?")
    assert "→ closed · problem question (P)" in closed and "(“are”)" in closed
    assert "That is not a question" in rep.text("We have the best prices in town.")
    assert "<b>" in rep.send("<b>What</b> happens then?")[0].data["text"]
    back = shown(rep.press("⬅ Back to the SPIN coach"))
    assert "Welcome back!" in back and "Practice 1/2" in back


def test_me_shows_spin_progress(rep: Chat) -> None:
    assert "SPIN coach: 0/4 steps done" in rep.text("/me") and "Type /spin" in rep.text("/me")
    rep.send("/spin")
    rep.send(GOOD["situation"])
    rep.send("Hello.")
    rep.send(GOOD["situation"])
    text = rep.text("/me")
    assert "SPIN coach: 1/4 steps done" in text
    assert "situation question (S): ✅ right first time 1/2 (50%)" in text
    assert "problem question (P): not started" in text


def test_the_coach_speaks_chinese(engine: Engine, knowledge: Knowledge) -> None:
    rep = Chat(engine, 6, lang="zh")
    text = rep.text("/spin")
    assert "SPIN 提问教练" in text and "第 1/4 步" in text and situation(knowledge, "situation", 6, 0, "zh") in text
    feedback = rep.text("您家里现在有几个人上网？")
    assert "✅ 对，这是背景问题（S），一次就对了！" in feedback
    assert "背景问题（S）：问数量、规模或频率这类事实（“几”）" in feedback
    miss = rep.text("你们对现在的快递有什么不满意的地方？")
    assert "❌ 你写的是难点问题（P），这一步要的是背景问题（S）。" in miss
    assert "难点问题（P）：问的是不满、困难或担心（“不满意”）" in miss and "再试一次" in miss


async def test_the_coach_on_telegram_resumes_after_a_restart(telegram: FakeTelegram, settings: Settings, engine: Engine, knowledge: Knowledge) -> None:
    await telegram.send(7, "/start", lang="en")
    await telegram.press(7, "English")
    sent = texts(await telegram.send(7, "/spin"))
    assert any("Step 1/4" in t for t in sent)
    feedback = texts(await telegram.send(7, "Do you use it for work?"))
    assert "<b>Why</b>" in feedback[0] and "first time" in feedback[0]
    await telegram.send(7, "Hi!")
    await telegram.send(7, "Hi!")
    assert "Hint" in texts(await telegram.press(7, "💡 Hint"))[0]
    skipped = texts(await telegram.press(7, "⏭ Skip"))
    assert "Skipped" in skipped[0] and "Step 2/4" in skipped[1]
    await telegram.app.shutdown()

    restarted = await make_telegram(settings, Engine(make_engine(settings.database_url), knowledge, engine.settings))
    try:
        calls = await restarted.send(7, "/spin")
        resumed = texts(calls)
        assert "step 2/4: problem question (P), with 0/2 situations done" in resumed[0]
        assert escape(situation(knowledge, "problem", 7, 0)) in resumed[1]
        free = texts(await restarted.press_data(7, button_in(calls, "🆓 Free practice")))
        assert "Free practice" in free[0]
        verdict = texts(await restarted.send(7, "If we could deliver daily, how would that help?"))
        assert "need-payoff question (N)" in verdict[0]
    finally:
        await restarted.app.shutdown()


def test_every_classifier_rule_is_explained_in_both_languages() -> None:
    ids = {rule["id"] for lang in ("zh", "en") for rule in YAML(typ="safe").load((RULES_DIR / f"{lang}.yaml").read_text(encoding="utf-8"))["rules"]}
    ids |= {"default_form", "default_spin", "no_question_cue", "no_words"}
    assert ids - set(explanations()) == set()


def test_every_step_has_a_lesson_with_examples_and_enough_practice(knowledge: Knowledge) -> None:
    for stage in SPIN_STAGES:
        lesson = lesson_for(knowledge.lessons.values(), stage)
        assert lesson.examples and len(lesson.practice) > ROUNDS_PER_STEP
