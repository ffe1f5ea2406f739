"""Reps log customer needs with /need: the guided form, drafts, edits, and what is saved."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from dialogs.engine import Engine
from knowledge.templates import render
from storage.db import make_engine
from storage.models import Need, NeedChange, NeedDraft, NeedTag, utcnow
from storage.needs import record_need
from tests.chat import Chat, shown
from tests.needs_helpers import EN_ANSWERS, ZH_ANSWERS, answer_all, rep

pytestmark = pytest.mark.both_databases


def saved_needs(engine: Engine) -> list[Need]:
    with Session(engine.db) as session:
        return list(session.exec(select(Need)).all())


def test_a_rep_fills_the_whole_form_in_english(engine: Engine) -> None:
    ann = rep(engine, 5)
    intro = ann.text("/need")
    assert "Log a customer need" in intro and "Field 1/15 · Customer company (required *)" in intro
    assert "⏭ Skip" not in [b.label for b in ann.buttons]
    answer_all(ann, dict(list(EN_ANSWERS.items())[:-1]), "en")
    summary = ann.text(EN_ANSWERS["tags"])
    assert "please check" in summary
    for line in (
        "Customer company *: Acme Fruit Ltd",
        "Contact's role in the purchase: Decider",
        "Budget (yuan): 50,000",
        "Purchase date: 2026-03-15",
        "Priority *: P1 important and urgent",
        "Tags: price, supply",
    ):
        assert line in summary
    saved = shown(ann.press("✅ Save"))
    assert "Reference number N-000001" in saved
    assert "💡 A thorough record" in saved
    [need] = saved_needs(engine)
    assert need.fields["budget"] == 50_000 and need.fields["timeline"] == "2026-03-15" and need.fields["contact_role"] == "decider"
    assert (need.source, need.lang, need.priority, need.customer) == ("field", "en", "p1", "Acme Fruit Ltd")
    with Session(engine.db) as session:
        assert session.get(NeedDraft, 5) is None
        assert set(session.exec(select(NeedTag.tag)).all()) == {"price", "supply"}
        assert [c.action for c in session.exec(select(NeedChange)).all()] == ["created"]


def test_a_rep_fills_the_whole_form_in_chinese(engine: Engine) -> None:
    li = rep(engine, 6, "zh")
    assert "第 1/15 项 · 客户单位（必填 *）" in li.text("/need")
    answer_all(li, dict(list(ZH_ANSWERS.items())[:-1]), "zh")
    summary = li.text(ZH_ANSWERS["tags"])
    assert "请核对" in summary and "预算（元）：50,000" in summary and "采购时间：2026-03-15" in summary and "标签：婚宴, 供货" in summary
    saved = shown(li.press("✅ 保存"))
    assert "编号 N-000001" in saved and "记录得很完整" in saved


def test_optional_fields_can_be_skipped_and_the_remark_names_the_first_gap(engine: Engine) -> None:
    ann = rep(engine, 5)
    answers: dict[str, str | None] = dict.fromkeys(EN_ANSWERS)
    answers.update(
        customer_company="Acme",
        situation="Small shop",
        problems="Late deliveries",
        explicit_needs="Faster delivery",
        next_step="Call on Monday",
        priority="P2 important, not urgent",
    )
    ann.send("/need")
    answer_all(ann, answers, "en")
    saved = shown(ann.press("✅ Save"))
    assert "recorded problems but no implications" in saved and "what the problem costs them" in saved
    [need] = saved_needs(engine)
    assert set(need.fields) == {"customer_company", "situation", "problems", "explicit_needs", "next_step", "priority"}


def test_a_required_field_cannot_be_skipped(engine: Engine) -> None:
    ann = rep(engine, 5)
    ann.send("/need")
    assert '"Customer company" is required' in ann.text("skip")
    li = rep(engine, 6, "zh")
    li.send("/need")
    assert "“客户单位”是必填项，不能跳过" in li.text("跳过")


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("customer_company", "x" * 101, "too long: 101 characters, the limit is 100"),
        ("contact_role", "the boss", "please tap one of the buttons"),
        ("situation", "y" * 1001, "the limit is 1000"),
        ("budget", "lots", "needs a number"),
        ("budget", "-5", "out of range: enter a number from 0 to 1,000,000,000"),
        ("timeline", "next spring", "needs a date in the form 2026-03-15"),
        ("timeline", "2026-02-30", "that day does not exist"),
        ("timeline", "1999-01-01", "between 2000 and 2100"),
        ("tags", ",".join(f"t{i}" for i in range(11)), "11 tags, at most 10"),
        ("tags", "a" * 31, "too long; each tag has at most 30"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_lost(engine: Engine, field: str, bad: str, message: str) -> None:
    ann = rep(engine, 5)
    ann.send("/need")
    before = list(EN_ANSWERS)[: list(EN_ANSWERS).index(field)]
    answer_all(ann, {k: EN_ANSWERS[k] for k in before}, "en")
    answer = ann.text(bad)
    assert message in answer and "Everything you entered so far is kept" in answer
    with Session(engine.db) as session:
        draft = session.get(NeedDraft, 5)
        assert draft is not None and list(draft.values) == before
    if field in ("contact_role",):
        ann.press(EN_ANSWERS[field])
    else:
        ann.send(EN_ANSWERS[field])
    with Session(engine.db) as session:
        draft = session.get(NeedDraft, 5)
        assert draft is not None and field in draft.values


def test_choices_can_also_be_typed_and_numbers_read_generously(engine: Engine) -> None:
    ann = rep(engine, 5)
    ann.send("/need")
    answer_all(ann, {k: EN_ANSWERS[k] for k in ("customer_company", "contact_name")}, "en")
    assert "Field 4/15" in ann.text("decider")
    ann.send("2")
    for key in ("situation", "problems", "implications", "explicit_needs", "latent_needs"):
        ann.send(EN_ANSWERS[key])
    ann.send("¥1,250,000 yuan")
    with Session(engine.db) as session:
        draft = session.get(NeedDraft, 5)
        assert draft is not None and draft.values["contact_role"] == "decider" and draft.values["channel"] == "visit" and draft.values["budget"] == 1_250_000


def test_the_summary_lets_the_rep_change_any_field(engine: Engine) -> None:
    ann = rep(engine, 5)
    ann.send("/need")
    answer_all(ann, {**EN_ANSWERS, "budget": None}, "en")
    ann.press("✏ Edit")
    asked = shown(ann.press("Budget (yuan)"))
    assert "✏ Change · Budget (yuan)" in asked
    assert "Budget (yuan): 80,000" in ann.text("80000")
    ann.press("✏ Edit")
    assert "Current answer: P1 important and urgent" in shown(ann.press("Priority"))
    assert "Priority *: P3 follow up later" in shown(ann.press("P3 follow up later"))
    ann.press("✏ Edit")
    ann.press("Tags")
    assert "Tags: —" in shown(ann.press("🧹 Clear this field"))
    ann.press("✏ Edit")
    ann.press("Customer company")
    assert "Customer company *: Acme Fruit Ltd" in shown(ann.press("⬅ Back"))
    ann.press("✅ Save")
    [need] = saved_needs(engine)
    assert need.fields["budget"] == 80_000 and need.priority == "p3" and "tags" not in need.fields


def test_discarding_in_the_summary_saves_nothing(engine: Engine) -> None:
    ann = rep(engine, 5)
    ann.send("/need")
    answer_all(ann, EN_ANSWERS, "en")
    assert "discarded and not saved" in shown(ann.press("🗑 Discard"))
    assert saved_needs(engine) == []
    assert "Field 1/15" in ann.text("/need")


def test_a_draft_survives_cancel_other_dialogs_and_a_restart(engine: Engine) -> None:
    ann = rep(engine, 5)
    ann.send("/need")
    answer_all(ann, {k: EN_ANSWERS[k] for k in ("customer_company", "contact_name")}, "en")
    assert "left the exercise" in ann.text("/cancel")
    ann.send("/quiz")
    restarted = Engine(make_engine(str(engine.db.url)), engine.knowledge, engine.settings)
    again = Chat(restarted, 5, lang="en")
    offer = again.text("/need")
    assert "unfinished need (Acme Fruit Ltd) with 2 fields" in offer
    assert "Field 3/15 · Contact's role" in shown(again.press("▶ Continue"))
    answer_all(again, dict(list(EN_ANSWERS.items())[2:]), "en")
    again.press("✅ Save")
    [need] = saved_needs(engine)
    assert need.fields["contact_name"] == "Director Li, office"


def test_keeping_a_draft_for_later_and_starting_over(engine: Engine) -> None:
    ann = rep(engine, 5)
    ann.send("/need")
    ann.send("Acme")
    assert "Draft kept" in shown(ann.press("💾 Keep as draft, finish later"))
    ann.send("/need")
    assert "Field 1/15" in shown(ann.press("🔄 Start over"))
    with Session(engine.db) as session:
        draft = session.get(NeedDraft, 5)
        assert draft is not None and draft.values == {}


def test_a_crash_between_confirm_and_commit_leaves_the_draft(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    ann = rep(engine, 5)
    ann.send("/need")
    answer_all(ann, EN_ANSWERS, "en")
    save = ann.data_of("✅ Save")

    def crash(*args: object) -> int:
        raise RuntimeError("power cut")

    monkeypatch.setattr("dialogs.engine.save_state", crash)
    with pytest.raises(RuntimeError):
        ann.press_data(save)
    monkeypatch.undo()
    assert saved_needs(engine) == []
    with Session(engine.db) as session:
        assert session.exec(select(NeedChange)).all() == []
        draft = session.get(NeedDraft, 5)
        assert draft is not None and draft.values["customer_company"] == "Acme Fruit Ltd"
    assert "Reference number N-" in shown(ann.press_data(save))
    assert len(saved_needs(engine)) == 1


def test_what_a_rep_typed_is_escaped_when_shown_again(engine: Engine) -> None:
    ann = rep(engine, 5)
    ann.send("/need")
    answers = {**EN_ANSWERS, "customer_company": "<b>Evil</b> & Co", "situation": '<a href="x">click</a>'}
    answer_all(ann, dict(list(answers.items())[:-1]), "en")
    summary = "\n".join(render(r.lang, r.key, r.data) for r in ann.send(answers["tags"]))
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in summary and "&lt;a href=&#34;x&#34;&gt;click&lt;/a&gt;" in summary
    saved = "\n".join(render(r.lang, r.key, r.data) for r in ann.press("✅ Save"))
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in saved and "<b>Evil</b>" not in saved and "<a href" not in saved


def test_record_need_is_the_door_for_role_play_needs(engine: Engine) -> None:
    with Session(engine.db) as session:
        need = record_need(
            session,
            rep_id=5,
            source="roleplay",
            fields={"customer_company": "老太太", "explicit_needs": "酸李子", "priority": "p2", "tags": ["Plum", "plum", " 孕期 "]},
            lang="zh",
            at=utcnow(),
            roleplay_id=17,
            evidence="turn 3: 'why sour ones?'",
        )
        assert need.ref == "N-000001"
        [change] = session.exec(select(NeedChange)).all()
        assert change.action == "created"
        with pytest.raises(TypeError):
            record_need(session, rep_id=5, source="roleplay", fields={"tags": "plum"}, lang="zh", at=utcnow())
        with pytest.raises(ValueError):
            record_need(session, rep_id=5, source="chat", fields={}, lang="zh", at=utcnow())
        session.rollback()
    assert saved_needs(engine) == []
    with Session(engine.db) as session:
        need = record_need(
            session,
            rep_id=5,
            source="roleplay",
            fields={"customer_company": "老太太", "tags": ["Plum", "plum", " 孕期 "]},
            lang="zh",
            at=utcnow(),
            roleplay_id=17,
            evidence="turn 3",
        )
        session.commit()
        assert need.fields["tags"] == ["plum", "孕期"] and need.roleplay_id == 17 and need.evidence == "turn 3"
