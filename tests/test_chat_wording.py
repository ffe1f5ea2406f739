"""Finished screens in the chat: export formats named, labels cut at a word with "…", reps
without a name, plurals in both languages, pending team members."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session

from dialogs.core.events import shorten
from dialogs.engine import Engine
from dialogs.roleplay.scorecard import QuestionQuality, Scorecard
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


COUNTED_NOUN = re.compile(
    r"\}\}\s*(?:/\s*\{\{[^}]*\}\}\s*)?(?:[a-z-]+ )?(?:characters|bytes|needs|tags|situations|steps|points|turns|questions|reps|fields|uses|days|attempts|records|role-plays)\b|\bturn \{\{[^}]*join"
)


def test_no_english_template_puts_a_count_before_a_plural_by_hand() -> None:
    """A count and its noun go through ngettext, so that 1 reads '1 character' and '(turn 3)'."""
    hand_made = [(p.name, m.group(0)) for p in (TEMPLATE_DIR / "en").glob("*.j2") for m in COUNTED_NOUN.finditer(p.read_text(encoding="utf-8"))]
    assert hand_made == []


@pytest.mark.parametrize(
    ("key", "data", "one", "many"),
    [
        (
            "need_ask",
            {"editing": False, "number": 1, "total": 3, "label": "Customer", "required": True, "prompt": "Who?", "kind": "text", "current": ""},
            ("limit", "At most 1 character."),
            ("limit", "At most 2 characters."),
        ),
        (
            "need_invalid",
            {"reason": "tag_too_long", "label": "Tags", "tag": "x"},
            ("limit", "each tag has at most 1 character."),
            ("limit", "each tag has at most 2 characters."),
        ),
        (
            "need_invalid",
            {"reason": "too_many_tags", "label": "Tags", "limit": 10},
            ("count", '"Tags": 1 tag, at most 10'),
            ("count", '"Tags": 2 tags, at most 10'),
        ),
        (
            "console_file",
            {"path": "files/needs.csv", "name": "needs.csv"},
            ("size", "(file saved: files/needs.csv, 1 byte)"),
            ("size", "(file saved: files/needs.csv, 2 bytes)"),
        ),
        ("needs_export_too_many", {"limit": 0}, ("total", "1 need matches, more than"), ("total", "2 needs match, more than")),
        ("spin_intro", {"steps": ["S", "P"]}, ("rounds", "for 1 customer situation."), ("rounds", "for 2 customer situations.")),
        ("spin_resume", {"step": 1, "steps": 4, "stage": "S", "done": 0}, ("rounds", "with 0/1 situation done."), ("rounds", "with 0/2 situations done.")),
    ],
)
def test_a_count_of_one_reads_in_the_singular(key: str, data: dict[str, object], one: tuple[str, str], many: tuple[str, str]) -> None:
    (name, singular), (_, plural) = one, many
    assert singular in render("en", key, data | {name: 1})
    assert plural in render("en", key, data | {name: 2})


def test_the_scorecard_says_turn_for_one_and_turns_for_several() -> None:
    def card(turns: tuple[int, ...]) -> str:
        asking = QuestionQuality(
            weight=1,
            quality=100,
            points=1,
            questions=len(turns),
            open_turns=turns,
            problem_turns=turns,
            problem_turn=None,
            implication_turns=(),
            need_payoff_turns=(),
            leading_turns=turns,
            leading_cost=3,
        )
        counts = dict.fromkeys(("questions", "open", "closed", "situation", "problem", "implication", "need_payoff"), len(turns))
        scorecard = Scorecard("sale", "Sold", 50, question_counts=counts, asking=asking, lesson="Ask first.")
        return render("en", "roleplay_scorecard", {"title": "Plums", "early": False, "card": scorecard})

    one, several = card((3,)), card((3, 5))
    assert "1/1 point (quality 100%)" in one and "open questions: 1 of 1 (turn 3)" in one
    assert "problem questions: turn 3" in one and "leading questions: turn 3 (-3 each)" in one
    assert "open questions: 2 of 2 (turns 3, 5)" in several and "problem questions: turns 3, 5" in several and "leading questions: turns 3, 5" in several


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
    from knowledge.templates import counted

    assert (counted(1, "form"), counted(2, "form"), counted(1, "quiz", "quizzes"), counted(0, "quiz", "quizzes")) == (
        "1 form",
        "2 forms",
        "1 quiz",
        "0 quizzes",
    )


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
