"""Schema migrations (storage/migrations/, storage/schema.py) on SQLite and PostgreSQL: the migrations
build exactly the tables the models declare, a database keeps every row through an upgrade (one
made before migrations existed too), and bot processes started together migrate once."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage import schema
from storage.db import make_engine, open_engine
from storage.schema import SCHEMA_LOCK, SchemaError, alembic_config, database_revisions, heads, revisions, upgrade
from tests.cli_lines import in_english
from tests.db_rows import fill, kept, read
from tests.postgres import PostgresServer
from tests.test_cli import environment, one_line, salescoach

BASELINE = next(revision.id for revision in revisions().values() if not revision.parents)
# Indexes that versions before migrations made and later models dropped (the baseline drops them).
OBSOLETE = (("need", "source"), ("need", "created_at"), ("roleplay", "scenario_id"), ("delivery", "status"), ("needtag", "tag"))
HOW_TO_MIGRATE = "write the migration that makes this change: storage/migrations/README.md says how"


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without a single table: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres")
        with server.fresh_database(empty=True) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'new.db'}"


@pytest.fixture
def engine_on(empty_url: str) -> Iterator[Engine]:
    """The empty database opened as it is (no migration run yet)."""
    engine = open_engine(empty_url)
    yield engine
    engine.dispose()


def migrate_to(engine: Engine, revision: str) -> None:
    """Upgrade the database to one given revision, as Alembic's own command does."""
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def model_changes(engine: Engine, models: MetaData = SQLModel.metadata) -> list[object]:
    """What autogenerate would write into a new migration: the models' differences from the database."""
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), models))


def test_the_migrations_build_exactly_the_tables_the_models_declare(engine_on: Engine) -> None:
    assert upgrade(engine_on).after == heads()
    changes = model_changes(engine_on)
    assert changes == [], f"the models differ from the migrations: {changes}; {HOW_TO_MIGRATE}"


def test_a_model_changed_without_its_migration_is_caught() -> None:
    engine = make_engine("sqlite://")
    changed = MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(changed)
    Table("test_only_table", changed, Column("id", Integer, primary_key=True))
    changed.tables["roleplay"].append_column(Column("test_only_column", String(20)))
    assert sorted(change[0] for change in model_changes(engine, changed)) == ["add_column", "add_table"]  # type: ignore[index]


def test_a_database_filled_at_the_baseline_keeps_every_row_up_to_the_newest_revision(engine_on: Engine) -> None:
    migrate_to(engine_on, BASELINE)
    with engine_on.begin() as connection:
        fill(connection)
    with engine_on.connect() as connection:
        before = read(connection)
    assert upgrade(engine_on).before == (BASELINE,)
    with engine_on.connect() as connection:
        assert database_revisions(connection) == heads()
        assert kept(before, read(connection)) == []


def test_a_database_made_before_migrations_existed_is_taken_over_with_its_rows(engine_on: Engine, empty_url: str) -> None:
    # What create_all left: the baseline's tables without Alembic's, one table short (made by an
    # older version) and the single-column indexes older versions made.
    migrate_to(engine_on, BASELINE)
    with engine_on.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(text("DROP TABLE invitationuse"))
        for table, column in OBSOLETE:
            connection.execute(text(f"CREATE INDEX ix_{table}_{column} ON {table} ({column})"))
        fill(connection)
    with engine_on.connect() as connection:
        before = read(connection)
    taken_over = make_engine(empty_url)
    with taken_over.connect() as connection:
        assert database_revisions(connection) == heads()
        assert kept(before, read(connection)) == []
        assert not {f"ix_{table}_{column}" for table, column in OBSOLETE} & {
            index["name"] for table, _ in OBSOLETE for index in inspect(connection).get_indexes(table)
        }
    assert model_changes(taken_over) == []
    taken_over.dispose()


def add_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, revision: str, upgrade_body: str) -> None:
    """The migrations plus one more after the newest, for this test only."""
    copy = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    header = f'import sqlalchemy as sa\nfrom alembic import op\n\nrevision = "{revision}"\ndown_revision = "{heads()[0]}"\n\n\ndef upgrade() -> None:\n'
    (copy / "versions" / f"2099_01_01_{revision}_test.py").write_text(header + upgrade_body, encoding="utf-8")
    monkeypatch.setattr(schema, "MIGRATIONS", copy)
    revisions.cache_clear()


@pytest.fixture(autouse=True)
def revisions_read_again() -> Iterator[None]:
    """A test that added a migration leaves the revisions to be read again from storage/migrations."""
    yield
    revisions.cache_clear()


def test_a_migration_that_rebuilds_a_referenced_table_keeps_its_rows_and_references(engine_on: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Teams get a colour and longer names: SQLite can only do that by copying the table, which
    # memberships, invitations and pushes refer to.
    newest = heads()[0]
    add_migration(
        tmp_path,
        monkeypatch,
        "feedface0001",
        """\
    with op.batch_alter_table("team") as batch:
        batch.add_column(sa.Column("colour", sa.String(length=20), nullable=False, server_default="blue"))
        batch.alter_column("name", existing_type=sa.String(length=60), type_=sa.String(length=120), existing_nullable=False)
""",
    )
    migrate_to(engine_on, newest)
    with engine_on.begin() as connection:
        fill(connection)
    with engine_on.connect() as connection:
        before = read(connection)
    assert upgrade(engine_on).after == ("feedface0001",)
    with engine_on.connect() as connection:
        after = read(connection)
        assert kept(before, after) == []
        assert {team["colour"] for team in after["team"]} == {"blue"}
        if engine_on.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []


def test_a_migration_that_fails_changes_nothing(engine_on: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upgrade(engine_on)
    add_migration(
        tmp_path,
        monkeypatch,
        "feedface0002",
        """\
    op.create_table("halfway", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("INSERT INTO nosuchtable VALUES (1)")
""",
    )
    with pytest.raises(SchemaError, match="^upgrading the database to revision feedface0002 failed, and nothing was changed: .*nosuchtable"):
        upgrade(engine_on)
    with engine_on.connect() as connection:
        assert "halfway" not in inspect(connection).get_table_names()
        assert database_revisions(connection) != ("feedface0002",)


def test_the_revision_files_are_read_as_alembic_reads_them() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert set(heads()) == set(script.get_heads())
    declared = {revision.id: set(revision.parents) for revision in revisions().values()}
    assert declared == {
        s.revision: set(s.down_revision if isinstance(s.down_revision, tuple) else filter(None, [s.down_revision])) for s in script.walk_revisions()
    }


def test_an_up_to_date_database_opens_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    make_engine(url).dispose()
    code = f"import sys; from storage.db import make_engine; make_engine({url!r}); print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'filelock')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parent.parent, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_db_commands_say_where_the_database_stands(tmp_path: Path) -> None:
    head = heads()[0]
    before = salescoach(tmp_path, "db", "current")
    assert before.returncode == 1 and before.stdout.startswith("无：空数据库；")
    assert in_english(before.stdout.strip()) == f"salescoach: none: an empty database; `salescoach db upgrade` (or starting the bot) brings it to {head}"
    upgraded = one_line(salescoach(tmp_path, "db", "upgrade"), 0)
    assert upgraded == f"salescoach: 数据库已从版本 none 升级到 {head} / upgraded the database from revision none to {head}"
    assert in_english(one_line(salescoach(tmp_path, "db", "upgrade"), 0)) == f"salescoach: the database is at revision {head}, the newest; nothing to upgrade"
    after = salescoach(tmp_path, "db", "current")
    assert (after.returncode, after.stdout) == (0, f"{head}（最新） / {head} (newest)\n")
    assert salescoach(tmp_path, "db", "history").stdout.startswith(f"{head} (newest, current) ")


def test_a_database_a_newer_version_upgraded_is_refused_saying_what_to_do(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'fedcba987654'"))
    engine.dispose()
    line = one_line(salescoach(tmp_path, "console", stdin="/start\n"), 1)
    assert line == (
        "salescoach: the database is at revision fedcba987654, which this version of SalesCoach does not know "
        "(a newer version upgraded it); run that version or newer, or restore a backup made before the upgrade"
    )
    assert in_english(salescoach(tmp_path, "db", "current").stdout.strip()).startswith("salescoach: fedcba987654: unknown to this version of SalesCoach")


@contextmanager
def schema_lock_held(url: str) -> Iterator[None]:
    """The lock bot processes take to migrate, held by the test."""
    if url.startswith("sqlite"):
        with open(f"{make_url(url).database}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        return
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        yield
        holder.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


def waiting_for_the_lock(url: str, pids: list[int]) -> int:
    """How many of the processes wait for the schema lock now."""
    if url.startswith("sqlite"):  # a process blocked in flock shows in /proc/locks as "-> FLOCK ... <pid> ..."
        blocked = [line.split() for line in Path("/proc/locks").read_text().splitlines() if "->" in line]
        return sum(str(pid) in fields for fields in blocked for pid in pids)
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as watcher:
        row = watcher.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND NOT granted", (SCHEMA_LOCK,)).fetchone()
        return int(row[0]) if row else 0


def test_three_bot_processes_started_together_on_an_empty_database_migrate_once(empty_url: str, tmp_path: Path) -> None:
    env = environment(tmp_path, DATABASE_URL=empty_url, LOG_LEVEL="DEBUG")  # a new database's migration is logged at DEBUG
    with schema_lock_held(empty_url):
        bots = [
            subprocess.Popen(
                [sys.executable, "-m", "bot", "console", "--lang", "en"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=tmp_path,
                env=env,
            )
            for _ in range(3)
        ]
        deadline = time.monotonic() + 90
        while waiting_for_the_lock(empty_url, [bot.pid for bot in bots]) < 3:
            assert time.monotonic() < deadline and all(bot.poll() is None for bot in bots), "the bots did not all wait for the schema lock"
            time.sleep(0.1)
    said = [bot.communicate("/start\n", timeout=120) for bot in bots]
    assert [bot.returncode for bot in bots] == [0, 0, 0], said
    assert all("SalesCoach" in out for out, _ in said)
    assert sum(f"database upgraded from revision none to {heads()[0]}" in err for _, err in said) == 1, said
    engine = open_engine(empty_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()


def test_the_needs_already_stored_are_tallied_when_the_tally_arrives(engine_on: Engine) -> None:
    """The needs board counts from each rep's tally; needs stored before it existed count too."""
    migrate_to(engine_on, "b39d82e83446")
    needs = [(5, "field", "active"), (5, "field", "active"), (5, "roleplay", "withdrawn"), (6, "field", "active")]
    with engine_on.begin() as connection:
        for rep, source, status in needs:
            connection.execute(
                text(
                    "INSERT INTO need (rep_id, source, status, lang, customer, priority, fields, search_text, created_at, updated_at) "
                    "VALUES (:rep, :source, :status, 'zh', '', '', '{}', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"rep": rep, "source": source, "status": status},
            )
    upgrade(engine_on)
    with engine_on.connect() as connection:
        tally = connection.execute(text("SELECT rep_id, status, source, count FROM needtally ORDER BY rep_id, source")).all()
    assert [tuple(row) for row in tally] == [(5, "active", "field", 2), (5, "withdrawn", "roleplay", 1), (6, "active", "field", 1)]


def test_the_role_plays_already_stored_are_tallied_when_the_tallies_arrive(engine_on: Engine) -> None:
    """/results adds up tallies; role-plays finished and lines missed before they existed count too,
    lines folded as they are from then on (stripped, lower case, letters beyond ASCII included)."""
    migrate_to(engine_on, "7c1e5d2a9b40")
    plays = [
        (5, "sale", 40, '["wants_sour"]', True),
        (5, "sale", 70, '["wants_sour", "dil_pregnant"]', True),
        (5, None, None, "[]", True),
        (6, None, None, '["x"]', False),
    ]
    with engine_on.begin() as connection:
        for number, (rep, outcome, score, facts, finished) in enumerate(plays, 1):
            connection.execute(
                text(
                    "INSERT INTO roleplay (id, user_id, scenario_id, lang, state, turns, strikes, goodwill, marks, started_at, finished_at, outcome, score, "
                    "facts_uncovered, question_counts) VALUES (:id, :rep, 'plum', 'en', 'end', 0, 0, 0, '{}', CURRENT_TIMESTAMP, "
                    f"{'CURRENT_TIMESTAMP' if finished else 'NULL'}, :outcome, :score, :facts, '{{}}')"
                ),
                {"id": number, "rep": rep, "outcome": outcome, "score": score, "facts": facts},
            )
        turns = [
            (1, 1, " ÄPFEL? ", '{"state": "opening"}', None),
            (1, 2, "äpfel?", '{"state": "opening"}', None),
            (4, 1, "Hello", "{}", None),
            (4, 2, "Why?", "{}", "ask"),
        ]
        for roleplay, number, said, verdict, move in turns:
            connection.execute(
                text(
                    "INSERT INTO roleplayturn (roleplay_id, number, rep_text, suggested, verdict, move, customer_text, at) "
                    "VALUES (:roleplay, :number, :said, false, :verdict, :move, '', CURRENT_TIMESTAMP)"
                ),
                {"roleplay": roleplay, "number": number, "said": said, "verdict": verdict, "move": move},
            )
    upgrade(engine_on)
    with engine_on.connect() as connection:
        ended = connection.execute(text("SELECT user_id, outcome, played, best FROM roleplaytally ORDER BY outcome")).all()
        facts = connection.execute(text("SELECT user_id, fact, count FROM facttally ORDER BY fact")).all()
        missed = connection.execute(text("SELECT user_id, state, text, count FROM unmatchedtally ORDER BY user_id")).all()
    assert [tuple(row) for row in ended] == [(5, "abandoned", 1, 0), (5, "sale", 2, 70)], "rep 6's role-play has not finished"
    assert [tuple(row) for row in facts] == [(5, "dil_pregnant", 1), (5, "wants_sour", 2)]
    assert [tuple(row) for row in missed] == [(5, "opening", "äpfel?", 2), (6, "", "hello", 1)]
