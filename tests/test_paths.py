"""Learning paths: a rep walks "SPIN basics" end to end through the PTB Application, step by step,
earns the certificate (a picture, captioned with its text), and a manager's /verify accepts its
code and refuses a forged one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session, select

from bot.settings import Settings
from dialogs.engine import Engine
from dialogs.pictures.certificate import SIZE
from knowledge.loader import Knowledge, load_dirs
from storage.access import add_member, create_team, grant_role
from storage.models import Assignment, StudyRecord, User, utcnow
from storage.spin_progress import ROUNDS_PER_STEP
from tests.chat import Chat, shown
from tests.conftest import make_telegram
from tests.pictures import assert_picture
from tests.telegram_fake import FakeTelegram, photos, polls, texts

pytestmark = pytest.mark.both_databases
REP, MANAGER, TRAINER = 7, 8, 6
CODE = re.compile(r"SC-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}")


def action_data(telegram: FakeTelegram, user_id: int, action: str) -> str:
    """The callback data of the latest keyboard's button whose action is `action`."""
    rows = telegram.last_markup[user_id]["markup"]["inline_keyboard"]
    found = [b["callback_data"] for row in rows for b in row if b["callback_data"].endswith(f"|{action}")]
    assert found, f"no button for {action} in {rows}"
    return found[0]


async def next_step(telegram: FakeTelegram, label: str = "▶ SPIN basics: next step") -> list[str]:
    """The rep opens /path and taps the next step of SPIN basics."""
    await telegram.send(REP, "/path", lang="en")
    return texts(await telegram.press(REP, label, lang="en"))


async def test_a_rep_walks_spin_basics_to_a_certificate_a_manager_can_verify(telegram: FakeTelegram, knowledge: Knowledge, db: DbEngine) -> None:
    await telegram.send(REP, "/start", lang="en")
    await telegram.press(REP, "English", lang="en")
    start = texts(await telegram.send(REP, "/path", lang="en"))[0]
    assert "<b>SPIN basics</b>" in start and "░░░░░░░░░░ 0 of 5 steps done" in start
    assert "Next: read the lesson “SPIN questioning: the overview”" in start and "Then 4 more steps:" in start
    assert action_data(telegram, REP, "pl:spin_overview")

    lesson = (await next_step(telegram))[0]
    assert "📖 <b>SPIN questioning: the overview</b>" in lesson and "✅ Lesson read" in lesson
    after_one = texts(await telegram.press(REP, "🧭 Back to my paths", lang="en"))[0]
    assert "▓▓░░░░░░░░ 1 of 5 steps done" in after_one and "Next: read the lesson “I, Implication questions" in after_one

    await next_step(telegram)
    drill_step = texts(await telegram.send(REP, "/path", lang="en"))[0]
    assert "2 of 5 steps done" in drill_step and "Next: drill the script “Fruit retail”: 6 of 8 questions at the right stage" in drill_step
    assert "Fruit retail" in (await next_step(telegram))[0]
    await telegram.press(REP, "🎯 Drill this script", lang="en")
    for step in knowledge.scripts["fruit_retail"].steps:
        done = texts(await telegram.send(REP, step.question.en, lang="en"))
    assert "<b>Drill done</b>: 8 of 8" in done[-1]

    quiz_step = texts(await telegram.send(REP, "/path", lang="en"))[0]
    assert "3 of 5 steps done" in quiz_step and "Next: the quiz “SPIN selling: the basics”: score 70 or more" in quiz_step
    shown = await telegram.press(REP, "▶ SPIN basics: next step", lang="en")
    for question in knowledge.quizzes["spin_basics"].questions:
        asked = polls(shown)
        if asked:  # spin_basics is a poll quiz: a single-answer question comes as a native quiz poll
            shown = await telegram.vote(REP, asked[-1]["correct_option_ids"][0], lang="en")
        elif question.kind == "multiple":
            for option in question.answer:
                await telegram.press_data(REP, action_data(telegram, REP, f"qt:{question.id}:{option}"), lang="en")
            shown = await telegram.press_data(REP, action_data(telegram, REP, f"qs:{question.id}"), lang="en")
        else:
            shown = await telegram.press_data(REP, action_data(telegram, REP, f"qa:{question.id}:{question.answer[0]}"), lang="en")
    assert "100/100" in texts(shown)[-1]

    roleplay_step = texts(await telegram.send(REP, "/path", lang="en"))[0]
    assert "4 of 5 steps done" in roleplay_step and "score 70 or more, with 1 implication question and 1 need-payoff question" in roleplay_step
    assert "This is the last step: the certificate comes with it." in roleplay_step
    await telegram.press(REP, "▶ SPIN basics: next step", lang="en")
    for turn in knowledge.scenarios["mop"].model_conversation:
        last = await telegram.send(REP, turn.rep.en, lang="en")
    certificate, image = photos(last)[-1]
    assert "🎓 <b>Certificate</b>" in certificate and "<b>Ann</b> has completed the learning path <b>SPIN basics</b>" in certificate
    assert_picture(image, SIZE)
    code = CODE.search(certificate)
    assert code is not None
    done = texts(await telegram.send(REP, "/path", lang="en"))[0]
    assert "▓▓▓▓▓▓▓▓▓▓ 5 of 5 steps done" in done and f"code <code>{code.group()}</code>" in done

    with Session(db) as session:
        grant_role(session, MANAGER, "manager", None)
        session.commit()
    genuine = texts(await telegram.send(MANAGER, f"/verify {code.group().lower()}", lang="en"))[0]
    assert f"✅ Certificate <code>{code.group()}</code> is genuine." in genuine and "<b>Ann</b> completed the learning path <b>SPIN basics</b>" in genuine
    forged = code.group()[:-1] + ("A" if code.group()[-1] != "A" else "B")
    assert "❌ No certificate has the code" in texts(await telegram.send(MANAGER, f"/verify {forged}", lang="en"))[0]
    assert "not allowed" in texts(await telegram.send(REP, f"/verify {code.group()}", lang="en"))[0].lower()


def test_a_step_done_early_counts_only_once_the_steps_before_it_are_met(engine: Engine) -> None:
    """The rep passes the SPIN basics quiz first: the path still waits for its lessons and the drill,
    in Chinese too."""
    rep = Chat(engine, 9, lang="zh")
    rep.send("/help")
    rep.send("/quiz spin_basics")
    assert "░░░░░░░░░░ 已完成 0/5 步" in rep.text("/path")
    rep.press("▶ SPIN 基础：下一步")
    listing = rep.text("/path")
    assert "▓▓░░░░░░░░ 已完成 1/5 步" in listing and "下一步：阅读课程《I 暗示问题" in listing


def company_knowledge(tmp_path: Path, path_id: str, path: str) -> Knowledge:
    """The shipped content plus one company path, written as YAML under `tmp_path`."""
    (tmp_path / "paths").mkdir()
    (tmp_path / "paths" / f"{path_id}.yaml").write_text(path, encoding="utf-8")
    knowledge, problems = load_dirs([tmp_path])
    assert problems == []
    return knowledge


async def test_a_lesson_read_in_the_spin_coach_meets_its_path_step(telegram: FakeTelegram) -> None:
    """The rep reads the overview from /path, then works through /spin up to its implication lesson
    (skipping the situations of S and P): /path counts that lesson as read, in Chinese."""
    await telegram.send(REP, "/path")
    await telegram.press(REP, "▶ SPIN 基础：下一步")
    await telegram.send(REP, "/spin")
    for _ in range(2 * ROUNDS_PER_STEP):
        skipped = texts(await telegram.press(REP, "⏭ 跳过"))
    assert "第 3/4 步" in skipped[1] and "I 暗示问题" in skipped[1]
    listing = texts(await telegram.send(REP, "/path"))[0]
    assert "▓▓▓▓░░░░░░ 已完成 2/5 步" in listing and "下一步：练话术“水果零售”：8 问里至少 6 问阶段正确" in listing


def test_a_drill_in_scripts_and_a_lesson_in_spin_earn_a_certificate_without_opening_path(db: DbEngine, tmp_path: Path) -> None:
    """A company path of a drill and the situation lesson: the rep drills the script from /scripts,
    then starts /spin, whose first lesson is the last step, and the certificate comes right there."""
    rep = Chat(Engine(db, company_knowledge(tmp_path, "drill_then_listen", DRILL_AND_LESSON)), 12, lang="en")
    rep.send("/help")
    rep.send("/scripts fruit_retail")
    rep.press("🎯 Drill this script")
    for step in rep.engine.knowledge.scripts["fruit_retail"].steps:
        done = rep.send(step.question.en)
    assert [r.key for r in done] == ["scripts_drill_feedback", "scripts_drill_result"]
    assert "▓▓▓▓▓░░░░░ 1 of 2 steps done" in rep.text("/path")
    spin = rep.send("/spin")
    assert [r.key for r in spin] == ["spin_intro", "spin_lesson", "spin_prompt", "path_certificate"]
    assert "has completed the learning path Drill then listen" in shown(spin[-1:])
    assert "Certified on" in rep.text("/path") and rep.keys("/spin") == ["spin_resume", "spin_prompt"]
    assert [r.key for r in rep.press("📖 The lesson again")] == ["spin_lesson", "spin_prompt"]
    with Session(db) as session:
        assert session.exec(select(StudyRecord.item_id).where(StudyRecord.user_id == 12, StudyRecord.kind == "lesson")).all() == ["spin_situation"]


ME_SAYS = {
    "en": {
        "none": "None yet. Type /path to see the learning paths.",
        "listen": "▶ Listen first: next step",
        "spin": "▶ SPIN basics: next step",
        "assigned": "• From the plum case to B2B 📌 due {due} (UTC): 0% (0 of 10 steps)\n  Next: the quiz “Case study: the old lady buying plums”: score",
        "certified": "• Listen first: 100% (1 of 1 step)\n  🎓 Certified on {date} · code <code>{code}</code>",
        "begun": "• SPIN basics: 20% (1 of 5 steps)\n  Next: read the lesson “I, Implication questions",
    },
    "zh": {
        "none": "还没有。输入 /path 查看学习路径。",
        "listen": "▶ 先听：下一步",
        "spin": "▶ SPIN 基础：下一步",
        "assigned": "• 从李子案例到大客户销售 📌 截止 {due}（UTC）：0%（已完成 0/10 步）\n  下一步：测验《案例：老太太买李子》：得分不低于",
        "certified": "• 先听：100%（已完成 1/1 步）\n  🎓 {date} 获得证书 · 编号 <code>{code}</code>",
        "begun": "• SPIN 基础：20%（已完成 1/5 步）\n  下一步：阅读课程《I 暗示问题",
    },
}


async def test_me_shows_each_path_assigned_or_begun_with_its_progress_next_step_and_certificate_code(db: DbEngine, settings: Settings, tmp_path: Path) -> None:
    """Two reps of a team (English and Chinese) are assigned the plum path with a deadline, earn the
    one-lesson company path and read SPIN basics' first lesson: /me shows all three, each with its
    percentage and next step or its certificate's code."""
    telegram = await make_telegram(settings, Engine(db, company_knowledge(tmp_path, "listening_first", ONE_LESSON), settings.engine_settings()))
    with Session(db) as session:
        team = create_team(session, "east")
        assert team is not None and team.id is not None
        grant_role(session, TRAINER, "trainer", None)
        for rep, lang in ((REP, "en"), (9, "zh")):
            session.add(User(id=rep, name=f"rep{rep}", lang=lang, chat_id=rep))
            add_member(session, rep, team.id)
        add_member(session, TRAINER, team.id)
        session.commit()
    try:
        assert "sent 0 / 2" in texts(await telegram.send(TRAINER, "/assign plum_to_b2b east 7d", lang="en"))[0]
        for rep, lang in ((REP, "en"), (9, "zh")):
            says = ME_SAYS[lang]
            with Session(db) as session:
                deadline = session.exec(select(Assignment.deadline)).one()
            assert deadline is not None
            await telegram.send(rep, "/path", lang=lang)
            caption, _ = photos(await telegram.press(rep, says["listen"], lang=lang))[0]
            code = CODE.search(caption)
            assert code is not None
            await telegram.send(rep, "/path", lang=lang)
            await telegram.press(rep, says["spin"], lang=lang)
            shown_me = texts(await telegram.send(rep, "/me", lang=lang))[0]
            assert says["assigned"].format(due=deadline.strftime("%Y-%m-%d %H:%M")) in shown_me
            assert says["certified"].format(date=utcnow().date().isoformat(), code=code.group()) in shown_me
            assert says["begun"] in shown_me
    finally:
        await telegram.app.shutdown()


def test_me_says_there_is_no_path_yet(engine: Engine) -> None:
    for lang, says in ME_SAYS.items():
        assert says["none"] in Chat(engine, 20 if lang == "en" else 21, lang=lang).text("/me")


def test_a_certificate_is_given_once_and_stays_in_the_list(db: DbEngine, tmp_path: Path) -> None:
    """A company path of one lesson: reading it earns the certificate, opening /path again earns no
    second one, and the list shows the code."""
    knowledge = company_knowledge(tmp_path, "listening_first", ONE_LESSON)
    rep = Chat(Engine(db, knowledge), 10, lang="en")
    rep.send("/help")
    rep.send("/path")
    first = rep.press("▶ Listen first: next step")
    assert [r.key for r in first] == ["path_lesson", "path_certificate"]
    code = first[1].data["code"]
    rep.press("🧭 Back to my paths")
    assert rep.keys("/path") == ["path_list"] and [b.label for b in rep.buttons] == ["▶ SPIN basics: next step", "▶ From the plum case to B2B: next step"]
    assert f"Certified on {first[1].data['date']} · code {code}" in rep.text("/path")

    chinese = Chat(Engine(db, knowledge), 11, lang="zh")
    chinese.send("/help")
    chinese.send("/path")
    earned = shown(chinese.press("▶ 先听：下一步"))
    assert "🎓 结业证书" in earned and "已完成学习路径 先听" in earned and "会倾听" in earned


ONE_LESSON = """id: listening_first
order: 0
title: {zh: 先听, en: Listen first}
description: {zh: 一课, en: One lesson}
certificate: {zh: 会倾听, en: Listens}
steps:
  - lesson: listening
"""

DRILL_AND_LESSON = """id: drill_then_listen
order: 0
title: {zh: 先练后学, en: Drill then listen}
description: {zh: 一个话术和一课, en: A drill and a lesson}
certificate: {zh: 会背景问题, en: Asks situation questions}
steps:
  - drill: fruit_retail
    min_right: 6
  - lesson: spin_situation
"""
