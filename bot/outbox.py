"""The reply outbox, Telegram side: Replies become Bot API calls written in the update's own
transaction, and a sender makes them, retries them and records how each went.

- The engine hands an event's replies to a `Posting` inside its transaction: each is rendered
  (templates, Telegram HTML split at 4096 characters, buttons) into outbox rows, so a reply
  is stored exactly when what the update changed is.
- Right after the commit the handler sends them (`Outbox.flush`); a job (`Outbox.tick`, each
  second) sends whatever is still due: calls of a process that died, retries, and chats
  that waited after a 429.
- A chat's calls go out in order. A 429 delays that chat alone (by Telegram's retry_after);
  a 5xx or a failed connection is retried, waiting 1 s, 2 s, 4 s … up to a minute, MAX_TRIES
  attempts in all; a timeout (Telegram may have delivered the message) is retried once.
  Where the rep can see a reply twice is said in docs/architecture.md, "Delivery".
- Every new message takes its place in the send budget all bot processes share (bot/budget.py:
  30 a second overall, one a second per chat with a short burst); a 429 holds that chat for
  every process, pushes included.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session
from telegram import Bot, BotCommand, BotCommandScopeChat, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Poll
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot import metrics
from bot.budget import COUNTED, SendBudget, taken
from bot.failures import Failure, classify, describe, retry_after
from bot.text import TELEGRAM_LIMIT, split_html
from dialogs.core.events import Button, Picture, Reply
from dialogs.pictures.drawings import draw
from knowledge.templates import render
from storage import outbox
from storage.loop_connection import LoopConnection
from storage.outbox import GIVEN_UP_UNSURE, Call, Outgoing, SentMarks

log = logging.getLogger(__name__)
NOTICE_LIMIT = 200
CAPTION_LIMIT = 1024  # Telegram's limit on a photo's caption
TOO_LATE = ("query is too old", "query id is invalid")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
MAX_TRIES = 8
FIRST_RETRY = timedelta(seconds=1)
LONGEST_RETRY = timedelta(seconds=60)
UNSURE_RETRY = timedelta(seconds=2)
KEEP_SENT = timedelta(days=2)


def markup_of(buttons: list[list[Button]]) -> list[list[dict[str, str]]]:
    """A reply's buttons as inline keyboard rows (label and callback data)."""
    return [[{"text": b.label, "callback_data": b.data} for b in row] for row in buttons]


def keyboard(rows: list[list[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    """The inline keyboard for stored rows (None when there are none)."""
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row] for row in rows])


def outgoing(replies: list[Reply], chat_id: int, query_id: str = "", pressed: int | None = None) -> list[Outgoing]:
    """The Bot API calls that show `replies` in `chat_id`, in order: a notice answers the button
    press (`query_id`) in place, an edit replaces the pressed message (`pressed`) when it fits,
    long text is split into several messages (buttons under the last), a reply with a poll is
    that quiz poll instead of its text, a picture is a photo captioned with the reply's text
    (what does not fit a caption follows as messages), and a pressed button is always answered
    exactly once."""
    calls: list[Outgoing] = []
    answered = False
    for reply in replies:
        target = reply.chat_id or chat_id
        if reply.command_menu is not None:
            calls.append(Outgoing(target, "commands", {"commands": [list(c) for c in reply.command_menu]}))
            continue
        if reply.poll is not None:
            poll = reply.poll
            payload = {
                "question": poll.question,
                "options": list(poll.options),
                "correct": poll.correct,
                "explanation": poll.explanation,
                "target": poll.target.to_json(),
            }
            calls.append(Outgoing(target, "poll", payload))
            continue
        text = render(reply.lang, reply.key, reply.data)
        if reply.notice and query_id and not answered:
            calls.append(Outgoing(chat_id, "answer", {"text": text[:NOTICE_LIMIT]}, query_id=query_id))
            answered = True
            continue
        markup = markup_of(reply.buttons)
        if reply.edit and reply.picture is None and pressed is not None and len(text) <= TELEGRAM_LIMIT and target == chat_id:
            calls.append(Outgoing(target, "edit", {"text": text, "markup": markup}, edit_message_id=pressed, progress_of=reply.progress_of))
        else:
            picture = reply.picture
            chunks = split_html(text, CAPTION_LIMIT if picture else TELEGRAM_LIMIT)
            for i, chunk in enumerate(chunks):
                last = i == len(chunks) - 1
                shown = {"text": chunk, "markup": markup if last else []}
                if picture is not None and i == 0:
                    calls.append(Outgoing(target, "photo", {**shown, "filename": picture.filename, "drawing": picture.drawing, "args": picture.args}))
                else:
                    calls.append(Outgoing(target, "message", shown, progress_of=reply.progress_of if last else None))
        if reply.document is not None:
            caption = render(reply.lang, reply.document.caption_key, reply.data) if reply.document.caption_key else None
            calls.append(Outgoing(target, "document", {"filename": reply.document.filename, "caption": caption}, content=reply.document.content))
    if query_id and not answered:
        calls.append(Outgoing(chat_id, "answer", {"text": ""}, query_id=query_id))
    return calls


class Posting:
    """One event's replies on their way out: the engine calls it inside the event's transaction."""

    def __init__(self, owner: str, chat_id: int, update_id: int | None, query_id: str = "", pressed: int | None = None) -> None:
        self.owner, self.chat_id, self.update_id, self.query_id, self.pressed = owner, chat_id, update_id, query_id, pressed
        self.chats: list[int] = []
        self.claimed: dict[int, list[Call]] = {}

    def __call__(self, session: Session, replies: list[Reply]) -> None:
        """Writes the replies' calls to the outbox in `session`'s transaction (called again if
        the engine handles the event again after a race, so only the last call counts)."""
        calls = outgoing(replies, self.chat_id, self.query_id, self.pressed)
        self.chats = list(dict.fromkeys(call.chat_id for call in calls))
        self.claimed = outbox.queue(session, self.update_id, calls, self.owner)


class Outbox:
    """Sends what the outbox holds; several processes may share one outbox."""

    def __init__(
        self, db: DbEngine, owner: str, *, budget: SendBudget | None = None, lease: timedelta = timedelta(minutes=2), batch: int = 50, parallel: int = 8
    ) -> None:
        self.db, self.owner, self.budget, self.lease, self.batch = db, owner, budget, lease, batch
        self.parallel = asyncio.Semaphore(parallel)
        self._chats: dict[int, tuple[asyncio.Lock, list[int]]] = {}
        self.marks = SentMarks(db) if SentMarks.usable(db) else None
        self.loop_db = LoopConnection(db) if LoopConnection.usable(db) else None

    def posting(self, chat_id: int, update_id: int | None, query_id: str = "", pressed: int | None = None) -> Posting:
        """What the engine writes one event's replies with."""
        return Posting(self.owner, chat_id, update_id, query_id, pressed)

    def post(self, posting: Posting, replies: list[Reply]) -> None:
        """Write replies in a transaction of their own (for an event that committed nothing)."""
        with Session(self.db) as session:
            posting(session, replies)
            session.commit()

    async def settled(self, chat_id: int) -> None:
        """Returns once this process is not sending to the chat: a quiz poll it was sending is
        recorded by then, so a vote in it (which may arrive before that) is known. (Another
        process may still be sending one; people do not vote within milliseconds.)"""
        async with self._working(chat_id):
            return

    @contextlib.asynccontextmanager
    async def _working(self, chat_id: int) -> AsyncIterator[None]:
        """One sender task per chat in this process; others wait their turn."""
        lock, users = self._chats.setdefault(chat_id, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._chats[chat_id]

    async def flush(self, bot: Bot, posting: Posting) -> None:
        """Send what `posting` wrote, now (and anything due before it in the same chats)."""
        for chat_id in posting.chats:
            await self.flush_chat(bot, chat_id, posting.claimed.get(chat_id, []))

    async def flush_chat(self, bot: Bot, chat_id: int, claimed: Sequence[Call] = ()) -> None:
        """Send the chat's due calls in order: those already `claimed`, else the ones claimed now."""
        async with self._working(chat_id):
            calls = list(claimed) or await asyncio.to_thread(outbox.claim_chat, self.db, chat_id, self.owner, self.lease)
            for i, call in enumerate(calls):
                if not await self._send(bot, call):
                    await asyncio.to_thread(outbox.release, self.db, calls[i + 1 :], self.owner)
                    return

    async def _make(self, bot: Bot, call: Call) -> tuple[int | None, str | None]:
        """Makes the call; the id of the message it showed, if any, and of the poll in it."""
        data = call.payload
        paced = taken(bot) if self.budget is not None and call.kind in COUNTED else {}  # its place in the budget is taken (`_send`)
        if call.kind == "commands":
            await bot.set_my_commands([BotCommand(name, description) for name, description in data["commands"]], scope=BotCommandScopeChat(call.chat_id))
            return None, None
        if call.kind == "answer":
            await bot.answer_callback_query(call.query_id, data["text"] or None)
            return None, None
        if call.kind == "document":
            assert call.content is not None
            sent = await bot.send_document(call.chat_id, call.content, filename=data["filename"], caption=data["caption"], parse_mode=ParseMode.HTML, **paced)
            return sent.message_id, None
        if call.kind == "poll":
            sent = await bot.send_poll(
                call.chat_id,
                data["question"],
                data["options"],
                is_anonymous=False,
                type=Poll.QUIZ,
                correct_option_ids=[data["correct"]],
                explanation=data["explanation"] or None,
                **paced,
            )
            return sent.message_id, sent.poll.id if sent.poll is not None else None
        if call.kind == "photo":
            assert call.content is not None
            sent = await bot.send_photo(
                call.chat_id,
                call.content,
                filename=data["filename"],
                caption=data["text"] or None,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(data["markup"]),
                **paced,
            )
            return sent.message_id, None
        if call.kind == "edit" and call.edit_message_id is not None:
            try:
                edited = await bot.edit_message_text(
                    data["text"],
                    chat_id=call.chat_id,
                    message_id=call.edit_message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard(data["markup"]),
                    link_preview_options=NO_PREVIEW,
                )
                return (edited.message_id if not isinstance(edited, bool) else call.edit_message_id), None
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    return call.edit_message_id, None
                log.info("could not edit message %s (%s); sending it as a new one", call.edit_message_id, exc.message)
        sent = await bot.send_message(
            call.chat_id, data["text"], parse_mode=ParseMode.HTML, reply_markup=keyboard(data["markup"]), link_preview_options=NO_PREVIEW, **paced
        )
        return sent.message_id, None

    async def _send(self, bot: Bot, call: Call) -> bool:
        """Make one call and record how it went; False when the chat must wait before its next call."""
        if call.kind == "photo" and call.content is None:
            call = await self._drawn(call)
        if self.budget is not None and call.kind in COUNTED:
            wait = await self.budget.reply(call.chat_id)
            if wait:
                await asyncio.to_thread(outbox.mark_retry, self.db, call, self.owner, timedelta(seconds=wait), "waiting for the chat's limit", counted=False)
                return False
        try:
            message_id, poll_id = await self._make(bot, call)
        except TelegramError as exc:
            metrics.sent("reply", exc)
            if self.budget is not None and isinstance(exc, RetryAfter):
                await self.budget.hold(call.chat_id, retry_after(exc))
            return await asyncio.to_thread(self._failed, call, exc)
        metrics.sent("reply")
        if not await self._record_sent(call, message_id, poll_id):
            log.warning("reply %s was sent after this sender's claim had run out", call.id)
        return True

    async def _drawn(self, call: Call) -> Call:
        """The photo call with its picture drawn (in a thread: 60-110 ms of matplotlib); a picture
        that cannot be drawn is sent as its words alone, the caption it would have had."""
        data = call.payload
        try:
            content = await asyncio.to_thread(draw, Picture(data["filename"], data["drawing"], data["args"]))
        except Exception:
            log.exception("could not draw %s for reply %s; sending its words alone", data.get("drawing"), call.id)
            return replace(call, kind="message")
        return replace(call, content=content)

    async def _record_sent(self, call: Call, message_id: int | None, poll_id: str | None) -> bool:
        """Record the call as sent: at once on SQLite when it can be written without waiting
        (storage/outbox.SentMarks), awaited on the event loop on PostgreSQL
        (storage/loop_connection.py), else in a thread; a poll or a push's progress message is
        recorded with it, in a thread."""
        alone = outbox.recorded_alone(call, poll_id)
        if alone and self.marks is not None:
            done = self.marks.mark_sent(call, self.owner, message_id)
            if done is not None:
                return done
        elif alone and self.loop_db is not None:
            done = await outbox.mark_sent_on_loop(self.loop_db, call, self.owner, message_id)
            return done if done is not None else await asyncio.to_thread(outbox.mark_sent_in_doubt, self.db, call, self.owner, message_id)
        return await asyncio.to_thread(outbox.mark_sent, self.db, call, self.owner, message_id, poll_id)

    async def close(self) -> None:
        """Let go of the connection the event loop writes on (PostgreSQL; the inbox shares it)."""
        if self.loop_db is not None:
            await self.loop_db.close()

    def _failed(self, call: Call, exc: TelegramError) -> bool:
        """Records a failed call: given up (True: the chat goes on) or back in the queue (False)."""
        failure = classify(exc)
        if call.kind == "answer" and isinstance(exc, BadRequest) and any(reason in exc.message.lower() for reason in TOO_LATE):
            log.info("a button press was answered too late: %s", exc.message)
            outbox.mark_given_up(self.db, call, self.owner, "failed", describe(exc))
        elif isinstance(exc, RetryAfter):
            outbox.mark_retry(self.db, call, self.owner, retry_after(exc), describe(exc), counted=False)
            return False
        elif failure is Failure.UNREACHABLE:
            outbox.mark_given_up(self.db, call, self.owner, "undeliverable", describe(exc))
        elif failure is Failure.RETRY and call.tries + 1 < MAX_TRIES:
            log.warning("reply %s failed (try %d), retrying: %s", call.id, call.tries + 1, describe(exc))
            outbox.mark_retry(self.db, call, self.owner, min(FIRST_RETRY * 2**call.tries, LONGEST_RETRY), describe(exc))
            return False
        elif failure is Failure.UNSURE and call.unsure < 1:
            log.warning("reply %s timed out and may have been delivered; sending it once more: %s", call.id, describe(exc))
            outbox.mark_retry(self.db, call, self.owner, UNSURE_RETRY, describe(exc), unsure=True)
            return False
        elif failure is Failure.UNSURE:
            log.warning("reply %s timed out again; not sent a third time: %s", call.id, describe(exc))
            outbox.mark_given_up(self.db, call, self.owner, "failed", f"{GIVEN_UP_UNSURE}: {describe(exc)}", unsure=True)
        else:
            log.warning("reply %s given up: %s", call.id, describe(exc))
            outbox.mark_given_up(self.db, call, self.owner, "failed", describe(exc))
        return True

    async def tick(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """JobQueue callback: send every chat's due calls (after a restart, a retry or a 429)."""
        await self.work(context.bot)

    async def work(self, bot: Bot) -> int:
        """Send the due calls of up to `batch` chats, several chats at once; returns how many chats."""
        chats = [c for c in await asyncio.to_thread(outbox.due_chats, self.db, self.batch, self.lease) if c not in self._chats]

        async def one(chat_id: int) -> None:
            async with self.parallel:
                await self.flush_chat(bot, chat_id)

        await asyncio.gather(*(one(chat_id) for chat_id in chats))
        return len(chats)

    async def prune(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """JobQueue callback (once per deployment): forget calls finished more than KEEP_SENT ago."""
        await asyncio.to_thread(outbox.prune, self.db, KEEP_SENT)
