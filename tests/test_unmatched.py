"""Lines the customer did not understand reach the trainer: on /results SCENARIO and in `salescoach export unmatched`."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session

from dialogs.engine import Engine
from storage.access import add_member, create_team, grant_role
from storage.models import FactTally, RolePlay, RolePlayTally, RolePlayTurn, UnmatchedTally
from storage.roleplay_tallies import line_key, recount, unmatched_lines
from storage.roleplays import unmatched_records
from storage.users import preset_language
from tests.chat import Chat
from tests.cli_lines import in_english

pytestmark = pytest.mark.both_databases

TRAINER = 2


def play_plum(chat: Chat, *lines: str) -> None:
    """The rep starts the plum case and says each line."""
    chat.send("/roleplay plum")
    for line in lines:
        chat.send(line)


@pytest.fixture
def played(engine: Engine) -> Engine:
    """Team east (trainer 2, reps 11, 12, 13) and an outsider (99) have played the plum case, saying
    things Granny Li does not understand: small talk before and after she says what she wants."""
    with Session(engine.db) as session:
        team = create_team(session, "east")
        assert team is not None
        grant_role(session, TRAINER, "trainer", 42)
        for uid in (TRAINER, 11, 12, 13):
            add_member(session, uid, team.id or 0)
            preset_language(session, uid, f"rep{uid}", "zh" if uid == 13 else "en")
    play_plum(Chat(engine, 11, lang="en"), "Nice weather today.", "What kind would you like?", "Nice weather today.", "/end")
    play_plum(Chat(engine, 12, lang="en"), "  nice WEATHER today. ", "=HYPERLINK(1)", "What kind would you like?", "Why sour ones?", "Why sour ones?")
    play_plum(Chat(engine, 13, lang="zh"), "今天天气不错")
    play_plum(Chat(engine, 99, lang="en"), "asdf qwerty", "Asdf qwerty", "asdf qwerty")
    return engine


def test_a_trainer_sees_the_lines_her_teams_customer_did_not_understand(played: Engine) -> None:
    trainer = Chat(played, TRAINER, lang="en")
    text = trainer.text("/results plum")
    assert "Lines the customer did not understand" in text
    lines = text.split("Lines the customer did not understand")[1].splitlines()
    assert "1. “nice weather today.” — 3× · opening 2, discovery 1" in lines, "stripped, lower case, counted, with the states said in"
    assert lines[2:5] == ["2. “=hyperlink(1)” — 1× · opening", "3. “why sour ones?” — 1× · need_known", "4. “今天天气不错” — 1× · opening"], (
        "ties in text order"
    )
    assert "asdf" not in text, "the outsider is not in the trainer's teams"
    assert "Add them as examples to the move they should have counted as" in text
    admin = Chat(played, 42, lang="zh").text("/results plum")
    assert "客户没听懂的话" in admin and "1. “asdf qwerty” — 3 次 · opening" in admin, "admins see everyone's"


def test_nothing_misunderstood_nothing_listed(engine: Engine) -> None:
    play_plum(Chat(engine, 11, lang="en"), "What kind would you like?", "A jin of these sour ones?")
    assert "did not understand" not in Chat(engine, 42, lang="en").text("/results plum")


def test_turns_stored_before_the_state_was_kept_are_counted_without_one(engine: Engine) -> None:
    with Session(engine.db) as session:
        row = RolePlay(user_id=11, scenario_id="plum", state="opening")
        session.add(row)
        session.flush()
        session.add(RolePlayTurn(roleplay_id=row.id or 0, number=1, rep_text="Hello there", verdict={"form": "none"}, move=None))
        session.add(RolePlayTurn(roleplay_id=row.id or 0, number=2, rep_text="What kind?", verdict={"state": "opening"}, move="ask_kind"))
        session.flush()
        recount(session)
        session.commit()
        [line] = unmatched_lines(session, "plum", None)
        assert (line.text, line.count, dict(line.states)) == ("hello there", 1, {"": 1})
        assert unmatched_lines(session, "plum", {12}) == [] and unmatched_lines(session, "mop", None) == []
    assert "“hello there” — 1× · state not recorded" in Chat(engine, 42, lang="en").text("/results plum")


def test_what_the_tallies_kept_as_reps_played_is_what_counting_again_finds(played: Engine) -> None:
    """/results reads tallies kept turn by turn and role-play by role-play; counted again from the
    turns and role-plays themselves they come out the same (lines folded alike, states alike)."""
    play_plum(Chat(played, 12, lang="en"), "Nice weather today.", "What kind would you like?", "/end")  # a second role-play: its end is counted too

    def tallies(session: Session) -> list[list[tuple[object, ...]]]:
        return [sorted(tuple(row) for row in session.execute(select(table.__table__)).all()) for table in (RolePlayTally, FactTally, UnmatchedTally)]

    with Session(played.db) as session:
        kept = tallies(session)
        recount(session)
        assert tallies(session) == kept
    assert [row[:4] for row in kept[0]] == [("plum", 11, "abandoned", 1), ("plum", 12, "abandoned", 2)], "/end and a new start count as abandoned"
    assert ("plum", 12, "wants_sour", 2) in kept[1], "rep 12 heard why sour ones in both"
    assert ("plum", line_key("Nice weather today.")[1], 12, "opening", "nice weather today.", 2) in kept[2], "both of rep 12's, folded"


def test_the_unmatched_export_reads_batch_by_batch_within_its_scope(played: Engine) -> None:
    with Session(played.db) as session:
        records = list(unmatched_records(session, "plum", scope={11, 12}, batch=2))
    assert [(r["rep_id"], r["turn"]) for r in records] == [(11, 1), (11, 3), (12, 1), (12, 2), (12, 5)]


def run_export(db_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`salescoach export unmatched …` as its own process, the way a trainer runs it."""
    command = [sys.executable, "-m", "bot", "export", "unmatched", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env={"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}, cwd=tmp_path)


def test_export_unmatched_writes_every_line_as_jsonl_and_csv(played: Engine, db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "unmatched.jsonl"
    done = run_export(db_url, tmp_path, "--format", "jsonl", "--out", str(out))
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert in_english(done.stderr.strip()) == f"salescoach: wrote {len(records)} records to {out}"
    assert len(records) == 9, "every line, nothing folded: 2 + 3 + 1 + 3 (the outsider too)"
    assert set(records[0]) == {"scenario", "state", "lang", "rep_text", "turn", "roleplay_id", "rep_id", "at"}
    first = records[0]
    assert (first["scenario"], first["state"], first["lang"], first["rep_text"], first["turn"], first["rep_id"]) == (
        "plum",
        "opening",
        "en",
        "Nice weather today.",
        1,
        11,
    )
    said = [(r["rep_id"], r["turn"], r["state"], r["rep_text"]) for r in records]
    assert (11, 3, "discovery", "Nice weather today.") in said and (12, 2, "opening", "=HYPERLINK(1)") in said
    assert (13, 1, "opening", "今天天气不错") in said and [r["lang"] for r in records if r["rep_id"] == 13] == ["zh"]
    assert all(r["rep_text"] != "What kind would you like?" for r in records), "understood lines are not exported"

    out = tmp_path / "unmatched.csv"
    done = run_export(db_url, tmp_path, "--scenario", "plum", "--format", "csv", "--out", str(out))
    assert done.returncode == 0, done.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel reads the Chinese lines as UTF-8"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert in_english(done.stderr.strip()) == f"salescoach: wrote {len(rows)} records to {out}" and len(rows) == 9
    assert list(rows[0]) == ["scenario", "state", "lang", "rep_text", "turn", "roleplay_id", "rep_id", "at"]
    assert {"'=HYPERLINK(1)", "今天天气不错"} <= {r["rep_text"] for r in rows}, "text that looks like a formula is quoted"

    done = run_export(db_url, tmp_path, "--scenario", "mop", "--format", "csv", "--out", str(tmp_path / "none.csv"))
    assert done.returncode == 0 and in_english(done.stderr.strip()) == f"salescoach: wrote 0 records to {tmp_path / 'none.csv'}"


def test_export_unmatched_of_an_unknown_scenario_names_the_scenarios(engine: Engine, db_url: str, tmp_path: Path) -> None:
    done = run_export(db_url, tmp_path, "--scenario", "bananas", "--format", "jsonl", "--out", str(tmp_path / "x.jsonl"))
    assert done.returncode == 2
    assert in_english(done.stderr.strip()).startswith("salescoach: no scenario called 'bananas'; use one of: ") and "plum" in done.stderr
    assert not (tmp_path / "x.jsonl").exists()
