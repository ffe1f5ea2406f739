"""The inbox, Telegram side: updates are stored before Telegram is told they arrived, then
handled one person at a time, in update_id order, by whichever process claims that person.

- Long polling (`poll`): each batch from getUpdates is committed to the inbox before the next
  getUpdates moves Telegram's offset past it. The webhook (bot/webhook.py) answers 200 only
  once the posted update is committed. A crash before that: Telegram sends the update again.
- `InboxWorker` handles what the inbox holds through the Application's handlers: several
  people at once, each person's updates one after another. A crash mid-handling: the update
  stays in the inbox, and the process that starts next (or, on another host, any process
  once the claim's lease has run out) handles it; the engine recognises one whose handling
  had committed (ProcessedUpdate).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.engine import Engine as DbEngine
from telegram import Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application

from bot.failures import retry_after
from bot.metrics import TOO_MANY_REQUESTS
from storage import inbox
from storage.db import writer_lock_if_free
from storage.inbox import MAX_TRIES, MAX_UPDATE_ID, Incoming
from storage.loop_connection import LoopConnection
from storage.updates import forget_processed

log = logging.getLogger(__name__)
POLL_TIMEOUT = 10
SWEEP_SECONDS = 1.0
STOP_WAIT_SECONDS = 10.0
OTHER_POLLER = "terminated by other getUpdates request"
KEEP_PROCESSED = timedelta(days=7)
PRUNE_SECONDS = 3600.0
T = TypeVar("T")


def person_of(update: Update) -> int:
    """Whose queue an update joins: its sender, else its chat (0 for neither)."""
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return 0


def storable(updates: list[Update]) -> list[tuple[int, int, dict[str, Any]]]:
    """The updates as inbox rows; one whose id no database column holds is logged and left out."""
    rows = []
    for update in updates:
        if not 0 <= update.update_id <= MAX_UPDATE_ID:
            log.warning("an update with an impossible id was ignored")
            continue
        rows.append((update.update_id, person_of(update), update.to_dict()))
    return rows


async def written(db: DbEngine, write: Callable[..., T], *args: Any) -> T:
    """`write(*args)`, one of the inbox's short writes (0.1-0.3 ms): on the event loop when this
    process's SQLite writer lock is free this instant, held throughout so it waits on no other
    thread; else in a thread, as always on PostgreSQL, whose statements wait on the network.
    In a thread each write cost two thread hops and, with updates in flight, often found the
    lock taken by a turn, which then went to a thread too (bench/roleplay_bench.py --inbox).
    As with Engine.handle_here, another process writing the same SQLite file (a `salescoach`
    command) holds the loop for as long as its write. On PostgreSQL the worker makes these writes
    on the event loop's own connection instead (`InboxWorker.loop_db`)."""
    with writer_lock_if_free(db) as held:
        if held:
            return write(*args)
    return await asyncio.to_thread(write, *args)


class InboxWorker:
    """Handles the inbox's updates through `app`'s handlers; several processes may share an inbox.

    With `loop_db` (PostgreSQL: the outbox's, storage/loop_connection.py), storing updates,
    claiming those waiting and finishing one are each one statement awaited on the event loop,
    not a transaction in a thread; the thread's way remains for when that connection fails."""

    def __init__(
        self,
        app: Application,
        db: DbEngine,
        owner: str,
        *,
        loop_db: LoopConnection | None = None,
        lease: timedelta = timedelta(minutes=2),
        parallel: int = 8,
    ) -> None:
        self.app, self.db, self.owner, self.loop_db, self.lease, self.parallel = app, db, owner, loop_db, lease, parallel
        self.working: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._left = False  # updates were left in the inbox when this worker last looked
        self._pruned_at: float | None = None

    async def receive(self, updates: list[Update]) -> None:
        """Commit the updates to the inbox and start on them; raises if they could not be stored.

        While the worker has room, the updates of people with nothing else waiting are claimed
        as they are stored and handled at once; the rest wait for the worker's next round.
        """
        room = len(self.working) < self.parallel and not self._stopping
        claimed = await self._write(inbox.receive_on_loop, inbox.receive, storable(updates), self.owner if room else "")
        received = {update.update_id: update for update in updates}
        for item in claimed:
            self._start(item, received[item.update_id])
        if len(claimed) < len(updates):
            self._left = True
            self.wake()

    async def _write(self, on_loop: Callable[..., Awaitable[T | None]], in_thread: Callable[..., T], *args: Any) -> T:
        """`on_loop(self.loop_db, *args)`, one statement awaited on the event loop (PostgreSQL);
        `in_thread(self.db, *args)` (`written`) elsewhere, or when that could not be made."""
        if self.loop_db is not None:
            done = await on_loop(self.loop_db, *args)
            if done is not None:
                return done
        return await written(self.db, in_thread, self.db, *args)

    def _start(self, item: Incoming, update: Update | None = None) -> None:
        """Work `item`'s person from `item` on (`update` is it, already read), in a task of their own."""
        self.working[item.user_key] = asyncio.create_task(self._work(item, update), name=f"inbox:{item.user_key}")

    def wake(self) -> None:
        """Look at the inbox now rather than at the next sweep."""
        self._wake.set()

    async def run(self) -> None:
        """Claim people whose next update nobody handles and work them, until `stop`; once an
        hour (and at start) forget the updates handled more than a week ago."""
        while not self._stopping:
            self._wake.clear()
            await self._prune()
            free = self.parallel - len(self.working)
            self._left = True
            if free > 0:
                try:
                    heads, self._left = await self._write(inbox.heads_on_loop, inbox.claim_heads, self.owner, self.lease, free, set(self.working))
                except Exception:  # the database may be back at the next sweep
                    log.exception("could not read the inbox")
                    heads = []
                for head in heads:
                    self._start(head)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), SWEEP_SECONDS)

    async def _prune(self) -> None:
        """Forget week-old processed updates if the last pruning was PRUNE_SECONDS ago."""
        now = time.monotonic()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_SECONDS:
            return
        self._pruned_at = now
        try:
            await asyncio.to_thread(forget_processed, self.db, KEEP_PROCESSED)
        except Exception:  # tried again in an hour
            log.exception("could not forget old processed updates")

    async def _work(self, first: Incoming, update: Update | None) -> None:
        """One person's updates, one after another, while their queue has any."""
        item: Incoming | None = first
        person = first.user_key
        try:
            while item is not None and not self._stopping:
                await self._handle(item, update if item is first else None)
                following = await self._write(inbox.next_on_loop, inbox.finish_and_next, item, self.owner, self.lease)
                item = following[0] if following else None
        except Exception:  # the claim runs out and the update is handled again
            log.exception("the inbox could not go on with an update")
        finally:
            if self.working.get(person) is asyncio.current_task():
                del self.working[person]
            if self._left:
                self.wake()

    async def _handle(self, item: Incoming, update: Update | None) -> None:
        """Hands the update (read from its stored form unless given) to the Application's
        handlers; one that was claimed MAX_TRIES times without being finished (its process died
        each time) is dropped, not tried again."""
        if item.tries > MAX_TRIES:
            log.error("update %s was claimed %d times without being handled; dropped", item.update_id, item.tries - 1)
            return
        await self.app.process_update(update or Update.de_json(item.payload, self.app.bot))

    async def stop(self) -> None:
        """Stop claiming, let the updates in hand finish (for a while), and give back the rest."""
        self._stopping = True
        self.wake()
        tasks = list(self.working.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=STOP_WAIT_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.to_thread(inbox.release, self.db, self.owner)


def worker_for(app: Application) -> InboxWorker:
    """The inbox worker of the bot `app` (bot/telegram_app.build_application); on PostgreSQL it
    writes on the outbox's event-loop connection, one per process."""
    return InboxWorker(app, app.bot_data["engine"].db, app.bot_data["owner"], loop_db=app.bot_data["outbox"].loop_db)


async def poll(app: Application, worker: InboxWorker, allowed_updates: list[str], stop: asyncio.Event) -> None:
    """Long polling until `stop`: each batch is committed to the inbox before the next
    getUpdates confirms it to Telegram. Network trouble is waited out (1 s, doubling up to a
    minute); a token Telegram refuses ends polling with InvalidToken.

    Telegram answers 409 Conflict to a getUpdates that another one, made with the same token,
    cut short: two processes are polling. The process that was there first goes on: it is
    settled, having once waited a whole poll without anyone else polling (an empty answer).
    The newcomer never is (the other one polls again a second after the newcomer's first
    poll cut its own short), and ends polling with the Conflict. A Conflict because a webhook
    is set ends polling too: Telegram sends the updates there now."""
    settled = False
    offset: int | None = None
    delay = 1.0
    while not stop.is_set():
        fetch = asyncio.ensure_future(app.bot.get_updates(offset=offset, timeout=POLL_TIMEOUT, allowed_updates=allowed_updates))
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not fetch.done():
            fetch.cancel()
            await asyncio.gather(fetch, return_exceptions=True)
            return
        try:
            updates = list(fetch.result())
            await worker.receive(updates)
        except InvalidToken:
            raise
        except Conflict as exc:
            if OTHER_POLLER not in exc.message or not settled:
                raise
            log.warning("another process started polling with this token; it will stop, this one goes on")
            await _pause(stop, 1.0)
            continue
        except RetryAfter as exc:
            TOO_MANY_REQUESTS.labels("poll").inc()
            await _pause(stop, retry_after(exc).total_seconds())
            continue
        except TelegramError as exc:
            log.warning("getUpdates failed (%s); trying again in %g s", exc.message, delay)
            await _pause(stop, delay)
            delay = min(2 * delay, 60.0)
            continue
        except Exception:  # the inbox could not store them: Telegram keeps them
            log.exception("fetched updates could not be stored; fetching them again in %g s", delay)
            await _pause(stop, delay)
            delay = min(2 * delay, 60.0)
            continue
        delay = 1.0
        settled = settled or not updates
        if updates:
            offset = updates[-1].update_id + 1


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if asked to stop."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
