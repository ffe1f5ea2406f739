"""Building the python-telegram-bot Application around the engine."""

from __future__ import annotations

from telegram import BotCommand
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder
from telegram.request import BaseRequest

from bot.handlers import register
from bot.settings import Settings
from dialogs.engine import Engine
from dialogs.router import public_commands
from knowledge.copy import copy_text


def command_list(lang: str) -> list[BotCommand]:
    """The command menu Telegram shows, in one language."""
    commands = copy_text().commands
    return [BotCommand(name, commands[name].get(lang)) for name in public_commands()]


async def publish_commands(app: Application) -> None:
    """Registers the command list with Telegram in Chinese (the default) and English."""
    await app.bot.set_my_commands(command_list("zh"))
    await app.bot.set_my_commands(command_list("zh"), language_code="zh")
    await app.bot.set_my_commands(command_list("en"), language_code="en")


def build_application(settings: Settings, engine: Engine, *, request: BaseRequest | None = None) -> Application:
    """The Telegram Application: handlers registered, engine attached, rate limits on."""
    assert settings.telegram_bot_token is not None
    builder = ApplicationBuilder().token(settings.telegram_bot_token.get_secret_value())
    if settings.telegram_base_url:
        base = settings.telegram_base_url.rstrip("/").removesuffix("/bot")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    builder = builder.rate_limiter(AIORateLimiter(max_retries=3)).post_init(publish_commands)
    app = builder.build()
    app.bot_data["engine"] = engine
    register(app)
    return app
