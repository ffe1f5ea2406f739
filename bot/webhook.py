"""The webhook server: Telegram posts updates here, and only Telegram, which knows the secret.

A small tornado app of our own in place of PTB's webhook server, because it must:
- refuse a body over MAX_BODY before reading it (tornado's `max_body_size` answers 400 from
  the Content-Length alone and closes the connection; Telegram's updates are far smaller);
- compare the secret token in constant time (`hmac.compare_digest`);
- answer 400, never 500, to a body that is not JSON or not an update (an update id no
  database column holds included);
- answer 200 only once the update is committed to the inbox (bot/inbox.py), so an update
  is never acknowledged and then lost: if storing it fails, Telegram gets 500 and sends it again.
It also answers /healthz and /metrics (bot/operations.py).
"""

from __future__ import annotations

import hmac
import json
import logging
import socket
from http import HTTPStatus

import tornado.web
from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer

from bot.inbox import InboxWorker
from bot.operations import QuietApp, routes
from bot.serving import running, stop_on_signals
from bot.settings import Settings
from storage.inbox import MAX_UPDATE_ID

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class UpdateHandler(tornado.web.RequestHandler):
    """The one URL Telegram posts to."""

    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(self, app: Application, worker: InboxWorker, secret: str) -> None:
        self.app, self.worker, self.secret = app, worker, secret

    async def post(self) -> None:
        """Stores a genuine update in the inbox (200 once committed); a wrong secret gets 403,
        a body that is no update 400."""
        token = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(token.encode(), self.secret.encode()):
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        await self.worker.receive([self.update()])

    def update(self) -> Update:
        """The update in the body, or HTTPError 400 (logged without the body, which may hold personal data)."""
        try:
            data = json.loads(self.request.body)
            update = Update.de_json(data, self.app.bot) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("webhook: a post with the right secret is not an update (%s); refused", type(exc).__name__)
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST) from exc
        if update is None or not 0 <= update.update_id <= MAX_UPDATE_ID:
            log.warning("webhook: a post with the right secret is not an update; refused")
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST)
        return update


class WebhookApp(QuietApp):
    """Serves `path`, where Telegram posts, and /healthz and /metrics (bot/operations.py)."""

    def __init__(self, app: Application, worker: InboxWorker, path: str, secret: str) -> None:
        hook = (rf"{path.rstrip('/')}/?", UpdateHandler, {"app": app, "worker": worker, "secret": secret})
        super().__init__([hook, *routes(app.bot_data["engine"].db)])


async def serve(app: Application, settings: Settings, path: str, allowed_updates: list[str], sockets: list[socket.socket]) -> None:
    """Registers the webhook with Telegram, then stores what is posted to `path` on `sockets`
    (bound to WEBHOOK_LISTEN:WEBHOOK_PORT) in the inbox, which the worker handles, and answers
    /healthz and /metrics there, until SIGINT or SIGTERM."""
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value()
    stop = stop_on_signals()
    async with running(app) as worker:
        # One post at a time: Telegram then sends a rep's updates in order, so they are stored
        # (and handled, by whichever process) in update_id order; a post only stores (~1 ms).
        await app.bot.set_webhook(settings.webhook_url, secret_token=secret, allowed_updates=allowed_updates, max_connections=1)
        server = HTTPServer(WebhookApp(app, worker, path, secret), max_body_size=MAX_BODY)
        server.add_sockets(sockets)
        log.info("webhook: listening on %s:%s", settings.webhook_listen, settings.webhook_port)
        try:
            await stop.wait()
        finally:
            server.stop()
            await server.close_all_connections()
