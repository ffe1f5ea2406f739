"""Telegram handlers: thin adapters that turn an Update into an Event for the engine.

Each handler says what the user sees; the engine decides it. Registration order is in
`register`. Each event carries its update id: the engine records it in the same
transaction as what the update changes, so a redelivered update is recognised only once
its handling has committed.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.delivery import deliver
from dialogs.core.context import guess_lang
from dialogs.engine import Engine
from dialogs.core.events import Event, Reply
from dialogs.registry import BY_COMMAND

log = logging.getLogger(__name__)


def _engine(context: ContextTypes.DEFAULT_TYPE) -> Engine:
    return context.application.bot_data["engine"]


def _event(update: Update, **what: str | None) -> Event:
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    return Event(
        user_id=user.id,
        chat_id=chat.id,
        name=user.full_name or "",
        lang_hint=user.language_code or "",
        update_id=update.update_id,
        **what,  # type: ignore[arg-type]
    )


async def _respond(update: Update, context: ContextTypes.DEFAULT_TYPE, event: Event) -> None:
    """Handle the event (a failure there reaches `on_error`, which tells the user), then send
    the replies: the action has been committed by then, so a failed send is logged, never
    answered with the error message."""
    replies = await asyncio.to_thread(_engine(context).handle, event)
    try:
        await deliver(context, event.chat_id, replies, update.callback_query)
    except TelegramError as exc:
        log.warning("update %s was handled but a reply was not delivered: %s", update.update_id, type(exc).__name__, exc_info=exc)


def _command_event(update: Update) -> Event:
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


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Logs the failure (update id and exception only) and tells the user their progress is kept;
    reached only when handling the event failed, not when a reply could not be sent."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s: %s", update_id, type(context.error).__name__, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    lang = guess_lang(update.effective_user.language_code or "" if update.effective_user else "")
    try:
        await deliver(context, update.effective_chat.id, [Reply("error", lang)], None)
        if update.callback_query is not None:
            await update.callback_query.answer()
    except Exception:  # noqa: BLE001 - the error path must never raise again
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
    app.add_error_handler(on_error)
