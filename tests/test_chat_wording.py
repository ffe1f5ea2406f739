"""Finished screens in the chat: export formats named, labels cut at a word with "…", reps
without a name, plurals in both languages, pending team members."""

from __future__ import annotations

from sqlmodel import Session

from dialogs.core.events import shorten
from dialogs.engine import Engine
from knowledge.templates import TEMPLATE_DIR, render
from storage.access import add_member, create_team, grant_role
from storage.models import User
from tests.chat import shown
from tests.needs_helpers import log_need, manager, rep

ADMIN = 42


def test_an_unknown_export_format_names_the_formats(engine: Engine) -> None:
    boss = manager(engine, (5,))
    replies = boss.send("/export pdf")
    assert [r.key for r in replies] == ["needs_export_formats"]
    assert "There is no pdf export; formats: csv, xlsx, html" in shown(replies)


def test_labels_are_shortened_at_a_word_with_an_ellipsis() -> None:
    title = "Big accounts: questioning the whole buying committee"
    short = shorten(title, 30)
    assert short == "Big accounts: questioning the…" and len(short) <= 30
    assert shorten("大客户" * 30, 60) == ("大客户" * 30)[:59] + "…"
    assert shorten("Plums", 30) == "Plums"


def test_a_rep_without_a_name_shows_as_rep_and_their_id(engine: Engine) -> None:
    nameless = rep(engine, 1234, name="")
    with Session(engine.db) as session:
        user = session.get(User, 1234)
        assert user is not None
        user.name = ""
        session.add(user)
        session.commit()
    nameless.name = ""
    log_need(nameless)
    boss = manager(engine, (1234,))
    assert "Rep 1234" in boss.text("/needs")


def test_plurals_read_right_in_english_and_chinese() -> None:
    one = render("en", "needs_export", {"total": 1, "fmt": "csv", "filters": []})
    many = render("en", "needs_export", {"total": 2, "fmt": "csv", "filters": []})
    assert "1 need (csv)" in one and "2 needs (csv)" in many
    assert "1 条需求（csv）" in render("zh", "needs_export", {"total": 1, "fmt": "csv", "filters": []})
    assert [p.name for p in TEMPLATE_DIR.rglob("*.j2") if "(s)" in p.read_text(encoding="utf-8")] == []


def test_members_who_have_not_started_the_bot_are_pending(engine: Engine) -> None:
    with Session(engine.db) as session:
        team = create_team(session, "east")
        grant_role(session, 2, "trainer", ADMIN)
        add_member(session, 2, team.id)
        add_member(session, 555, team.id)
        session.commit()
    admin = rep(engine, ADMIN)
    admin.send("/team")
    members = shown(admin.press("east (2)"))
    assert "Rep 555 (555): ⏳ pending, has not started the bot yet" in members
    trainer = rep(engine, 2)
    progress = trainer.text("/push plum_case east")
    assert "sent 0 / 1" in progress and "1 of them has not started the bot yet" in progress


def test_the_validate_summary_counts_in_words() -> None:
    from knowledge.validate import counted

    assert (counted(1, "form"), counted(2, "form"), counted(1, "quiz", "quizzes"), counted(0, "quiz", "quizzes")) == ("1 form", "2 forms", "1 quiz", "0 quizzes")


def test_the_audit_log_names_people_and_teams(engine: Engine) -> None:
    with Session(engine.db) as session:
        team = create_team(session, "east")
        add_member(session, 555, team.id)
        session.commit()
    admin = rep(engine, ADMIN)
    admin.send("/team")
    admin.press("east (1)")
    admin.press("✖ Rep 555")
    log = admin.text("/audit")
    assert "rep42 · team.remove · ✅ allowed · 555 east" in log and "team=" not in log
