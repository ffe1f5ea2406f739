"""Writers to one SQLite file in one process take turns on a lock, not in SQLite's busy wait."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, func
from sqlmodel import Session, select

from storage.db import make_engine
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
