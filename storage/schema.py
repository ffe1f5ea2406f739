"""The schema's version: Alembic migrations (`storage/migrations/`) run when a process opens the database.

Every process brings the database to the newest revision before it serves anyone
(`make_engine`). When the database is there already, as at every start but the first after
an upgrade, that costs one query and reading the revision files; Alembic is not even
imported. Otherwise the process takes the schema lock (PostgreSQL: an advisory lock held by
the transaction the migrations run in; SQLite: a file lock beside the database file), looks
again (another process may have migrated meanwhile) and runs what is still pending, so
N processes started together migrate once.

A database made before migrations existed (tables, no `alembic_version`) needs nothing
special: the baseline revision creates only the tables and indexes it lacks.
"""

from __future__ import annotations

import ast
import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
SCHEMA_LOCK = 7_240_517  # PostgreSQL advisory lock key shared by every bot process

log = logging.getLogger(__name__)


class SchemaError(Exception):
    """The database cannot be brought to this version's schema; the message says why and what to do."""


@dataclass(frozen=True)
class Revision:
    """One migration as its file declares it."""

    id: str
    parents: tuple[str, ...]


@dataclass(frozen=True)
class Upgrade:
    """Where the database stood before and after `upgrade`; `()` is a database without revisions
    (new, or made before migrations existed)."""

    before: tuple[str, ...]
    after: tuple[str, ...]


def _declared(path: Path) -> Revision:
    """The `revision` and `down_revision` a migration file assigns, read without running it."""
    values: dict[str, object] = {}
    target: ast.expr
    value: ast.expr | None
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision") and value is not None:
            values[target.id] = ast.literal_eval(value)
    down = values.get("down_revision")
    parents = (down,) if isinstance(down, str) else tuple(map(str, down)) if isinstance(down, (tuple, list)) else ()
    return Revision(str(values["revision"]), parents)


@cache
def revisions() -> dict[str, Revision]:
    """Every migration in storage/migrations/versions, by id."""
    found = (_declared(path) for path in sorted((MIGRATIONS / "versions").glob("*.py")) if not path.name.startswith("_"))
    return {revision.id: revision for revision in found}


def heads() -> tuple[str, ...]:
    """The newest revisions (one, unless two branches each added a migration and nobody merged them yet)."""
    parents = {parent for revision in revisions().values() for parent in revision.parents}
    return tuple(sorted(set(revisions()) - parents))


def database_revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions the database is at, `()` when it has none."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return ()
    return tuple(sorted(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()))


def upgrade(engine: Engine) -> Upgrade:
    """Bring the database to the newest revision, migrating under the schema lock if it is behind.

    A migration that fails leaves the database as it was: PostgreSQL and SQLite both run the
    whole upgrade in one transaction.
    """
    with engine.connect() as connection:
        current = database_revisions(connection)
    if current == heads():
        return Upgrade(current, current)
    try:
        with _schema_lock(engine) as connection:
            before = database_revisions(connection)
            new = not before and not inspect(connection).get_table_names()
            if before != heads():
                _migrate(connection, before)
            done = Upgrade(before, database_revisions(connection))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise SchemaError(
            f"upgrading the database to revision {shown(heads())} failed, and nothing was changed: {reason}; please report it to the maintainers"
        ) from exc
    if done.before != done.after:
        # A new database is news to nobody; an upgrade of one in use belongs in the log.
        log.log(logging.DEBUG if new else logging.INFO, "database upgraded from revision %s to %s", shown(done.before), shown(done.after))
    return done


def shown(revision_ids: tuple[str, ...]) -> str:
    """Revision ids for a person: `0a1b2c3d4e5f`, or `none` for a database without revisions."""
    return ", ".join(revision_ids) or "none"


def _migrate(connection: Connection, before: tuple[str, ...]) -> None:
    """Run the pending migrations on the locked connection; a revision this code does not know
    (a newer SalesCoach migrated the database) stops it before anything changes."""
    unknown = [revision for revision in before if revision not in revisions()]
    if unknown:
        raise SchemaError(
            f"the database is at revision {', '.join(unknown)}, which this version of SalesCoach does not know "
            "(a newer version upgraded it); run that version or newer, or restore a backup made before the upgrade"
        )
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")


def alembic_config() -> Config:
    """Alembic's configuration for storage/migrations (SalesCoach passes the connection itself)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@contextmanager
def _schema_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that one process at a time holds, for migrating.

    PostgreSQL: a transaction-level advisory lock, so it ends with the transaction. SQLite: a
    file lock beside the database file, which waits as long as a migration takes (none for
    an in-memory database, which only its own process sees), and an explicit BEGIN IMMEDIATE,
    so the migrations' DDL is part of the transaction too. Foreign keys are off while
    migrating: batch mode rebuilds a table by copying it, dropping the old one and renaming
    the copy, which enforced foreign keys would refuse. They are checked before the commit.
    """
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            yield connection
        return
    with _file_lock(engine.url.database), engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
        try:
            with connection.begin():
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                yield connection
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise SchemaError(
                        f"the migrations left rows whose references point nowhere ({broken[:3]}); nothing was changed; please report it to the maintainers"
                    )
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


@contextmanager
def _file_lock(database: str | None) -> Iterator[None]:
    """Held while migrating a SQLite file: an exclusive lock on `<file>.lock`, which the other
    processes wait for (none for an in-memory database)."""
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
