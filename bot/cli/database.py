"""`salescoach db upgrade|current|history`: the schema's migrations."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy import inspect

from bot.cli.common import database_errors
from bot.settings import Settings
from storage.db import open_engine
from storage.schema import alembic_config, database_revisions, heads, revisions, shown, upgrade


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    """The schema's migrations: run the pending ones, say where the database stands, or list them all."""
    url = settings.database_url
    if args.action == "upgrade":
        with database_errors(url):
            done = upgrade(open_engine(url))
        if done.before == done.after:
            sys.stderr.write(f"salescoach: the database is at revision {shown(done.after)}, the newest; nothing to upgrade\n")
        else:
            sys.stderr.write(f"salescoach: upgraded the database from revision {shown(done.before)} to {shown(done.after)}\n")
        return 0
    with database_errors(url), open_engine(url).connect() as connection:
        current = database_revisions(connection)
        has_tables = bool(inspect(connection).get_table_names())
    if args.action == "current":
        print(current_line(current, has_tables))
        return 0
    from alembic.script import ScriptDirectory

    for script in ScriptDirectory.from_config(alembic_config()).walk_revisions():
        marks = ", ".join(mark for mark, holds in (("newest", script.revision in heads()), ("current", script.revision in current)) if holds)
        print(f"{script.revision}{f' ({marks})' if marks else ''} {script.doc}")
    return 0


def current_line(current: tuple[str, ...], has_tables: bool) -> str:
    """Where the database stands, and what to do if it is not at the newest revision."""
    if not current:
        made = "made before migrations existed" if has_tables else "an empty database"
        return f"none: {made}; `salescoach db upgrade` (or starting the bot) brings it to {shown(heads())}"
    unknown = [revision for revision in current if revision not in revisions()]
    if unknown:
        return f"{shown(current)}: unknown to this version of SalesCoach (a newer version upgraded it)"
    if current == heads():
        return f"{shown(current)} (newest)"
    return f"{shown(current)}: behind the newest, {shown(heads())}; `salescoach db upgrade` (or starting the bot) upgrades it"


def add(sub: Any) -> None:
    """Register `db`."""
    db = sub.add_parser("db", help="the database schema's migrations")
    db.add_argument(
        "action",
        choices=("upgrade", "current", "history"),
        help="upgrade: run the pending migrations (the bot also does at start); current: the database's revision; history: every migration, newest first",
    )
    db.set_defaults(func=cmd_db)
