"""A rep role-plays with a customer: choosing, hints, suggested moves, ending, restarts, exports."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session, select

from bot.settings import Settings
from dialogs.engine import Engine
from dialogs.pictures import charts
from dialogs.roleplay.customer import Progress
from dialogs.roleplay.replay import replay
from dialogs.roleplay.scorecard import score_roleplay
from knowledge.loader import Knowledge
from storage.access import add_member, create_team, grant_role
from storage.db import make_engine
from storage.models import RolePlay, RolePlayTurn
from storage.roleplays import export_records
from storage.users import preset_language
from tests.chat import Chat, shown
from tests.pictures import assert_picture, the_picture
from tests.telegram_fake import FakeTelegram, photos, texts

pytestmark = pytest.mark.both_databases


@pytest.fixture
def rep(engine: Engine) -> Chat:
    return Chat(engine, 5, name="Wang", lang="en")


# The story's third vendor: asks, hears why, congratulates, sells plums and kiwi, invites her back.
THIRD_VENDOR = (
    "What kind would you like?",
    "Why sour ones?",
    "Congratulations!",
    "A jin of these?",
    "Kiwi is full of vitamins, good for her. Some?",
    "Come again!",
)


def play_plum(chat: Chat, *lines: str) -> str:
    """The rep starts the plum case and says each line; what the bot answered to the last one."""
    chat.send("/roleplay plum")
    return [chat.text(line) for line in lines][-1]


def test_roleplay_lists_every_scenario_and_a_button_starts_one(rep: Chat, knowledge: Knowledge) -> None:
    text = rep.text("/roleplay")
    assert "Role-plays" in text and "/roleplay plum" in text
    assert len(rep.buttons) == len(knowledge.scenarios)
    assert rep.buttons[0].label.startswith("The old lady buys plums"), "the plum case comes first"
    text = shown(rep.press("The old lady buys plums (one trip, three stalls)"))
    assert "You run a fruit stall" in text and "Granny Li: How are your plums?" in text
    assert [b.label for b in rep.buttons] == ["💡 Ideas", "⏹ End"]


def test_the_customer_never_volunteers_her_reason(rep: Chat) -> None:
    rep.send("/roleplay plum")
    answer = rep.text("What kind of plums would you like?")
    assert "sour" in answer and "daughter-in-law" not in answer
    answer = rep.text("Nice weather today.")
    assert "daughter-in-law" not in answer and "pregnant" not in answer
    assert "daughter-in-law" in rep.text("Why do you want sour ones?")


def test_each_message_is_classified_where_the_rep_sees_it(rep: Chat) -> None:
    rep.send("/roleplay plum")
    assert "🔎 closed question" in rep.text("Would you like sweet ones or sour ones?")
    assert "🔎 open question · situation" in rep.text("What do you usually cook with plums?")
    assert "🔎 statement" in rep.text("Lovely morning.")


def test_nonsense_gets_an_answer_in_character(rep: Chat, knowledge: Knowledge) -> None:
    rep.send("/roleplay plum")
    answer = rep.text("asdf qwerty")
    vague = [t.en for s in knowledge.scenarios["plum"].states for t in s.unmatched] + [t.en for t in knowledge.scenarios["plum"].unmatched]
    assert any(line in answer for line in vague)
    assert "understand" not in answer.lower()


def test_eight_lines_she_cannot_follow_and_the_old_lady_walks_off(rep: Chat, knowledge: Knowledge) -> None:
    """Not understood is no strike, but it tires her: the count is kept between messages."""
    plum = knowledge.scenarios["plum"]
    rep.send("/roleplay plum")
    answers = [rep.text("asdf qwerty") for _ in range(plum.patience * plum.puzzled_per_strike)]
    assert "Scorecard" not in "".join(answers[:-1]) and "Scorecard" in answers[-1]


def test_hint_suggests_a_good_move_with_its_reason_and_can_say_it(rep: Chat) -> None:
    assert "not in a role-play" in rep.text("/hint")
    rep.send("/roleplay plum")
    text = rep.text("/hint")
    assert "What they are waiting for: She is waiting for you to ask what kind of plums she wants." in text
    assert "Try: Hello! I have sour plums and sweet ones. What kind would you like?" in text
    assert "Ask before you sell" in text
    answer = shown(rep.press(rep.buttons[0].label))
    assert "sour" in answer
    assert "She waits for you to ask why she wants sour ones" in rep.text("/hint")


def test_the_hint_button_says_the_good_line_whatever_order_the_ideas_are_in(rep: Chat) -> None:
    """The ideas are shown in a varied order; the hint's button must still say the hinted line (it once said idea 0)."""
    for _ in range(4):
        rep.send("/roleplay plum")
        rep.text("/hint")
        assert "sour" in shown(rep.press(rep.buttons[0].label))
        rep.send("/end")


def test_every_state_a_customer_talks_in_says_what_she_is_waiting_for(knowledge: Knowledge) -> None:
    """/hint can always name what the customer is waiting for in a shipped scenario."""
    missing = [(s.id, state.id) for s in knowledge.scenarios.values() for state in s.states if not state.outcome and state.waiting_for is None]
    assert missing == []


def test_ideas_offer_one_good_and_some_weak_moves_that_the_rep_can_tap(rep: Chat, db: DbEngine) -> None:
    rep.send("/roleplay plum")
    text = shown(rep.press("💡 Ideas"))
    assert "What kind would you like?" in text and "big and sweet" in text and "Special price" in text
    assert [b.label for b in rep.buttons] == ["💬 1", "💬 2", "💬 3", "⏹ End"]
    number = next(i for i, line in enumerate(text.splitlines()) if "What kind would you like?" in line)
    answer = shown(rep.press(f"💬 {number}"))
    assert "sour" in answer
    with Session(db) as session:
        [turn] = session.exec(select(RolePlayTurn)).all()
    assert turn.suggested and turn.move == "ask_kind" and turn.verdict["form"] in ("open", "closed")


def test_an_old_or_forged_suggestion_button_changes_nothing(rep: Chat, db: DbEngine) -> None:
    rep.send("/roleplay plum")
    rep.press("💡 Ideas")
    old = rep.data_of("💬 1")
    rep.send("What kind of plums would you like?")
    assert [r.key for r in rep.press_data(old)] == ["button_expired"]
    forged = old.rsplit("|", 1)[0] + "|rps:9"
    assert [r.key for r in rep.press_data(forged)] == ["button_expired"]
    with Session(db) as session:
        assert len(session.exec(select(RolePlayTurn)).all()) == 1


def test_end_stops_early_and_scores_what_happened(rep: Chat, db: DbEngine) -> None:
    text = play_plum(rep, "What kind of plums would you like?", "Why do you want sour ones?", "Here you go, a jin of sour ones.", "/end")
    assert "Outcome: Sold her sour plums (you ended the role-play)" in text
    assert "Score: 45/100" in text and "the second vendor" in text
    assert [b.label for b in rep.buttons] == ["🔁 Try again", "📖 Model conversation", "🎭 Other role-plays"]
    assert "not in a role-play" in rep.text("/end")
    with Session(db) as session:
        row = session.exec(select(RolePlay)).one()
    assert (row.outcome, row.score, row.facts_uncovered) == ("sale", 45, ["wants_sour", "dil_pregnant"])
    assert row.question_counts["questions"] == 2 and row.finished_at is not None


def test_model_conversation_and_try_again(rep: Chat, db: DbEngine) -> None:
    rep.send("/roleplay plum")
    rep.send("My plums are big and sweet!")
    text = shown(rep.press("📖 Model conversation"))
    assert "Model conversation" in text and "Seller: Hello! I have both sour and sweet plums." in text
    text = shown(rep.press("🔁 Try again"))
    assert "Granny Li:" in text
    with Session(db) as session:
        assert len(session.exec(select(RolePlay)).all()) == 2


def test_a_roleplay_survives_a_restart(db_url: str, knowledge: Knowledge, settings: Settings) -> None:
    first = Chat(Engine(make_engine(db_url), knowledge, settings.engine_settings()), 5, lang="en")
    first.send("/roleplay plum")
    first.send("What kind of plums would you like?")
    again = Chat(Engine(make_engine(db_url), knowledge, settings.engine_settings()), 5, lang="en")
    text = again.text("/roleplay")
    assert "in the middle of a role-play" in text and "sour" in text
    assert "daughter-in-law" in again.text("Who are they for?")


def test_starting_another_roleplay_or_cancelling_closes_the_unfinished_one(rep: Chat, db: DbEngine) -> None:
    rep.send("/roleplay plum")
    rep.send("What kind of plums would you like?")
    rep.send("/roleplay mop")
    assert rep.keys("/cancel") == ["cancelled"]
    with Session(db) as session:
        rows = session.exec(select(RolePlay).order_by(RolePlay.id)).all()  # type: ignore[arg-type]
    assert [(r.scenario_id, r.outcome, r.score) for r in rows] == [("plum", "abandoned", 19), ("mop", "abandoned", 0)]
    assert "latest: ended early" in rep.text("/me")


async def test_the_scorecard_comes_after_a_chart_of_the_questions_turn_by_turn(telegram: FakeTelegram) -> None:
    await telegram.send(5, "/roleplay plum")
    for line in ("这李子怎么样？", "您买李子是给谁吃的？", "如果买不到酸李子，会对她的胃口有什么影响？", "我帮您挑最酸的，这样对您有帮助吗？"):
        await telegram.send(5, line)
    sent = await telegram.send(5, "/end")
    [(caption, picture)] = photos(sent)
    assert caption == "📊 图表：你每一轮发言的 SPIN 提问类型。\n背景问题（S）：第 1、2 轮\n暗示问题（I）：第 3 轮\n需求-效益问题（N）：第 4 轮"
    assert_picture(picture, charts.SIZE)
    assert [c.method for c in sent if c.method in ("sendPhoto", "sendMessage")][-2:] == ["sendPhoto", "sendMessage"]
    assert "评分" in texts(sent)[-1]


def test_an_overlong_message_is_refused_and_the_roleplay_goes_on(rep: Chat, db: DbEngine) -> None:
    rep.send("/roleplay plum")
    assert rep.keys("x" * 5000) == ["too_long"]
    assert "sour" in rep.text("What kind of plums would you like?")
    with Session(db) as session:
        assert session.exec(select(RolePlay)).one().turns == 1


def test_unknown_scenario_is_named_and_the_list_shown(rep: Chat) -> None:
    text = rep.text("/roleplay bananas")
    assert "no role-play called “bananas”" in text and "Role-plays" in text


def test_same_transcript_same_score(engine: Engine) -> None:
    lines = ["What kind would you like?", "Why sour ones?", "Congratulations!", "A jin of these sour ones?", "Kiwi is rich in vitamins, want some?", "Bye!"]
    scores = []
    for user in (11, 12):
        scores.append(play_plum(Chat(engine, user, lang="en"), *lines))
    assert scores[0] == scores[1] and "Score: 81/100" in scores[0]


def test_scores_rank_the_vendors_as_the_story_does(engine: Engine) -> None:
    vendors = {
        "first": ["Big sweet plums here, the best!"],
        "second": ["What kind would you like?", "Here, a jin of sour ones?"],
        "third": list(THIRD_VENDOR),
    }
    scores = {}
    for user, (vendor, lines) in enumerate(vendors.items(), start=20):
        text = play_plum(Chat(engine, user, lang="en"), *lines)
        scores[vendor] = int(text.split("Score: ")[1].split("/")[0])
    assert scores["first"] < scores["second"] < scores["third"]


def test_export_roleplays_as_jsonl_and_csv(engine: Engine, db_url: str, tmp_path: Path) -> None:
    chat = Chat(engine, 5, lang="en")
    chat.send("/roleplay plum")
    chat.send("=What kind would you like?")
    chat.send("A jin of sour ones?")
    env = {"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}
    out = tmp_path / "rp.jsonl"
    subprocess.run([sys.executable, "-m", "bot", "export", "roleplays", "--format", "jsonl", "--out", str(out)], check=True, env=env, capture_output=True)
    [record] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert (record["rep_id"], record["scenario"], record["outcome"], record["score"]) == (5, "plum", "sale", 18)
    assert record["facts_uncovered"] == ["wants_sour"] and record["question_counts"]["questions"] == 2
    assert [t["rep"] for t in record["transcript"]] == ["=What kind would you like?", "A jin of sour ones?"]
    out = tmp_path / "rp.csv"
    subprocess.run([sys.executable, "-m", "bot", "export", "roleplays", "--format", "csv", "--out", str(out)], check=True, env=env, capture_output=True)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    [row] = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert row["outcome"] == "sale" and row["score"] == "18"
    assert json.loads(row["transcript"])[0]["rep"] == "=What kind would you like?"


def test_role_plays_join_a_reps_menu_once_the_spin_coach_is_done(rep: Chat, engine: Engine) -> None:
    rep.send("/menu")
    assert "🎭 Role-play" not in [b.label for b in rep.buttons]
    rep.send("/spin")
    for _ in range(8):
        text = shown(rep.press("⏭ Skip"))
    assert "All four steps done!" in text
    assert "🎭 Role-play" in [b.label for b in rep.buttons]
    rep.send("/menu")
    assert "🎭 Role-play" in [b.label for b in rep.buttons]
    trainer_or_admin = Chat(engine, 42, lang="en")
    trainer_or_admin.send("/menu")
    assert "🎭 Role-play" in [b.label for b in trainer_or_admin.buttons]


def test_me_shows_progress_as_a_chart_with_the_spin_mix_against_the_team(rep: Chat, engine: Engine) -> None:
    assert [r for r in rep.send("/me") if r.picture] == [], "nothing finished yet: no chart"
    with Session(engine.db) as session:
        team = create_team(session, "east")
        assert team is not None
        for uid in (rep.user_id, 12):
            add_member(session, uid, team.id or 0)
        session.commit()
    play_plum(
        rep,
        "What kind would you like?",
        "Who are the sour plums for?",
        "If she can't find sour plums, how will that affect her appetite?",
        "Would it help if I picked the sourest ones for her?",
        "/end",
    )
    play_plum(
        Chat(engine, 12, lang="en"),
        *THIRD_VENDOR,
    )
    chart = the_picture(rep.send("/me"), charts.WIDE)
    assert shown([chart]) == (
        "📊 Chart: your scores over time, and the mix of your SPIN questions in role-plays against your team's.\n"
        "Role-plays: 1 played, first 53, latest 53, best 53\n"
        "SPIN questions: situation question (S) 33% (team 67%) · problem question (P) 0% (team 0%) · implication question (I) 33% (team 17%) · need-payoff question (N) 33% (team 17%)"
    )


def test_me_shows_the_roleplays_played(rep: Chat) -> None:
    assert "None yet. Type /roleplay" in rep.text("/me")
    play_plum(rep, "Big sweet plums, the best!")
    play_plum(rep, "What kind would you like?", "A jin of these sour ones?")
    text = rep.text("/me")
    assert "The old lady buys plums (one trip, three stalls): played 2×, best 23, latest: Sold her sour plums" in text


def test_needs_uncovered_in_a_roleplay_reach_the_shared_store(rep: Chat, engine: Engine) -> None:
    play_plum(rep, "What kind would you like?", "Who are the sour plums for?", "/end")
    manager = Chat(engine, 42, lang="en")
    assert "No needs match" in manager.text("/needs")
    listing = manager.text("/needs source:roleplay")
    assert "Team needs (2)" in listing and "Granny Li · The old lady buys plums" in listing and "She wants sourish plums" in listing
    record = shown(manager.press(manager.buttons[0].label))
    assert "source: 🎭 role-play" in record and "Tags: plum" in record
    assert "Her daughter-in-law is going to have a baby" in record and "Evidence: turn 2: Who are the sour plums for?" in record


def test_trainers_see_how_their_team_did_in_a_roleplay(engine: Engine) -> None:
    with Session(engine.db) as session:
        team = create_team(session, "east")
        assert team is not None
        grant_role(session, 2, "trainer", 42)
        for uid in (2, 11, 12, 13):
            add_member(session, uid, team.id or 0)
            preset_language(session, uid, f"rep{uid}", "en")
    play_plum(Chat(engine, 11, name="Ann", lang="en"), "My plums are big and sweet!")
    play_plum(Chat(engine, 11, name="Ann", lang="en"), "What kind would you like?", "A jin of these sour ones?")
    play_plum(
        Chat(engine, 12, name="=Bob", lang="en"),
        *THIRD_VENDOR,
    )
    play_plum(Chat(engine, 99, name="Outsider", lang="en"), "What kind would you like?", "/end")

    trainer = Chat(engine, 2, lang="en")
    trainer.send("/results")
    replies = trainer.press("🎭 The old lady buys plums (one trip, three stalls)")
    text = shown(replies)
    assert "Role-play results: The old lady buys plums" in text
    assert "2 of 3 reps played · 3 role-plays finished" in text
    assert "Best score per rep: average 59.0 · median 59.0" in text
    assert "She shook her head and walked away: 1" in text and "She became a regular customer: 1" in text
    assert "Her daughter-in-law is going to have a baby and craves sour things (the reason behind the sour plums) — missed in 2 of 3" in text
    assert "• =Bob: 95" in text and "• Ann: 23" in text and "Outsider" not in text
    chart = the_picture(replies, charts.WIDE)
    assert chart.picture is not None and chart.picture.filename == "plum-roleplays.png"
    assert shown([chart]) == (
        "📊 Chart: how the role-plays ended, and the best score of each of the 2 reps who played, in bands of ten.\n"
        "Endings: Sold her sour plums: 1 · She shook her head and walked away: 1 · She became a regular customer: 1\n"
        "Best scores: 20–29: 1 · 90–100: 1"
    )
    document = next(r.document for r in trainer.press("⬇ CSV") if r.document)
    rows = list(csv.DictReader(io.StringIO(document.content.decode("utf-8-sig"))))
    assert sorted(int(r["rep_id"]) for r in rows) == [11, 11, 12]
    assert "not_allowed" in Chat(engine, 11, lang="en").keys("/results plum")


def test_results_for_an_unknown_id_say_so_and_offer_the_list(engine: Engine) -> None:
    admin = Chat(engine, 42, lang="en")
    text = admin.text("/results bananas")
    assert 'There is no quiz or role-play with the id "bananas"' in text and "pick a quiz (📝) or a role-play (🎭)" in text


def test_the_roleplay_export_reads_batch_by_batch_and_keeps_every_transcript(engine: Engine) -> None:
    for user in (11, 12, 13, 99):
        play_plum(Chat(engine, user, lang="en"), "What kind would you like?", "A jin of these sour ones?")
    with Session(engine.db) as session:
        records = list(export_records(session, "plum", scope={11, 12, 99}, batch=2))
    assert [r["rep_id"] for r in records] == [11, 12, 99]
    assert all([t["turn"] for t in r["transcript"]] == [1, 2] for r in records)


def test_the_archetype_names_only_behaviours_that_happened(knowledge: Knowledge) -> None:
    """A rude, hurrying rep who never praised sweet plums is not told they did; the outcome is named neutrally."""
    plum = knowledge.scenarios["plum"]
    outcome, card, _ = replay(plum, ["Look, old woman, are you buying or not? Hurry up.", "Take it or leave it, quick!", "Hurry!"], "en")
    assert outcome == "walked_away" and card.archetype == "" and card.archetype_unbacked
    assert not card.perfect
    _, pitcher, _ = replay(plum, ["My plums are big and sweet, take two jin!"], "en")
    assert "praised his big sweet plums" in pitcher.archetype
    for sc in knowledge.scenarios.values():
        for lang in ("zh", "en"):
            _, model, _ = replay(sc, [t.rep.get(lang) for t in sc.model_conversation], lang)
            claimed = next(a for a in sc.archetypes if a.label.get(lang) == model.archetype)
            assert claimed.needs, f"{sc.id}: the best archetype names behaviours, so it must need them"


def test_tips_and_praise_are_about_this_rep(knowledge: Knowledge) -> None:
    """The tip is the first thing this rep missed; 'you did everything' only when nothing was missed."""
    plum = knowledge.scenarios["plum"]
    _, partial, _ = replay(plum, ["What kind of plums are you after?"], "en")
    assert partial.missed and not partial.perfect
    assert partial.tip == plum.tips[1].text.get("en")  # asked what kind already: the next thing, asking why
    mop = knowledge.scenarios["mop"]
    _, model, _ = replay(mop, [t.rep.get("en") for t in mop.model_conversation], "en")
    assert model.tip == "" and model.perfect
    _, story, _ = replay(plum, [t.rep.get("zh") for t in plum.model_conversation], "zh")
    assert story.tip == "" and not story.missed and not story.perfect  # the rubric is full, question quality is not


@pytest.mark.parametrize(
    ("scenario", "lang", "lines", "kind", "turn"),
    [
        ("mop", "zh", ["张先生您好，我是XX清洁用品的小李。", "您帮我在小区里推一推，每卖一把我单独返您二十，不走账"], "improper_offer", 2),
        ("plum", "en", ["Look, old woman, are you buying or not?"], "rude", 1),
        ("insurance_call", "zh", ["刘女士您好，我是平安保险的小王。", "你老公一个月挣多少钱？"], "intrusive", 2),
    ],
)
def test_bad_conduct_costs_points_and_is_listed_with_its_turn(knowledge: Knowledge, scenario: str, lang: str, lines: list[str], kind: str, turn: int) -> None:
    """A reworded kickback, an insult and an intrusive question each cost the rule's points, shown with the turn."""
    sc = knowledge.scenarios[scenario]
    rule = sc.rules.conduct[kind]
    _, card, _ = replay(sc, lines, lang)
    incident = next(i for i in card.conduct if i.kind == kind)
    assert (incident.turn, incident.points, incident.label) == (turn, -rule.points, rule.label.get(lang))
    asking = card.asking
    assert asking is not None and card.rubric == sum(p.points for p in card.earned)
    assert card.score == max(
        0, min(100, card.rubric_points + asking.points + sum(i.points for i in card.conduct) - asking.leading_cost * len(asking.leading_turns))
    )
    _, clean, _ = replay(sc, lines[:-1], lang)
    assert not clean.conduct


def test_conduct_the_rubric_already_charged_is_not_charged_twice(knowledge: Knowledge) -> None:
    """The plum's own 'hurried the customer' penalty (-5) covers the generic hurrying rule (5): listed, costing 0."""
    _, card, _ = replay(knowledge.scenarios["plum"], ["Hurry up, buy now!"], "en")
    assert [(p.criterion, p.points) for p in card.earned] == [("pushy_penalty", -5)]
    assert [(i.kind, i.points, i.turn) for i in card.conduct] == [("hurrying", 0, 1)]


def test_seven_closed_situation_questions_cannot_score_above_the_question_quality_cap(knowledge: Knowledge) -> None:
    """Even with every rubric point earned, closed situation questions leave question quality at 0: the score stops at 100 - weight."""
    mop = knowledge.scenarios["mop"]
    everything = {n: 1 for c in mop.rubric if c.points > 0 for n in c.when.facts + c.when.flags}
    progress = Progress(state="trial", turn=7, marks=everything)
    closed = {"text": "Do you have a mop?", "is_question": True, "form": "closed", "spin": "situation", "acts": ["question"]}
    card = score_roleplay(mop, progress, "trial_with_addon", [closed] * 7, [], "en")
    weight = mop.rules.questions.weight
    assert card.rubric == 100 and card.asking is not None and card.asking.quality == 0
    assert card.score == card.asking.cap == 100 - weight
    spin = [{**closed, "form": "open", "spin": s} for s in ("situation", "problem", "implication", "need_payoff")]
    better = score_roleplay(mop, progress, "trial_with_addon", spin, [], "en")
    assert better.asking is not None and (better.asking.quality, better.score) == (100, 100)
    leading = score_roleplay(mop, progress, "trial_with_addon", [*spin, {**closed, "acts": ["leading"]}], [], "en")
    assert leading.asking is not None and leading.asking.leading_turns == (5,)
    assert leading.score == leading.asking.cap - mop.rules.questions.leading


def test_a_proposal_without_budget_and_timing_is_not_called_the_account_manager(knowledge: Knowledge) -> None:
    """The telecom account manager 'established budget and timing': a rep who booked the meeting without them reads the outcome only."""
    telecom = knowledge.scenarios["telecom_group"]
    manager = telecom.archetypes[-1]
    assert {"budget", "purchase_time"} <= set(manager.needs)
    asked = {"permission": 1, "ext_cost": 2, "pain_reimburse": 3}
    card = score_roleplay(telecom, Progress(state="proposal", turn=4, marks=asked), "proposal", [], [], "en")
    assert card.archetype == "" and card.archetype_unbacked
    told = score_roleplay(telecom, Progress(state="proposal", turn=6, marks={**asked, "budget": 4, "purchase_time": 5}), "proposal", [], [], "en")
    assert told.archetype == manager.label.get("en")
