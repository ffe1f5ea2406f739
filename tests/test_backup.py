"""Backups and restores as the README gives them bring every row of every table back: `salescoach
backup` (SQLite's online backup API, taken while the bot writes) and, for PostgreSQL, pg_dump and
pg_restore."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import text

from storage.db import make_engine
from tests.cli_lines import in_english
from tests.db_rows import fill, read
from tests.postgres import PostgresServer, find_bin_dir
from tests.test_cli import failure, one_line, salescoach


def test_a_backup_taken_while_the_bot_writes_restores_every_row(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"  # the database tests.test_cli's commands use
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        fill(connection)
    with engine.connect() as connection:
        at_backup = read(connection)
    assert Path(f"{database}-wal").stat().st_size > 0  # the bot's commits are still in the log, where a file copy would miss them

    done = salescoach(tmp_path, "backup", "--out", "backup.db")
    rows = sum(len(table) for table in at_backup.values()) + 1  # and Alembic's revision
    assert in_english(one_line(done, 0)) == f"salescoach: backed up {len(at_backup) + 1} tables to backup.db (rows: {rows})"
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM needtag"))  # written after the backup: gone once it is restored
    engine.dispose()

    # The README's restore: with the bot stopped, the backup copied over the database file.
    for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
        leftover.unlink(missing_ok=True)
    (tmp_path / "backup.db").replace(database)
    restored = make_engine(f"sqlite:///{database}")
    with restored.connect() as connection:
        assert read(connection) == at_backup
    restored.dispose()


def test_the_readmes_pg_dump_and_pg_restore_lines_bring_every_row_back(postgres: PostgresServer, tmp_path: Path) -> None:
    dump = tmp_path / "salescoach.dump"
    with postgres.fresh_database() as source_url, postgres.fresh_database(empty=True) as target_url:
        engine = make_engine(source_url)
        with engine.begin() as connection:
            fill(connection)
        with engine.connect() as connection:
            at_backup = read(connection)
        engine.dispose()
        tools = find_bin_dir()
        libpq = {url: url.replace("postgresql+psycopg", "postgresql") for url in (source_url, target_url)}
        subprocess.run([tools / "pg_dump", "--format=custom", f"--file={dump}", libpq[source_url]], check=True, timeout=120)
        subprocess.run([tools / "pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={libpq[target_url]}", dump], check=True, timeout=120)
        restored = make_engine(target_url)
        with restored.connect() as connection:
            assert read(connection) == at_backup
        restored.dispose()


def test_backup_says_what_to_do_when_it_cannot_copy_the_database(tmp_path: Path) -> None:
    postgres_url = "postgresql+psycopg://coach:secret@db:5432/coach"
    line = failure(salescoach(tmp_path, "backup", "--out", "coach.dump", DATABASE_URL=postgres_url), 2)
    assert line == (
        "salescoach: backup copies SQLite databases; back up PostgreSQL with pg_dump: "
        "pg_dump --format=custom --file=coach.dump 'postgresql://coach@db:5432/coach' (the password from PGPASSWORD or ~/.pgpass)"
    )
    line = failure(salescoach(tmp_path, "backup", "--out", "backup.db"), 2)
    assert line == f"salescoach: there is no database at {tmp_path / 'cli.db'} to back up; check DATABASE_URL"
