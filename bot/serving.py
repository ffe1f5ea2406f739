"""Running the Telegram bot as a service: start, work the inbox, stop cleanly on SIGINT or SIGTERM.

Shared by long polling (`salescoach run`) and the webhook (`salescoach webhook`, bot/webhook.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import AsyncIterator, Sequence

from telegram.ext import Application

from bot.claims import release_dead
from bot.inbox import InboxWorker, poll, worker_for
from bot.operations import health_server


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (a service manager's stop, or Ctrl-C)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


@contextlib.asynccontextmanager
async def running(app: Application) -> AsyncIterator[InboxWorker]:
    """The Application started (its jobs send the outbox and the push queue) with an inbox
    worker; what dead processes on this host held is released first, so it is handled and
    sent now rather than when their leases run out. What reading messages needs loads
    meanwhile (`Engine.warm_in_background`). On the way out it gives up the periodic jobs'
    leases, so another process takes them over at once."""
    engine = app.bot_data["engine"]
    owner = app.bot_data["owner"]
    engine.warm_in_background()
    async with app:
        if app.post_init is not None:
            await app.post_init(app)
        await asyncio.to_thread(release_dead, engine.db, owner)
        await app.start()
        worker = worker_for(app)
        working = asyncio.create_task(worker.run(), name="inbox")
        try:
            yield worker
        finally:
            await worker.stop()
            await working
            await app.stop()
            await app.bot_data["outbox"].close()
            for lease in app.bot_data.get("leases", []):
                await lease.let_go()


async def serve_polling(app: Application, allowed_updates: list[str], health: Sequence[socket.socket] = ()) -> None:
    """Long polling until SIGINT or SIGTERM, with /healthz and /metrics on `health` (HEALTH_PORT's
    sockets, if set); a webhook left over from `salescoach webhook` is removed first (Telegram
    refuses getUpdates while one is set)."""
    stop = stop_on_signals()
    async with running(app) as worker, health_server(app.bot_data["engine"].db, health):
        await app.bot.delete_webhook()
        await poll(app, worker, allowed_updates, stop)
