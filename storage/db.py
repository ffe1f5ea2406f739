"""Database engine: SQLite by default, any SQLAlchemy URL (PostgreSQL) via DATABASE_URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel, create_engine

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

DEFAULT_URL = "sqlite:///salescoach.db"
SCHEMA_LOCK = 7_240_517  # PostgreSQL advisory lock key shared by every bot process


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers and a writer work at once; busy_timeout waits instead of failing.

    synchronous=NORMAL: in WAL mode a commit appends to the log without waiting for the
    disk, which is synced at checkpoints. A crash of the bot loses nothing; a power cut
    or OS crash may lose the last commits before the checkpoint, never the database's
    consistency (README, "SQLite durability"). FULL would fsync on every turn.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str = DEFAULT_URL) -> Engine:
    """Open the database and create any missing tables."""
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if in_memory:
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    _create_tables(engine)
    return engine


def _create_tables(engine: Engine) -> None:
    """Create missing tables and indexes; on PostgreSQL one bot process at a time.

    Processes started together take turns (a transaction-level advisory lock), so none
    of them fails creating a table another is creating at that moment. `create_all`
    skips the indexes of tables that exist, so an index added to a model is created here
    on a database made before it.
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        SQLModel.metadata.create_all(connection)
        for table in SQLModel.metadata.sorted_tables:
            for index in table.indexes:
                index.create(connection, checkfirst=True)
