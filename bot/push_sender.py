"""Working the push queue: invitations and reminders go out within Telegram's limits.

Every message takes its place in the send budget all bot processes share (bot/budget.py: 30 a
second overall with a small burst, one a second per chat); a 429 (RetryAfter) holds that chat,
for every process, by its retry_after and puts the delivery back, not counted as a try.
Telegram's refusals (bot/failures.py): a 403, or a 400 "chat not found" / "user is
deactivated", mark it undeliverable with the reason; any other 400 marks it failed with
Telegram's message; a 5xx or a network error is tried again, MAX_TRIES attempts in all, then
failed; a timeout (the message may have been delivered) is tried once more, never a third time.

The queue is claimed in small batches with a short lease (LEASE), the next batch while this one
goes out, so the budget is never left waiting on the database. Deliveries are sent one at a
time and each is marked sent in the step that learns Telegram accepted it, before the next is
sent: of a sender killed mid-push only the message in flight can reach its rep twice, and its
claims go back to the queue at once (a restart on the same host) or when LEASE runs out. A
batch held longer than its lease (the process stalled) is put back unsent. The trainer's final
summary goes through the reply outbox.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot import metrics
from bot.budget import SendBudget, taken
from bot.failures import Failure, classify, describe, retry_after
from bot.outbox import Outbox
from dialogs.core.callback import encode
from dialogs.core.events import Reply
from knowledge.copy import copy_text
from knowledge.loader import Knowledge
from knowledge.templates import render
from storage import deliveries
from storage.deliveries import Claimed, Progress
from storage.models import Assignment, Team, User
from storage.users import DEFAULT_LANG, language_of

log = logging.getLogger(__name__)
REMIND_BEFORE = timedelta(hours=24)
LEASE = timedelta(seconds=10)
BATCH = 15
LEASE_USE = 0.8  # of a batch's lease, the part within which its deliveries are sent; the rest goes back


class PushSender:
    """Sends what the queue holds; several senders (processes) may share one queue."""

    def __init__(
        self,
        db: DbEngine,
        knowledge: Knowledge,
        *,
        owner: str = "push",
        outbox: Outbox | None = None,
        rate: float = 30.0,
        per_chat_seconds: float = 1.0,
        lease: timedelta = LEASE,
        batch: int = BATCH,
        progress_every: float = 1.0,
        retry_in: timedelta = timedelta(seconds=5),
    ) -> None:
        self.db = db
        self.owner = owner
        self.outbox = outbox or Outbox(db, owner)
        self.knowledge = knowledge
        self.budget = SendBudget(db, per_second=rate, chat_interval=per_chat_seconds)
        self.lease = lease
        self.batch = batch
        self.progress_every = progress_every
        self.retry_in = retry_in
        self.last_progress: dict[int, float] = {}

    def _title(self, quiz_id: str, path_id: str | None, lang: str) -> str:
        """The pushed quiz's or path's title in `lang` (its id if the content is gone)."""
        content = self.knowledge.paths.get(path_id) if path_id else self.knowledge.quizzes.get(quiz_id)
        return content.title.get(lang) if content else path_id or quiz_id

    def _message(self, item: Claimed) -> tuple[str, InlineKeyboardMarkup]:
        deadline = item.deadline.strftime("%Y-%m-%d %H:%M") if item.deadline else ""
        key, label, action = ("path_push", "path_open", "go:path") if item.path_id else ("push", "push_start", f"go:quiz:{item.quiz_id}")
        text = render(item.lang, f"{key}_{item.kind}", {"title": self._title(item.quiz_id, item.path_id, item.lang), "deadline": deadline})
        button = InlineKeyboardButton(copy_text().label(label, item.lang), callback_data=encode(action, None))
        return text, InlineKeyboardMarkup([[button]])

    async def _send(self, bot: Bot, item: Claimed, wait: float, then: Callable[[], object]) -> None:
        """Sends `item` once the budget allowed it (`wait` 0; else it is deferred by `wait`),
        calls `then()` (the next message's take, made while this one is recorded) and records
        the outcome: sent, in the step that learns Telegram accepted it, before anything else goes."""
        if wait:
            then()
            await asyncio.to_thread(deliveries.defer, self.db, item.id, self.owner, timedelta(seconds=wait), "per-chat limit")
            return
        # Shielded: a sender stopped in the middle (its job cancelled) still records the message
        # it handed to Telegram, so the sender after it does not send that message again.
        await asyncio.shield(self._deliver(bot, item, then))

    async def _deliver(self, bot: Bot, item: Claimed, then: Callable[[], object]) -> None:
        """Sends one message and records the outcome."""
        text, markup = self._message(item)
        try:
            await bot.send_message(item.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup, **taken(bot))
        except TelegramError as exc:
            metrics.sent("push", exc)
            if isinstance(exc, RetryAfter):
                await self.budget.hold(item.chat_id, retry_after(exc))
            then()
            await asyncio.to_thread(self._failed, item, exc)
        else:
            metrics.sent("push")
            then()
            if not await asyncio.to_thread(deliveries.mark_sent, self.db, item.id, self.owner):
                log.warning("delivery %s was sent after this sender's claim had run out", item.id)

    def _failed(self, item: Claimed, exc: TelegramError) -> None:
        """Records a failed send by its kind (bot/failures.py)."""
        failure = classify(exc)
        if isinstance(exc, RetryAfter):
            deliveries.defer(self.db, item.id, self.owner, retry_after(exc), "429 retry after")
        elif failure in (Failure.UNREACHABLE, Failure.REFUSED):
            status = 403 if isinstance(exc, Forbidden) else 400
            mark = deliveries.mark_undeliverable if failure is Failure.UNREACHABLE else deliveries.mark_failed
            mark(self.db, item.id, self.owner, f"{status} {exc.message}")
        elif failure is Failure.UNSURE:
            log.warning("delivery %s timed out and may have been delivered: %s", item.id, type(exc).__name__)
            deliveries.mark_unsure(self.db, item.id, self.owner, self.retry_in, describe(exc), item.unsure)
        else:
            log.warning("delivery %s failed (try %d): %s", item.id, item.tries, type(exc).__name__)
            deliveries.mark_retry(self.db, item.id, self.owner, self.retry_in, describe(exc), item.tries)

    async def _claim(self) -> tuple[float, list[Claimed]]:
        """The next batch of due deliveries, and when it was claimed."""
        claimed_at = time.monotonic()
        return claimed_at, await asyncio.to_thread(deliveries.claim, self.db, self.batch, self.lease, owner=self.owner)

    async def _send_batch(self, bot: Bot, claimed_at: float, items: list[Claimed]) -> None:
        """Sends the batch one by one, each message's place in the budget taken while the one
        before is recorded; what is left when most of the lease is gone goes back unsent."""
        takes: dict[int, asyncio.Task[float]] = {}

        def take(i: int) -> None:
            if i < len(items):
                takes[i] = asyncio.create_task(self.budget.push(items[i].chat_id))

        take(0)
        for i, item in enumerate(items):
            wait = await takes[i]
            if time.monotonic() - claimed_at > self.lease.total_seconds() * LEASE_USE:
                await asyncio.to_thread(deliveries.release, self.db, [rest.id for rest in items[i:]], self.owner)
                break
            await self._send(bot, item, wait, partial(take, i + 1))

    async def run_once(self, bot: Bot) -> int:
        """Send one batch of due deliveries and report on it; returns how many were claimed."""
        claimed_at, items = await self._claim()
        await self._send_batch(bot, claimed_at, items)
        if items:
            await self.report(bot, {item.assignment_id for item in items})
        return len(items)

    async def work(self, bot: Bot, still_mine: Callable[[], Awaitable[bool]] | None = None) -> int:
        """Send due deliveries until none is left (or `still_mine()` says this process no longer
        runs the queue), claiming the next batch while this one goes out; returns how many. The
        trainers' progress is reported every `progress_every` seconds and at the end."""
        done, pushes, reported = 0, set[int](), time.monotonic()
        claimed_at, items = await self._claim()
        while items:
            upcoming = asyncio.create_task(self._claim())
            await self._send_batch(bot, claimed_at, items)
            done += len(items)
            pushes |= {item.assignment_id for item in items}
            if time.monotonic() - reported >= self.progress_every:
                await self.report(bot, pushes)
                reported = time.monotonic()
            claimed_at, items = await upcoming
            if items and still_mine is not None and not await still_mine():
                await asyncio.to_thread(deliveries.release, self.db, [item.id for item in items], self.owner)
                break
        if pushes:
            await self.report(bot, pushes)
        return done

    async def report(self, bot: Bot, assignment_ids: set[int], force: bool = False) -> None:
        """Edit each trainer's progress message, and send the summary once a push is complete."""
        for item in deliveries.progress(self.db, assignment_ids):
            await self._report_one(bot, item, force)

    def _trainer_lang(self, chat_id: int) -> str:
        with Session(self.db) as session:
            user = session.get(User, chat_id)
            return language_of(user) if user is not None else DEFAULT_LANG

    async def _report_one(self, bot: Bot, item: Progress, force: bool) -> None:
        if item.chat_id is None or item.message_id is None:
            return
        lang = self._trainer_lang(item.chat_id)
        complete = item.done >= item.total
        now = time.monotonic()
        if item.done != item.shown and (complete or force or now - self.last_progress.get(item.assignment_id, 0.0) >= self.progress_every):
            self.last_progress[item.assignment_id] = now
            text = render(lang, "push_progress", self._progress_data(item, lang))
            try:
                await bot.edit_message_text(text, chat_id=item.chat_id, message_id=item.message_id, parse_mode=ParseMode.HTML)
            except TelegramError as exc:
                log.info("could not edit progress of push %s: %s", item.assignment_id, type(exc).__name__)
            deliveries.set_progress_shown(self.db, item.assignment_id, item.done)
        if complete and not item.summary_sent:
            summary = Reply("push_summary", lang, {"sent": item.sent, "undeliverable": item.undeliverable, "failed": item.failed, "total": item.total})
            posting = self.outbox.posting(item.chat_id, None)
            if deliveries.claim_summary(self.db, item.assignment_id, lambda session: posting(session, [summary])):
                await self.outbox.flush(bot, posting)

    def _progress_data(self, item: Progress, lang: str) -> dict[str, object]:
        with Session(self.db) as session:
            assignment = session.get(Assignment, item.assignment_id)
            assert assignment is not None
            team = session.get(Team, assignment.team_id) if assignment.team_id else None
            return {
                "title": self._title(assignment.quiz_id, assignment.path_id, lang),
                "target": team.name if team else "all",
                "done": item.done,
                "total": item.total,
                "deadline": assignment.deadline.strftime("%Y-%m-%d %H:%M") if assignment.deadline else "",
            }

    async def tick(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """JobQueue callback: work the queue until nothing is due."""
        await self.work(context.bot)

    async def remind(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """JobQueue callback: queue reminders for pushes whose deadline is near."""
        deliveries.queue_reminders(self.db, REMIND_BEFORE)
