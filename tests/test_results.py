"""Trainers read quiz results and export them (CSV, XLSX, xAPI JSON lines)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session

from dialogs.engine import Engine
from dialogs.pictures import charts
from storage.access import add_member, create_team, grant_role
from storage.models import QuizAttempt, RolePlay, utcnow
from storage.roleplay_tallies import recount, roleplay_results
from storage.users import preset_language
from tests.chat import Chat, shown
from tests.cli_lines import in_english
from tests.pictures import the_picture

pytestmark = pytest.mark.both_databases

ADMIN = 42


def take_plum_quiz(chat: Chat, pick: str) -> None:
    """Answer every question of plum_case with option `pick` (submitting multiple choices)."""
    chat.send("/quiz plum_case")
    for _ in range(40):
        actions = [b.action for b in chat.buttons]
        if any(a.startswith("qr:") for a in actions):
            return
        chat.send(pick)
        if any(b.action.startswith("qs:") for b in chat.buttons):
            chat.send(f"/{next(i for i, b in enumerate(chat.buttons, 1) if b.action.startswith('qs:'))}")


def setup(engine: Engine) -> Chat:
    with Session(engine.db) as session:
        team = create_team(session, "east")
        grant_role(session, 2, "trainer", ADMIN)
        for uid in (2, 11, 12, 13):
            add_member(session, uid, team.id)
            preset_language(session, uid, f"rep{uid}", "en")
    trainer = Chat(engine, 2, lang="en")
    trainer.send("/push plum_case east")
    take_plum_quiz(Chat(engine, 11, name="=HYPERLINK(1)", lang="en"), "/1")
    take_plum_quiz(Chat(engine, 12, lang="en"), "/2")
    Chat(engine, 13, lang="en").send("/quiz plum_case")
    return trainer


def test_a_trainer_sees_completion_scores_and_the_most_missed_questions(engine: Engine) -> None:
    trainer = setup(engine)
    text = trainer.text("/results plum_case")
    assert "3 pushed or taking part · 2 finished · 1 in progress · 0 not started" in text
    assert "average" in text and "median" in text and "pass rate" in text
    assert "Most missed questions" in text and "most chose" in text
    assert "not allowed" in Chat(engine, 11, lang="en").text("/results plum_case")


def test_results_export_in_telegram_as_files(engine: Engine) -> None:
    trainer = setup(engine)
    trainer.send("/results plum_case")
    excel, xapi = trainer.data_of("⬇ Excel"), trainer.data_of("⬇ xAPI")
    [reply] = [r for r in trainer.press("⬇ CSV") if r.document]
    assert reply.document is not None and reply.document.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(reply.document.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["user_id", "name", "quiz_id"] and len(rows) == 3
    assert rows[1][1] == "'=HYPERLINK(1)"
    assert trainer.buttons == [], "after the file the console's numbers lapse; the message's own buttons still work"
    [xlsx] = [r for r in trainer.press_data(excel) if r.document]
    sheet = load_workbook(io.BytesIO(xlsx.document.content)).active  # type: ignore[union-attr]
    header, first = list(sheet.iter_rows(max_row=2))
    assert [c.value for c in header][:3] == ["user_id", "name", "quiz_id"]
    assert (first[1].value, first[1].data_type) == ("=HYPERLINK(1)", "s"), "formula-like text is a text cell, no visible quote"
    [jsonl] = [r for r in trainer.press_data(xapi) if r.document]
    assert jsonl.document is not None and jsonl.document.filename == "plum_case-results.jsonl"
    assert json.loads(jsonl.document.content.splitlines()[0])["verb"]["display"]["en-US"] == "answered"


def test_cli_exports_xapi_statements(engine: Engine, db_url: str, tmp_path: Path) -> None:
    setup(engine)
    out = tmp_path / "results.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "export", "quiz-results", "--format", "jsonl", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin", "XAPI_BASE_URL": "https://lms.example.org/coach/"},
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    statements = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    verbs = {s["verb"]["display"]["en-US"] for s in statements}
    assert "answered" in verbs and verbs & {"passed", "failed"}
    final = [s for s in statements if s["verb"]["display"]["en-US"] in ("passed", "failed")]
    assert len(final) == 2 and all(s["actor"]["account"]["homePage"] == "https://t.me" and "score" in s["result"] for s in final)
    assert {s["object"]["id"] for s in final} == {"https://lms.example.org/coach/quiz/plum_case"}
    assert in_english(done.stderr.strip()) == f"salescoach: wrote {len(statements)} records to {out}"


def test_roleplay_results_are_counted_by_the_database_as_they_were_row_by_row(db: DbEngine) -> None:
    """Best score per rep, outcomes (unfinished ends as abandoned) and needs uncovered, within the scope only."""
    finished = utcnow()
    plays = [
        (11, "sale", 40, ["wants_sour", "dil_pregnant"]),
        (11, "walked_away", None, ["wants_sour"]),
        (11, "sale", 80, []),
        (12, None, None, []),
        (12, "sale", 80, ["dil_pregnant"]),
        (13, "walked_away", 10, ["wants_sour"]),
        (99, "sale", 100, ["wants_sour"]),
    ]
    with Session(db) as session:
        preset_language(session, 11, "Ann", "en")
        for user_id, outcome, score, facts in plays:
            session.add(RolePlay(user_id=user_id, scenario_id="plum", state="end", outcome=outcome, score=score, facts_uncovered=facts, finished_at=finished))
        session.add(RolePlay(user_id=11, scenario_id="plum", state="bargaining", facts_uncovered=["wants_sour"]))
        session.add(RolePlay(user_id=11, scenario_id="mop", state="end", outcome="sale", score=90, facts_uncovered=["x"], finished_at=finished))
        session.flush()
        recount(session)  # written past finish_roleplay, as a bulk load would be
        session.commit()
        results = roleplay_results(session, "plum", {11, 12, 13, 14})
        everyone = roleplay_results(session, "plum", None)
        nobody = roleplay_results(session, "plum", set())
    assert (results.reps, results.played, results.best) == (4, 6, {11: 80, 12: 80, 13: 10})
    assert results.names == {11: "Ann", 12: "", 13: ""}  # no name: shown as "Rep 12"
    assert results.outcomes == Counter({"sale": 3, "walked_away": 2, "abandoned": 1})
    assert results.uncovered == Counter({"wants_sour": 3, "dil_pregnant": 2})
    assert (results.average, results.median) == (56.7, 80.0)
    assert (everyone.reps, everyone.played, everyone.best[99], everyone.uncovered["wants_sour"]) == (4, 7, 100, 4)
    assert (nobody.played, nobody.best, nobody.outcomes, nobody.uncovered) == (0, {}, Counter(), Counter())


def test_the_scores_come_as_a_chart_with_the_pass_mark_and_say_what_it_shows(engine: Engine) -> None:
    trainer = setup(engine)
    chart = the_picture(trainer.send("/results plum_case"), charts.SIZE)
    assert chart.picture is not None and chart.picture.filename == "plum_case-scores.png"
    assert shown([chart]) == (
        "📊 Chart: the scores of the 2 reps who finished, in bands of ten, and the pass mark at 70.\n20–29: 2\n0 of 2 at or above the pass mark."
    )


def test_the_score_bands_of_a_few_hundred_reps_count_each_reps_latest_finished_attempt(engine: Engine) -> None:
    """350 reps took plum_case (pass mark 70); each counts once, with their latest finished full run."""
    start = utcnow() - timedelta(days=10)
    latest_scores = [55] * 100 + [60] * 50 + [79] * 50 + [89] * 60 + [100] * 40
    with Session(engine.db) as session:
        for rep, score in enumerate(latest_scores, 1000):  # each did better or worse before; a review run counts for nothing
            for day, (mode, points) in enumerate((("full", 100 - score), ("full", score), ("review", 0))):
                session.add(attempt(rep, mode, start + timedelta(days=day), points))
        for rep in range(2000, 2020):  # finished with 90, then began again and stopped
            session.add(attempt(rep, "full", start, 90))
            session.add(QuizAttempt(user_id=rep, quiz_id="plum_case", started_at=start + timedelta(days=1)))
        for rep in range(3000, 3030):  # began and stopped
            session.add(QuizAttempt(user_id=rep, quiz_id="plum_case", started_at=start))
        session.commit()
    text = Chat(engine, ADMIN, lang="en").text("/results plum_case")
    assert "350 pushed or taking part · 320 finished · 30 in progress · 0 not started" in text
    assert "average 73.7 · median 79.0 · pass rate 53%" in text
    assert "Scores: 0–59: 100 · 60–69: 50 · 70–79: 50 · 80–89: 60 · 90–100: 60" in text


def attempt(rep: int, mode: str, started: datetime, score: int) -> QuizAttempt:
    """A finished run through plum_case, passed at 70."""
    return QuizAttempt(
        user_id=rep, quiz_id="plum_case", mode=mode, started_at=started, finished_at=started + timedelta(minutes=5), score=score, passed=score >= 70
    )
