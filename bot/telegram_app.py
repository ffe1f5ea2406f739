"""Building the python-telegram-bot Application around the engine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import Bot, BotCommand, Update
from telegram.error import NetworkError
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter, ContextTypes
from telegram.request import BaseRequest

from bot.budget import TAKEN, SendBudget
from bot.claims import new_owner
from bot.handlers import register
from bot.jobs import Lease, once_per_deployment
from bot.outbox import Outbox
from bot.push_sender import PushSender
from bot.review_nudges import ReviewNudges
from bot.settings import Settings
from dialogs.core.commands import described
from dialogs.engine import Engine
from dialogs.registry import CATALOGUE

# The kinds of update the handlers use; Telegram is asked for no others.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.POLL_ANSWER]
TELEGRAM = "https://api.telegram.org"


class OverallLimit(BaseRateLimiter[str]):
    """This process's cap on Bot API calls of every kind: at most `per_second` a second, whatever
    the chat (getUpdates is never limited). New messages also take their place in the budget
    all processes share (bot/budget.py); one that says it has (`rate_limit_args` budget.TAKEN:
    the push sender's invitations) goes at once and is not counted, and this cap bounds the rest
    (edits, button answers, command menus) per process. Unlike PTB's AIORateLimiter, a 429 is
    neither retried here nor does it halt other calls: it reaches the outbox or the push sender,
    which delay that chat alone."""

    def __init__(self, per_second: float = 30.0) -> None:
        self.limiter = AsyncLimiter(per_second, 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> Any:
        """Waits for the overall budget, then makes the call; at once if the shared budget has paced it."""
        if rate_limit_args == TAKEN:
            return await callback(*args, **kwargs)
        async with self.limiter:
            return await callback(*args, **kwargs)


def api_base(settings: Settings) -> str:
    """The Bot API server the bot talks to: TELEGRAM_BASE_URL (without its /bot) or Telegram's own."""
    return (settings.telegram_base_url or TELEGRAM).rstrip("/").removesuffix("/bot")


async def reach_telegram(settings: Settings, on_retry: Callable[[NetworkError, float], None], longest: float = 60.0) -> None:
    """Returns once the Bot API answers getMe; after each network failure `on_retry` is told the
    error and the wait before the next try, which doubles from 1 s up to `longest`. A token the
    server refuses raises telegram.error.InvalidToken."""
    base = api_base(settings)
    assert settings.telegram_bot_token is not None
    delay = 1.0
    while True:
        try:
            async with Bot(settings.telegram_bot_token.get_secret_value(), base_url=f"{base}/bot", base_file_url=f"{base}/file/bot"):
                return
        except NetworkError as exc:
            on_retry(exc, delay)
            await asyncio.sleep(delay)
            delay = min(2 * delay, longest)


def command_list(lang: str) -> list[BotCommand]:
    """The command menu a rep sees, in one language (other roles get theirs per chat)."""
    return [BotCommand(name, description) for name, description in described(CATALOGUE.visible({"rep"}), lang)]


async def publish_commands(app: Application) -> None:
    """Learns the bot's username for invitation links and registers the command list
    with Telegram in Chinese (the default) and English."""
    engine: Engine = app.bot_data["engine"]
    engine.settings = replace(engine.settings, bot_username=app.bot.username)
    await app.bot.set_my_commands(command_list("zh"))
    await app.bot.set_my_commands(command_list("zh"), language_code="zh")
    await app.bot.set_my_commands(command_list("en"), language_code="en")


def build_application(settings: Settings, engine: Engine, *, request: BaseRequest | None = None, rate_limited: bool = True) -> Application:
    """The Telegram Application: handlers registered, engine and outbox attached, the send
    budget shared with every other process, and the jobs: each process sends the outbox's due
    calls (claimed row by row, so processes share the work), while the push queue, the reminders,
    the review nudges and the pruning run in one process of the deployment at a time (bot/jobs.py).

    `rate_limited=False` is for benchmarks: the limits keep us within Telegram's and would
    otherwise be all a benchmark of replies measured.
    """
    assert settings.telegram_bot_token is not None
    builder = ApplicationBuilder().token(settings.telegram_bot_token.get_secret_value())
    if settings.telegram_base_url:
        base = api_base(settings)
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if rate_limited:
        builder = builder.rate_limiter(OverallLimit())
    builder = builder.post_init(publish_commands)
    app = builder.build()
    owner = new_owner()
    app.bot_data["engine"] = engine
    app.bot_data["owner"] = owner
    budget = SendBudget(engine.db)
    outbox = Outbox(engine.db, owner, budget=budget if rate_limited else None)
    app.bot_data["outbox"] = outbox
    sender = PushSender(engine.db, engine.knowledge, owner=owner, outbox=outbox)
    app.bot_data["sender"] = sender
    nudger = ReviewNudges(engine.db, engine.knowledge, outbox, engine.settings)
    app.bot_data["nudger"] = nudger
    register(app)
    if app.job_queue is not None:
        leases = {name: Lease(engine.db, name, owner) for name in ("push-queue", "push-reminders", "review-nudges", "prune")}
        app.bot_data["leases"] = list(leases.values())

        async def push_queue(context: ContextTypes.DEFAULT_TYPE) -> None:
            await sender.work(context.bot, leases["push-queue"].held)

        async def prune(context: ContextTypes.DEFAULT_TYPE) -> None:
            await outbox.prune(context)
            await budget.prune(context)

        app.job_queue.run_repeating(outbox.tick, interval=1, first=0.5, name="outbox")
        app.job_queue.run_repeating(once_per_deployment(leases["push-queue"], push_queue), interval=1, first=1, name="push-queue")
        app.job_queue.run_repeating(once_per_deployment(leases["push-reminders"], sender.remind), interval=10, first=2, name="push-reminders")
        app.job_queue.run_repeating(once_per_deployment(leases["review-nudges"], nudger.tick), interval=60, first=10, name="review-nudges")
        app.job_queue.run_repeating(once_per_deployment(leases["prune"], prune), interval=600, first=30, name="prune")
    return app
