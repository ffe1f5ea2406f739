"""Sending Replies to Telegram: HTML messages, inline keyboards, notices, edits, files."""

from __future__ import annotations

import asyncio
import logging

from telegram import BotCommand, BotCommandScopeChat, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.text import split_html
from storage.deliveries import set_progress_message
from dialogs.core.events import Button, Reply
from knowledge.templates import render

log = logging.getLogger(__name__)
NOTICE_LIMIT = 200
TOO_LATE = ("query is too old", "query id is invalid")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def keyboard(buttons: list[list[Button]]) -> InlineKeyboardMarkup | None:
    """The inline keyboard for a reply's buttons (None when it has none)."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in buttons])


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=NO_PREVIEW)
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return True
        return False
    return True


async def _answer(query: CallbackQuery, text: str = "") -> None:
    """Answer a button press; one answered too late for Telegram ("query is too old") is
    only logged: the rep has the reply itself, the answer just stops the spinner."""
    try:
        await query.answer(text)
    except BadRequest as exc:
        if not any(reason in exc.message.lower() for reason in TOO_LATE):
            raise
        log.info("a button press was answered too late: %s", exc.message)


async def deliver(context: ContextTypes.DEFAULT_TYPE, chat_id: int, replies: list[Reply], query: CallbackQuery | None) -> None:
    """Send every reply in order; a button press is always answered exactly once."""
    answered = False
    for reply in replies:
        if reply.command_menu is not None:
            commands = [BotCommand(name, description) for name, description in reply.command_menu]
            await context.bot.set_my_commands(commands, scope=BotCommandScopeChat(reply.chat_id or chat_id))
            continue
        text = render(reply.lang, reply.key, reply.data)
        if reply.notice and query is not None and not answered:
            await _answer(query, text[:NOTICE_LIMIT])
            answered = True
            continue
        markup = keyboard(reply.buttons)
        target = reply.chat_id or chat_id
        if reply.edit and query is not None and query.message is not None and len(text) <= 4096 and target == chat_id:
            if await _edit(query, text, markup):
                continue
        chunks = split_html(text)
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            sent = await context.bot.send_message(target, chunk, parse_mode=ParseMode.HTML, reply_markup=markup if last else None, link_preview_options=NO_PREVIEW)
        if reply.progress_of is not None:
            await asyncio.to_thread(set_progress_message, context.application.bot_data["engine"].db, reply.progress_of, target, sent.message_id)
        if reply.document is not None:
            caption = render(reply.lang, reply.document.caption_key, reply.data) if reply.document.caption_key else None
            await context.bot.send_document(target, reply.document.content, filename=reply.document.filename, caption=caption, parse_mode=ParseMode.HTML)
    if query is not None and not answered:
        await _answer(query)
