"""Writers to one SQLite file in one process take turns on a lock, not in SQLite's busy wait."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func
from sqlmodel import Session, select

from storage.db import CHECKPOINT_EVERY_S, FALLBACK_CHECKPOINT_PAGES, FairLock, make_engine
from storage.models import Team

THREADS = 8
EACH = 15


def test_eight_threads_writing_at_once_all_get_through_with_a_one_millisecond_busy_timeout(tmp_path: Path) -> None:
    """Each writer holds the file for longer than SQLite would wait; without the queue most would fail 'database is locked'."""
    db = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")

    def impatient(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=1")

    event.listen(db, "connect", impatient)
    db.dispose()
    failures: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for n in range(EACH):
                with Session(db) as session:
                    session.exec(select(func.count()).select_from(Team)).one()
                    session.add(Team(name=f"team {worker}-{n}"))
                    session.flush()
                    time.sleep(0.002)
                    session.commit()
        except BaseException as exc:  # noqa: BLE001  (any failure fails the test below)
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with Session(db) as session:
        assert session.exec(select(func.count()).select_from(Team)).one() == THREADS * EACH
    db.dispose()


def test_the_log_is_copied_back_beside_the_writers_not_by_their_commits(tmp_path: Path) -> None:
    """Commits leave the write-ahead log to the checkpoint thread (storage/db.Checkpointer), which
    copies it back into the database file within about a second; a commit checkpoints only if the
    log ever grows past the fallback's size."""
    path = tmp_path / "log.db"
    db = make_engine(f"sqlite:///{path}")
    with db.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == FALLBACK_CHECKPOINT_PAGES
    for n in range(30):
        with Session(db) as session:
            session.add(Team(name=f"team {n}"))
            session.commit()
    deadline = time.monotonic() + 10 * CHECKPOINT_EVERY_S
    while in_the_file_alone(path) != 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert in_the_file_alone(path) == 30
    db.dispose()


def in_the_file_alone(path: Path) -> int:
    """The teams the database file holds, the log not read (immutable: nothing is checkpointed by
    reading); none while even the table is only in the log."""
    reader = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        return int(reader.execute("SELECT count(*) FROM team").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        reader.close()


def _wait_until(condition: Any) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the waiters never queued"
        time.sleep(0.001)


def _in_another_thread(call: Any) -> Any:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(call()))
    thread.start()
    thread.join(10)
    return result[0]


def test_writers_get_the_lock_in_the_order_they_asked_for_it() -> None:
    """Eight updates in flight: a turn that has waited longest writes next; none is passed over
    by one that came later."""
    lock = FairLock()
    order: list[int] = []
    assert lock.acquire()

    def writer(n: int) -> None:
        with lock:
            order.append(n)

    threads = []
    for n in range(5):
        threads.append(threading.Thread(target=writer, args=(n,)))
        threads[-1].start()
        _wait_until(lambda n=n: len(lock._waiters) == n + 1)
    assert _in_another_thread(lambda: lock.acquire(blocking=False)) is False, "held, and others are waiting"
    lock.release()
    for thread in threads:
        thread.join(10)
    assert order == [0, 1, 2, 3, 4]
    assert _in_another_thread(lambda: lock.acquire(blocking=False) and (lock.release() or True))


def test_a_writer_that_gives_up_waiting_leaves_the_queue() -> None:
    """A wait with a timeout that runs out leaves the lock to the next in line, never to nobody."""
    lock = FairLock()
    assert lock.acquire()
    started = time.monotonic()
    assert _in_another_thread(lambda: lock.acquire(timeout=0.05)) is False
    assert time.monotonic() - started >= 0.05 and not lock._waiters
    lock.release()
    assert _in_another_thread(lambda: lock.acquire(blocking=False) and (lock.release() or True)), "free once its holder let go"


def test_the_thread_holding_the_lock_takes_it_again_and_keeps_it_until_released_as_often() -> None:
    """A turn handled on the event loop holds the lock throughout (Engine.handle_here) while its
    statements take it and give it back as any writer's do."""
    lock = FairLock()
    assert lock.acquire(blocking=False) and lock.acquire(blocking=False)
    lock.release()
    assert _in_another_thread(lambda: lock.acquire(blocking=False)) is False, "still held once"
    lock.release()
    assert _in_another_thread(lambda: lock.acquire(blocking=False) and (lock.release() or True))
    with pytest.raises(RuntimeError):
        lock.release()
