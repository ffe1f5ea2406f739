"""Working the push queue: invitations and reminders go out within Telegram's limits.

At most `rate` messages a second overall and one a second per chat; a 429 (RetryAfter)
puts the delivery back with its retry_after, not counted as a try. Telegram's refusals
(bot/failures.py): a 403, or a 400 "chat not found" / "user is deactivated", mark it
undeliverable with the reason; any other 400 marks it failed with Telegram's message; a 5xx
or a network error is tried again, MAX_TRIES attempts in all, then failed; a timeout (the
message may have been delivered) is tried once more, never a third time. Each delivery is
marked sent right after Telegram accepts it, so a restart resumes where the queue stood;
only the message in flight when a sender dies can reach its rep twice. The trainer's
final summary goes through the reply outbox.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from aiolimiter import AsyncLimiter
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot import metrics
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

log = logging.getLogger(__name__)
REMIND_BEFORE = timedelta(hours=24)


class PushSender:
    """Sends what the queue holds; several senders (processes) may share one queue."""

    def __init__(
        self, db: DbEngine, knowledge: Knowledge, *, owner: str = "push", outbox: Outbox | None = None, rate: float = 30.0, per_chat_seconds: float = 1.0,
        lease: timedelta = timedelta(seconds=60), batch: int = 30, progress_every: float = 1.0, retry_in: timedelta = timedelta(seconds=5),
    ) -> None:
        self.db = db
        self.owner = owner
        self.outbox = outbox or Outbox(db, owner)
        self.knowledge = knowledge
        self.limiter = AsyncLimiter(1, 1 / rate)
        self.per_chat_seconds = per_chat_seconds
        self.lease = lease
        self.batch = batch
        self.progress_every = progress_every
        self.retry_in = retry_in
        self.last_to_chat: dict[int, float] = {}
        self.last_progress: dict[int, float] = {}

    def _message(self, item: Claimed) -> tuple[str, InlineKeyboardMarkup]:
        quiz = self.knowledge.quizzes.get(item.quiz_id)
        title = quiz.title.get(item.lang) if quiz else item.quiz_id
        deadline = item.deadline.strftime("%Y-%m-%d %H:%M") if item.deadline else ""
        text = render(item.lang, f"push_{item.kind}", {"title": title, "deadline": deadline})
        button = InlineKeyboardButton(copy_text().label("push_start", item.lang), callback_data=encode(f"go:quiz:{item.quiz_id}", None))
        return text, InlineKeyboardMarkup([[button]])

    async def _send(self, bot: Bot, item: Claimed) -> None:
        wait = self.last_to_chat.get(item.chat_id, 0.0) + self.per_chat_seconds - time.monotonic()
        if wait > 0:
            deliveries.defer(self.db, item.id, timedelta(seconds=wait), "per-chat limit")
            return
        text, markup = self._message(item)
        await self.limiter.acquire()
        self.last_to_chat[item.chat_id] = time.monotonic()
        try:
            await bot.send_message(item.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)
        except TelegramError as exc:
            metrics.sent("push", exc)
            self._failed(item, exc)
        else:
            metrics.sent("push")
            deliveries.mark_sent(self.db, item.id)

    def _failed(self, item: Claimed, exc: TelegramError) -> None:
        """Records a failed send by its kind (bot/failures.py)."""
        failure = classify(exc)
        if isinstance(exc, RetryAfter):
            deliveries.defer(self.db, item.id, retry_after(exc), "429 retry after")
        elif failure in (Failure.UNREACHABLE, Failure.REFUSED):
            status = 403 if isinstance(exc, Forbidden) else 400
            mark = deliveries.mark_undeliverable if failure is Failure.UNREACHABLE else deliveries.mark_failed
            mark(self.db, item.id, f"{status} {exc.message}")
        elif failure is Failure.UNSURE:
            log.warning("delivery %s timed out and may have been delivered: %s", item.id, type(exc).__name__)
            deliveries.mark_unsure(self.db, item.id, self.retry_in, describe(exc), item.unsure)
        else:
            log.warning("delivery %s failed (try %d): %s", item.id, item.tries, type(exc).__name__)
            deliveries.mark_retry(self.db, item.id, self.retry_in, describe(exc), item.tries)

    async def run_once(self, bot: Bot) -> int:
        """Send one batch of due deliveries; returns how many were handled."""
        items = deliveries.claim(self.db, self.batch, self.lease, owner=self.owner)
        for item in items:
            await self._send(bot, item)
        if items:
            await self.report(bot, {item.assignment_id for item in items})
        return len(items)

    async def report(self, bot: Bot, assignment_ids: set[int], force: bool = False) -> None:
        """Edit each trainer's progress message, and send the summary once a push is complete."""
        for item in deliveries.progress(self.db, assignment_ids):
            await self._report_one(bot, item, force)

    def _trainer_lang(self, chat_id: int) -> str:
        with Session(self.db) as session:
            user = session.get(User, chat_id)
            return user.lang if user is not None and user.lang else "zh"

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
            quiz = self.knowledge.quizzes.get(assignment.quiz_id)
            return {
                "title": quiz.title.get(lang) if quiz else assignment.quiz_id,
                "target": team.name if team else "all",
                "done": item.done,
                "total": item.total,
                "deadline": assignment.deadline.strftime("%Y-%m-%d %H:%M") if assignment.deadline else "",
            }

    async def tick(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """JobQueue callback: work the queue until nothing is due."""
        while await self.run_once(context.bot):
            pass

    async def remind(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """JobQueue callback: queue reminders for pushes whose deadline is near."""
        deliveries.queue_reminders(self.db, REMIND_BEFORE)
