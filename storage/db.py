"""Database engine: SQLite by default, any SQLAlchemy URL (PostgreSQL) via DATABASE_URL."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, bindparam, event, func, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.dml import UpdateBase
from sqlmodel import create_engine

from storage.schema import upgrade

DEFAULT_URL = "sqlite:///salescoach.db"
BUSY_TIMEOUT_S = 5.0
WRITER = "salescoach_writer"  # key in a connection's info: where it stands with the write lock
HELD, ENDING, WAITED = "held", "ending", "waited"
DIALECTS = ("postgresql", "sqlite")  # statements built once for each (storage/pace.py, leases.py, …)
IDLE_PING_S = 1.0  # a pooled PostgreSQL connection unused for longer is tried before use (IdlePing)
RETURNED_AT = "salescoach_returned_at"  # key in a pooled connection's info: when it was last given back
_NO_FSYNC = text("SET LOCAL synchronous_commit TO OFF")
CHECKPOINT_EVERY_S = 0.25  # small and often: each checkpoint's sync slows the commits beside it
FALLBACK_CHECKPOINT_PAGES = 10_000  # about 40 MB of log (SQLite's own default is 1,000 pages)
log = logging.getLogger(__name__)


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
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_CHECKPOINT_PAGES}")
    cursor.close()


class Checkpointer:
    """SQLite: the write-ahead log is copied back into the database file by a thread of its own,
    every CHECKPOINT_EVERY_S, instead of by whichever commit finds the log over 1,000 pages.

    A role-play turn adds about 15 pages to the log, so with SQLite's default one turn in about
    70 also copied the log back and synced the file (with synchronous=NORMAL, the checkpoint is
    where the disk is waited for): those were the slowest turns a rep saw. Here the copy and the
    sync happen beside the turns (a PASSIVE checkpoint never blocks a writer or a reader). Its
    sync still slows the commits made meanwhile, by more the more it copies: with 8 turns in
    flight the slowest batch took 29-30 ms with a checkpoint every 4 s, 20-21 ms every second, and
    16-17 ms every quarter second (throwaway copy of roleplay_bench, two runs each). Should
    this thread fall behind, a commit still checkpoints once the log reaches
    FALLBACK_CHECKPOINT_PAGES, as before only later. Stopped when the engine is disposed.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "engine_disposed", lambda _engine: self.stopped.set())
        self.thread.start()

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while not self.stopped.wait(CHECKPOINT_EVERY_S):
                if connection is None:
                    try:
                        connection = sqlite3.connect(f"file:{self.path}?mode=rw", uri=True, isolation_level=None)
                    except sqlite3.OperationalError:  # the engine has not created the file yet: never created here
                        continue
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            log.exception("SQLite checkpoints stopped; commits checkpoint the log themselves from now on")
        finally:
            if connection is not None:
                connection.close()


class FairLock:
    """A lock its waiters get in the order they asked for it. threading.Lock lets whichever
    waiter the scheduler wakes first win, so with eight updates in flight a turn could be passed
    over again and again: bench/roleplay_bench.py --concurrency 8, six rounds each, put the 99th
    percentile at 1.9-2.2x the median with threading.Lock and 1.5-2.0x with this one.

    The thread holding it may take it again without waiting, and gives it up once it has
    released it as often (a turn handled on the event loop holds it throughout, and its
    statements take it as any writer's do: Engine.handle_here)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._waiters: deque[tuple[int, threading.Lock]] = deque()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """True once this thread holds the lock; False if it was not free (`blocking` off) or
        `timeout` seconds passed first."""
        me = threading.get_ident()
        with self._guard:
            if self._owner is None or self._owner == me:
                self._owner = me
                self._depth += 1
                return True
            if not blocking:
                return False
            waiter = (me, threading.Lock())
            waiter[1].acquire()
            self._waiters.append(waiter)
        if waiter[1].acquire(timeout=timeout):  # release() handed the lock over
            return True
        with self._guard:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                return False
        return True  # handed over just as the wait ended

    def release(self) -> None:
        """Once released as often as taken, the first waiter gets the lock, with nobody able to
        take it in between. Any thread may release it, as threading.Lock allows (a connection
        the garbage collector returns to the pool gives its writer's place back from there)."""
        with self._guard:
            if self._owner is None:
                raise RuntimeError("release of a FairLock nobody holds")
            self._depth -= 1
            if self._depth:
                return
            if self._waiters:
                self._owner, handed = self._waiters.popleft()
                self._depth = 1
                handed.release()
            else:
                self._owner = None

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


class WriterQueue:
    """In-process writers to one SQLite file queue on a lock instead of in busy_timeout.

    SQLite lets one transaction write at a time; the others poll, sleeping up to 100 ms
    between tries, so with eight updates in flight the slowest turns took half a second.
    A transaction takes this lock just before its first write and gives it back once it
    has committed or rolled back (at the next statement or when the connection goes back
    to the pool), so writers go one after another without sleeping. Reads never wait:
    WAL serves them beside the writer. A writer that has waited BUSY_TIMEOUT_S goes on
    and meets SQLite's own wait, as before; so do other processes, which this lock
    cannot see.
    """

    def __init__(self) -> None:
        self.lock = FairLock()

    def before_statement(self, conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        """Frees the lock of a finished transaction; takes it before a transaction's first write."""
        if conn.info.get(WRITER) == ENDING:
            self._release(conn.info)
        if WRITER not in conn.info and statement.lstrip()[:6].upper() not in ("SELECT", "PRAGMA"):
            conn.info[WRITER] = HELD if self.lock.acquire(timeout=BUSY_TIMEOUT_S) else WAITED

    def ended(self, conn: Connection) -> None:
        """Commit or rollback is about to run: the lock goes once it has."""
        if conn.info.get(WRITER) == HELD:
            conn.info[WRITER] = ENDING
        elif conn.info.get(WRITER) == WAITED:
            del conn.info[WRITER]

    def checked_in(self, _dbapi_connection: Any, record: Any) -> None:
        """A connection back in the pool has ended its transaction (the pool rolls back any left open)."""
        self._release(record.info)

    def _release(self, info: dict[str, Any]) -> None:
        if info.pop(WRITER, None) in (HELD, ENDING):
            self.lock.release()

    def attach(self, engine: Engine) -> None:
        _QUEUES[engine] = self
        event.listen(engine, "before_cursor_execute", self.before_statement)
        event.listen(engine, "commit", self.ended)
        event.listen(engine, "rollback", self.ended)
        event.listen(engine.pool, "checkin", self.checked_in)


_QUEUES: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()


class IdlePing:
    """A pooled PostgreSQL connection that has sat unused for over `idle_s` seconds is tried
    before it is handed out, and replaced if the server has closed it (a restart, a timeout).

    SQLAlchemy's pool_pre_ping tries every connection at every checkout: a round trip (75 µs
    measured here) twice on each role-play turn, the turn's and its reply's record, on
    connections used a millisecond before. A connection used within the last `IDLE_PING_S` is
    handed out as it is. Should the server restart in that second, a statement fails as lost
    (`connection_invalidated`), and Engine.handle empties the pool and handles the update again.
    """

    def __init__(self, idle_s: float) -> None:
        self.idle_s = idle_s
        self.dialect: Any = None

    def checked_in(self, _dbapi_connection: Any, record: Any) -> None:
        record.info[RETURNED_AT] = time.monotonic()

    def checkout(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        """Raises DisconnectionError for a dead idle connection: the pool then opens a new one."""
        returned = record.info.get(RETURNED_AT)
        if returned is None or time.monotonic() - returned <= self.idle_s:
            return
        try:
            self.dialect.do_ping(dbapi_connection)  # as pool_pre_ping does
        except Exception as exc:
            raise DisconnectionError(f"a pooled connection idle for over {self.idle_s:g} s was closed: {exc}") from exc

    def attach(self, engine: Engine) -> None:
        self.dialect = engine.dialect
        event.listen(engine.pool, "checkin", self.checked_in)
        event.listen(engine.pool, "checkout", self.checkout)


def before_write(connection: Connection, statement: str) -> None:
    """What SQLAlchemy's before-statement event does for a write, for one run on the driver's
    cursor (storage/prepared.py): on SQLite, wait for this process's writer lock."""
    queue = _QUEUES.get(connection.engine)
    if queue is not None:
        queue.before_statement(connection, None, statement)


def sqlite_file(engine: Engine) -> str | None:
    """The path of the SQLite file `engine` opens; None for PostgreSQL or an in-memory database,
    which a connection of one's own (a checkpoint thread, the outbox's sent records) cannot share."""
    database = engine.url.database
    return database if engine.dialect.name == "sqlite" and database not in (None, "", ":memory:") else None


def writer_lock(engine: Engine) -> FairLock | None:
    """The lock this process's SQLite writers queue on (WriterQueue), for a write made outside
    SQLAlchemy; None where there is none (PostgreSQL)."""
    queue = _QUEUES.get(engine)
    return queue.lock if queue is not None else None


@contextmanager
def writer_lock_if_free(engine: Engine) -> Iterator[bool]:
    """Holds this process's SQLite writer lock for the block when it is free this instant, so
    what the block writes waits on no other thread; yields whether it does (never on PostgreSQL,
    which has no such lock). For work the event loop may do itself only when it cannot wait:
    Engine.handle_here, bot/inbox.written."""
    lock = writer_lock(engine)
    if lock is None or not lock.acquire(blocking=False):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def upsert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` that can say what to do ON CONFLICT, for this database
    ("postgresql" or "sqlite"): each has its own, the same to write."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def tallied(dialect: str, table: Table, counter: str, highest: str | None = None) -> postgresql.Insert | sqlite.Insert:
    """A tally's row counted by `by`: inserted with every other column bound by its name and
    `counter` at `by`, or, when its key is there already, `by` added to its `counter` and its
    `highest` column (if any) the higher of the two (the needs board's and /results' tallies)."""
    statement = upsert(dialect, table)
    statement = statement.values({column.name: bindparam("by" if column.name == counter else column.name) for column in table.c})
    updates = {counter: table.c[counter] + statement.excluded[counter]}
    if highest is not None:
        higher = func.greatest if dialect == "postgresql" else func.max
        updates[highest] = higher(table.c[highest], statement.excluded[highest])
    return statement.on_conflict_do_update(index_elements=list(table.primary_key.columns.keys()), set_=updates)


def without_fsync(statement: UpdateBase) -> UpdateBase:
    """`statement`, telling PostgreSQL as it runs that its transaction's commit need not wait for the
    disk, as `commit_without_fsync` does, but without a round trip of its own (set_config, local to
    the transaction, in its RETURNING). For PostgreSQL only; the trade-off is the same."""
    return statement.returning(func.set_config("synchronous_commit", "off", True))


def commit_without_fsync(connection: Connection) -> None:
    """This transaction's commit returns before PostgreSQL has flushed it to disk
    (synchronous_commit off for it alone). A crash of the bot loses none of it; a crash of the
    database server or the machine may lose its last fraction of a second, the trade-off
    SQLite's synchronous=NORMAL makes for every commit here. For the send path's records, whose
    loss costs at most a message sent again or a little early, at 30 messages a second."""
    if connection.dialect.name == "postgresql":
        connection.execute(_NO_FSYNC)


def make_engine(url: str = DEFAULT_URL) -> Engine:
    """Open the database and bring its schema to the newest migration (storage/schema.py)."""
    engine = open_engine(url)
    upgrade(engine)
    return engine


def open_engine(url: str = DEFAULT_URL) -> Engine:
    """Open the database as it is, for commands that only read it or its revision (`salescoach db current`, `backup`)."""
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if in_memory:
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        WriterQueue().attach(engine)
        path = sqlite_file(engine)
        if path is not None:
            Checkpointer(path).attach(engine)
    else:
        engine = create_engine(url)
        IdlePing(IDLE_PING_S).attach(engine)
    return engine
