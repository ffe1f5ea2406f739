"""Another thread of the bot's process writing to SQLite, for tests of what waits for it and what does not."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine as DbEngine

from storage.db import writer_lock


@contextmanager
def another_thread_writing(db: DbEngine) -> Iterator[threading.Event]:
    """Inside the block another thread holds this process's SQLite writer lock; it lets go once
    the Event yielded is set (set on leaving the block at the latest)."""
    lock = writer_lock(db)
    assert lock is not None, "a SQLite file"
    held, done = threading.Event(), threading.Event()

    def writer() -> None:
        with lock:
            held.set()
            done.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    held.wait(10)
    try:
        yield done
    finally:
        done.set()
        thread.join(10)
