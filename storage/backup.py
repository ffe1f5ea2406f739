"""Backups of a SQLite database, taken while the bot keeps running (`salescoach backup`)."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path


def backup_sqlite(database: Path, out: Path) -> dict[str, int]:
    """Copy the database to `out` with SQLite's online backup API and return each table's row count.

    The copy is one consistent snapshot even while the bot writes (a plain file copy of a
    database in WAL mode can miss commits still in the -wal file, or tear mid-write). It is
    written beside `out` and renamed into place, so `out` is never half a backup, and it is a
    single file (journal mode DELETE): restoring it is copying it over the database file.
    """
    partial = out.with_name(f".{out.name}.partial")
    try:
        with closing(sqlite3.connect(database, timeout=30)) as source, closing(sqlite3.connect(partial)) as target:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
            counts = row_counts(target)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return counts


def row_counts(connection: sqlite3.Connection) -> dict[str, int]:
    """Rows in each table of a SQLite database, by table name."""
    tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables}
