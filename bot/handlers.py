"""Telegram handlers: thin adapters that turn an Update into an Event for the engine.

Each handler says what the user sees; the engine decides it. Registration order is in
`register`. Each event carries its update id: the engine records it in the same
transaction as what the update changes, and the replies go to the outbox in that
transaction too (bot/outbox.py), so a redelivered update is recognised only once its
handling has committed, and a committed reply is sent even if this process dies first.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PollAnswerHandler,
    filters,
)

from bot import metrics
from bot.outbox import Outbox, Posting
from dialogs.core.events import Event, PollVote, Reply
from dialogs.engine import Engine
from dialogs.registry import BY_COMMAND
from storage.inbox import MAX_UPDATE_ID
from storage.users import guess_lang

log = logging.getLogger(__name__)


def _engine(context: ContextTypes.DEFAULT_TYPE) -> Engine:
    return context.application.bot_data["engine"]


def _outbox(context: ContextTypes.DEFAULT_TYPE) -> Outbox:
    return context.application.bot_data["outbox"]


def _event(update: Update, **what: str | PollVote | None) -> Event | None:
    """The update as an Event, or None for one nobody can be answered for: no sender (a
    channel post, an anonymous admin) or an update id no database column holds. A button
    on a message Telegram no longer shows (no message) is answered in the user's own chat."""
    user = update.effective_user
    if user is None or not 0 <= update.update_id <= MAX_UPDATE_ID:
        log.info("update %s ignored: it has no sender or an impossible id", update.update_id if update.update_id <= MAX_UPDATE_ID else "(too large)")
        return None
    chat = update.effective_chat
    return Event(
        user_id=user.id,
        chat_id=chat.id if chat is not None else user.id,
        name=user.full_name or "",
        lang_hint=user.language_code or "",
        update_id=update.update_id,
        **what,  # type: ignore[arg-type]
    )


def _posting(update: Update, context: ContextTypes.DEFAULT_TYPE, chat_id: int, update_id: int | None) -> Posting:
    query = update.callback_query
    pressed = query.message.message_id if query is not None and query.message is not None else None
    return _outbox(context).posting(chat_id, update_id, query.id if query is not None else "", pressed)


async def _respond(update: Update, context: ContextTypes.DEFAULT_TYPE, event: Event | None) -> None:
    """Handle the event, its replies written to the outbox in its transaction (a failure there
    reaches `on_error`, which tells the user), then send them. Once committed, a reply that
    cannot be sent now stays in the outbox for the sender's job, and is never answered with
    the error message."""
    if event is None:
        return
    posting = _posting(update, context, event.chat_id, event.update_id)
    with metrics.turn(event):
        engine = _engine(context)
        if engine.handle_here(event, posting) is None:
            await asyncio.to_thread(engine.handle, event, posting)
        try:
            await _outbox(context).flush(context.bot, posting)
        except Exception:  # committed: the outbox job sends what is left
            log.exception("update %s was handled; its replies wait in the outbox", update.update_id)


def _command_event(update: Update) -> Event | None:
    text = update.effective_message.text or "" if update.effective_message else ""
    head, _, args = text.partition(" ")
    command = head.lstrip("/").split("@", 1)[0]
    return _event(update, command=command, args=args.strip())


async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any /command: /start greets and asks for a language, /help lists commands,
    /menu shows the menu, /cancel leaves the current dialog, /lang switches language,
    and a dialog's command (e.g. /spin) starts that dialog."""
    await _respond(update, context, _command_event(update))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tells the user the command does not exist and points to /help."""
    await _respond(update, context, _command_event(update))


async def text_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Passes typed text to the user's current dialog (or offers the menu)."""
    await _respond(update, context, _event(update, text=update.effective_message.text))


async def other_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, stickers and the like: the bot asks for text."""
    await _respond(update, context, _event(update, text=""))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handles a button press; an expired or forged button is answered and changes nothing."""
    await _respond(update, context, _event(update, button=update.callback_query.data or ""))


async def poll_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A vote in a quiz poll: the answer to the question the poll asked, and the quiz goes on.
    It waits until this process has recorded the poll, should it still be sending it."""
    vote = update.poll_answer
    event = _event(update, vote=PollVote(vote.poll_id, tuple(vote.option_ids)))
    if event is not None:
        await _outbox(context).settled(event.chat_id)
    await _respond(update, context, event)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Logs the failure (update id and exception only) and tells the user their progress is kept;
    reached only when handling the event failed (nothing was committed), not when a reply
    could not be sent."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s: %s", update_id, type(context.error).__name__, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_user is None:
        return
    user, chat = update.effective_user, update.effective_chat
    posting = _posting(update, context, chat.id if chat is not None else user.id, None)
    try:
        await asyncio.to_thread(_outbox(context).post, posting, [Reply("error", guess_lang(user.language_code or ""))])
        await _outbox(context).flush(context.bot, posting)
    except Exception:  # the error path must never raise again
        log.exception("could not tell the user about the error in update %s", update_id)


def register(app: Application) -> None:
    """All handlers in one ordered place. Note: order matters!"""
    private = filters.ChatType.PRIVATE
    known = ["start", "help", "menu", "cancel", "lang", *BY_COMMAND]
    app.add_handler(CommandHandler(known, command, filters=private))
    app.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(private & filters.TEXT, text_message))
    app.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, other_message))
    app.add_handler(CallbackQueryHandler(button))
    app.add_handler(PollAnswerHandler(poll_answer))
    app.add_error_handler(on_error)
