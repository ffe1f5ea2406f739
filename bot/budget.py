"""Telegram's limits for all bot processes together: 30 messages a second overall, one a second
per chat, a 429's retry_after honoured per chat, whoever sends (storage/pace.py keeps the
budget in the database).

Replies and pushes draw on one budget. Replies may use a burst of 10 overall and 4 per chat (a
long answer in several messages goes at once); pushes only 5 overall and strictly one a second
per chat, so a push running at full rate leaves replies room to go first. Only calls that show a
new message count (sendMessage, sendDocument, sendPhoto, sendPoll): Telegram's broadcast limit
is about those. A call
that has taken its place here says so to the process's own cap on calls (bot/telegram_app.py:
OverallLimit), which then lets it through uncounted: counted twice, a push at the full 30 a second
left the cap no room for the trainer's progress edits, and each edit took an invitation's turn.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine as DbEngine
from telegram import Bot
from telegram.ext import ContextTypes, ExtBot

from storage import pace
from storage.pace import Rule, Taken

COUNTED = frozenset({"message", "document", "photo", "poll"})
BURST, BULK_BURST = 10, 5
CHAT_BURST = 4
LONGEST_WAIT = 2.0  # a reply waits this long for its chat at most; longer, it goes back to the outbox
FORGET_AFTER = 60.0  # seconds after a chat's time has passed, its row goes (it may be sent to at once anyway)
TAKEN = "budget taken"  # the rate_limit_args of a call whose place in the budget is taken


def taken(bot: Bot) -> dict[str, Any]:
    """The keyword arguments that tell `bot`'s rate limiter a call has taken its place in the
    budget (none for a bot without one, which would refuse them)."""
    return {"rate_limit_args": TAKEN} if isinstance(bot, ExtBot) and bot.rate_limiter is not None else {}


class SendBudget:
    """The shared budget as the senders of one process see it."""

    def __init__(self, db: DbEngine, *, per_second: float = 30.0, chat_interval: float = 1.0) -> None:
        self.db = db
        interval = 1 / per_second
        self.reply_rules = (Rule(interval, BURST), Rule(chat_interval, CHAT_BURST))
        self.push_rules = (Rule(interval, BULK_BURST), Rule(chat_interval))

    async def _take(self, chat_id: int, overall: Rule, chat: Rule, longest: float) -> float:
        while True:
            taken: Taken = await asyncio.to_thread(pace.take, self.db, chat_id, time.time(), overall, chat)
            if taken.granted:
                return 0.0
            if taken.chat > longest:
                return taken.chat
            await asyncio.sleep(taken.overall or taken.chat)

    async def reply(self, chat_id: int) -> float:
        """Waits until a reply may go to `chat_id`; 0 once it may, or the seconds the chat must
        still wait when that is more than LONGEST_WAIT (after a 429): the caller puts it back."""
        return await self._take(chat_id, *self.reply_rules, LONGEST_WAIT)

    async def push(self, chat_id: int) -> float:
        """Waits for the whole bot's budget; 0 once a push may go to `chat_id`, or the seconds
        until the chat may have another message (the caller defers this one)."""
        return await self._take(chat_id, *self.push_rules, 0.0)

    async def hold(self, chat_id: int, after: timedelta) -> None:
        """Telegram answered 429: nothing goes to `chat_id`, from any process, for `after`."""
        slack = max(rule.slack for rule in (self.reply_rules[1], self.push_rules[1]))
        await asyncio.to_thread(pace.hold, self.db, chat_id, time.time() + after.total_seconds() + slack)

    async def prune(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """JobQueue callback (once per deployment): forget the chats that may be sent to at once anyway."""
        await asyncio.to_thread(pace.prune, self.db, time.time() - FORGET_AFTER)
