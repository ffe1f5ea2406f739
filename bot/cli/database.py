"""`salescoach db upgrade|current|history`: the schema's migrations; `salescoach backup`: a copy of a
SQLite database taken while the bot runs (PostgreSQL is backed up with pg_dump)."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from bot.cli.common import EXIT_USAGE, CliError, database_errors, output_path
from bot.settings import Settings
from knowledge.cli import counted_both, help_text, line, phrase
from storage.db import open_engine
from storage.schema import alembic_config, database_revisions, heads, revisions, shown, upgrade


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    """The schema's migrations: run the pending ones, say where the database stands, or list them all."""
    url = settings.database_url
    if args.action == "upgrade":
        with database_errors(url):
            done = upgrade(open_engine(url))
        if done.before == done.after:
            sys.stderr.write(f"salescoach: {line('nothing_to_upgrade', revision=shown(done.after))}\n")
        else:
            sys.stderr.write(f"salescoach: {line('upgraded', before=shown(done.before), after=shown(done.after))}\n")
        return 0
    with database_errors(url), open_engine(url).connect() as connection:
        current = database_revisions(connection)
        has_tables = bool(inspect(connection).get_table_names())
    if args.action == "current":
        print(current_line(current, has_tables))
        return 0 if current == heads() else 1
    from alembic.script import ScriptDirectory

    for script in ScriptDirectory.from_config(alembic_config()).walk_revisions():
        marks = ", ".join(mark for mark, holds in (("newest", script.revision in heads()), ("current", script.revision in current)) if holds)
        print(f"{script.revision}{f' ({marks})' if marks else ''} {script.doc}")
    return 0


def current_line(current: tuple[str, ...], has_tables: bool) -> str:
    """Where the database stands, and what to do if it is not at the newest revision."""
    if not current:
        return line("current_none", made=phrase("made_before_migrations" if has_tables else "empty_database"), head=shown(heads()))
    if any(revision not in revisions() for revision in current):
        return line("current_unknown", revision=shown(current))
    if current == heads():
        return line("current_newest", revision=shown(current))
    return line("current_behind", revision=shown(current), head=shown(heads()))


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """A SQLite database copied to --out while the bot keeps running; for PostgreSQL, the pg_dump
    command that does it."""
    from storage.backup import backup_sqlite

    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        server = URL.create("postgresql", username=url.username, host=url.host, port=url.port, database=url.database).render_as_string()
        raise CliError(line("postgres_backup", command=f"pg_dump --format=custom --file={args.out} '{server}'"), EXIT_USAGE)
    database = Path(url.database or "")
    if not database.is_file():
        raise CliError(line("no_database", database=database.resolve()), EXIT_USAGE)
    out = output_path(args.out)
    if out.resolve() == database.resolve():
        raise CliError(line("backup_is_database"), EXIT_USAGE)
    try:
        counts = backup_sqlite(database, out)
    except OSError as exc:
        raise CliError(line("cannot_write", path=out, reason=exc.strerror)) from exc
    except sqlite3.Error as exc:
        raise CliError(line("backup_failed", database=database, reason=exc)) from exc
    sys.stderr.write(f"salescoach: {line('backed_up', tables=counted_both(len(counts), 'table'), out=out, rows=sum(counts.values()))}\n")
    return 0


def add(sub: Any) -> None:
    """Register `db` and `backup`."""
    db = sub.add_parser("db", help=help_text("db"))
    db.add_argument("action", choices=("upgrade", "current", "history"), help=help_text("db_action"))
    db.set_defaults(func=cmd_db)
    backup = sub.add_parser("backup", help=help_text("backup"))
    backup.add_argument("--out", required=True, metavar="FILE", help=help_text("backup_out"))
    backup.set_defaults(func=cmd_backup)
