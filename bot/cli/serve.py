"""`salescoach run` and `salescoach webhook`: the Telegram bot, by long polling or behind a webhook."""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from collections.abc import Coroutine
from typing import Any

from bot.cli.common import EXIT_USAGE, CliError, start_engine
from bot.cli.terminal import FILES, cmd_console
from bot.settings import Settings, listen_address
from knowledge.cli import help_text, line, phrase


def wait_for_telegram(settings: Settings) -> None:
    """Waits until Telegram answers, saying on stderr each time it cannot be reached and when it
    tries again (1 s, doubling up to a minute); a refused token stops the command (exit 2)."""
    from telegram.error import InvalidToken, NetworkError

    from bot.telegram_app import api_base, reach_telegram

    def retrying(exc: NetworkError, delay: float) -> None:
        sys.stderr.write(f"salescoach: {line('unreachable', base=api_base(settings), reason=exc.message, delay=f'{delay:g}')}\n")
        sys.stderr.flush()

    try:
        asyncio.run(reach_telegram(settings, retrying))
    except InvalidToken as exc:
        raise CliError(line("token_refused"), EXIT_USAGE) from exc


def token_checked(settings: Settings) -> None:
    """Stops the command (exit 2) when TELEGRAM_BOT_TOKEN is missing or malformed."""
    problem = settings.token_problem()
    if problem:
        raise CliError(line("token_problem", problem=phrase(problem)), EXIT_USAGE)


def fonts_checked() -> None:
    """Stops the command (exit 1) when no font draws Chinese: charts and certificates would
    otherwise fail, or show boxes, in the middle of a rep's conversation."""
    from dialogs.pictures.fonts import MissingCjkFont, installed_cjk_fonts

    try:
        installed_cjk_fonts()  # found once: every picture after checks the same
    except MissingCjkFont as exc:
        raise CliError(str(exc)) from exc


def listening(address: str, port: int, settings_named: str) -> list[socket.socket]:
    """A server's sockets, bound before anything else starts; an address that is not this
    machine's or a port in use stops the command (exit 1), saying which and where it is set
    (`settings_named`: the key of that phrase in knowledge/cli.yaml)."""
    from tornado.netutil import bind_sockets

    try:
        return bind_sockets(port, address)
    except OSError as exc:
        raise CliError(line("cannot_listen", address=f"{address}:{port}", reason=exc.strerror or exc, settings=phrase(settings_named))) from exc


def polled_alone(serving: Coroutine[Any, Any, None]) -> None:
    """Runs long polling; Telegram's 409 Conflict (another process polls with this token, or a
    webhook is set for it) stops the command (exit 1), saying so in Chinese and English."""
    from telegram.error import Conflict

    from bot.inbox import OTHER_POLLER

    try:
        asyncio.run(serving)
    except Conflict as exc:
        if OTHER_POLLER in exc.message:
            raise CliError(line("another_poller")) from exc
        raise CliError(line("webhook_set")) from exc


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """The Telegram bot with long polling; waits for the network at start, saying so."""
    from bot.serving import serve_polling
    from bot.telegram_app import ALLOWED_UPDATES, build_application

    if args.base_url:
        settings.telegram_base_url = args.base_url
    token_checked(settings)
    health = listening(settings.health_listen, settings.health_port, "listen_health") if settings.health_port else []
    fonts_checked()
    app = build_application(settings, start_engine(settings))
    wait_for_telegram(settings)
    polled_alone(serve_polling(app, ALLOWED_UPDATES, health))
    return 0


def cmd_webhook(args: argparse.Namespace, settings: Settings) -> int:
    """The Telegram bot behind a webhook: our server (bot/webhook.py) refuses (403) any post without
    the secret token; waits for the network at start, saying so."""
    from urllib.parse import urlsplit

    from bot.telegram_app import ALLOWED_UPDATES, build_application
    from bot.webhook import serve

    for flag, name in (("base_url", "telegram_base_url"), ("url", "webhook_url"), ("listen", "webhook_listen"), ("port", "webhook_port")):
        if getattr(args, flag) is not None:
            setattr(settings, name, getattr(args, flag))
    token_checked(settings)
    fonts_checked()
    problem = settings.webhook_problem()
    if problem:
        raise CliError(line("webhook_problem", problem=phrase(problem)), EXIT_USAGE)
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    sockets = listening(settings.webhook_listen, settings.webhook_port, "listen_webhook")
    app = build_application(settings, start_engine(settings))
    wait_for_telegram(settings)
    asyncio.run(serve(app, settings, urlsplit(settings.webhook_url).path, ALLOWED_UPDATES, sockets))
    return 0


def cmd_main_job(args: argparse.Namespace, settings: Settings) -> int:
    """No subcommand: the Telegram bot when a token is set, else the terminal console."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        sys.stderr.write(line("console_without_token") + "\n")
        args.user, args.name, args.lang, args.jsonl, args.files = 1, "", "zh", False, FILES
        return cmd_console(args, settings)
    args.base_url = None
    return cmd_run(args, settings)


def _port(text: str) -> int:
    """A TCP port number for --port."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)")
    return int(text)


def _listen(text: str) -> str:
    """An address to listen on for --listen, checked as WEBHOOK_LISTEN is."""
    try:
        return listen_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} {exc}") from None


def add(sub: Any) -> None:
    """Register `run` and `webhook`."""
    run = sub.add_parser("run", help=help_text("run"))
    run.add_argument("--base-url", default=None, help=help_text("base_url"))
    run.set_defaults(func=cmd_run)

    webhook = sub.add_parser("webhook", help=help_text("webhook"))
    webhook.add_argument("--base-url", default=None, help=help_text("base_url"))
    webhook.add_argument("--url", default=None, help=help_text("webhook_url"))
    webhook.add_argument("--listen", type=_listen, default=None, help=help_text("webhook_listen"))
    webhook.add_argument("--port", type=_port, default=None, help=help_text("webhook_port"))
    webhook.set_defaults(func=cmd_webhook)
