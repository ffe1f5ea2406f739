"""Benchmark for a role-play turn through the whole stack, against bare PTB in the same run.

Run ``python bench/roleplay_bench.py [--db sqlite|postgresql] [--concurrency N] [--inbox]``.
Each turn is a real Update fed to the bot's PTB Application offline (the recording request of
tests/telegram_fake.py, the rate limiter off): de-duplication, handlers, engine,
classifier, customer, the database commit with the reply's outbox row, sending the reply and
recording it. `--inbox` takes the running bot's whole path instead: the update is stored in
the inbox, the inbox worker claims and handles it, and the turn ends when the reply is sent.
The anchor is an Application
with one echo handler and the same offline request. The two run in alternating blocks,
so a busy machine slows both alike; only the ratio between them means anything.
`--concurrency N` keeps N updates in flight (N reps talking at once). PostgreSQL is a
throwaway server started for the run (tests/postgres.py) with fsync and synchronous
commit on, as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402  (needs the repository root on sys.path)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters  # noqa: E402
from telegram.request import RequestData  # noqa: E402

from bot.inbox import InboxWorker, worker_for  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.telegram_app import build_application  # noqa: E402
from dialogs.engine import Engine  # noqa: E402
from knowledge.validate import cached_knowledge  # noqa: E402
from storage.db import make_engine  # noqa: E402
from tests.telegram_fake import TOKEN, RecordingRequest  # noqa: E402

# Four turns that keep the old lady talking; the fifth or sixth would end the scene.
LINES = ("How is business these days?", "What do you usually buy?", "Who are the plums for?", "How many people at home?")
REPS = 50
BLOCKS = 20
UPDATE_IDS = itertools.count(1)


def message(user_id: int, text: str) -> dict[str, Any]:
    """A private text message from a rep, as Telegram sends it."""
    payload: dict[str, Any] = {
        "message_id": next(UPDATE_IDS),
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": f"Rep {user_id}", "language_code": "en"},
        "text": text,
    }
    if text.startswith("/"):
        payload["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": next(UPDATE_IDS), "message": payload}


async def feed(app: Application, user_id: int, text: str) -> float:
    """Hand one update to `app` (the anchor's way); the seconds it took until the reply was sent."""
    started = time.perf_counter()
    await app.process_update(Update.de_json(message(user_id, text), app.bot))
    return time.perf_counter() - started


async def arrive(app: Application, user_id: int, text: str) -> float:
    """One update handed to `app` as a task of its own, behind whatever the event loop already has
    to do, as an update from Telegram is; the seconds from its arrival until the reply was sent.
    (Awaited directly, a turn that never yields would run before the other updates in flight had
    even arrived, and hide their wait.) The task costs the turns, not the anchor, a few µs more."""
    started = time.perf_counter()
    await asyncio.create_task(app.process_update(Update.de_json(message(user_id, text), app.bot)))
    return time.perf_counter() - started


class Replies(RecordingRequest):
    """The recording request, telling whoever waits for a chat's next message that it was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[int, asyncio.Future[None]] = {}

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        answer = await super().do_request(url, method, request_data, *args, **kwargs)
        if url.endswith("/sendMessage") and request_data is not None:
            waiter = self.waiting.pop(int(request_data.parameters["chat_id"]), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        return answer


async def through_inbox(worker: InboxWorker, replies: Replies, user_id: int, text: str) -> float:
    """Store one update in the inbox as the webhook or polling does; the seconds until its reply was sent."""
    started = time.perf_counter()
    replied = asyncio.get_running_loop().create_future()
    replies.waiting[user_id] = replied
    await worker.receive([Update.de_json(message(user_id, text), worker.app.bot)])
    await replied
    return time.perf_counter() - started


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """The anchor's only handler: says the text back."""
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


async def echo_app() -> Application:
    """Bare PTB: the same offline request, one handler, no limiter."""
    request = RecordingRequest()
    app = ApplicationBuilder().token(TOKEN).request(request).get_updates_request(request).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    return app


async def run_block(sends: list[Callable[[], Awaitable[float]]], concurrency: int) -> tuple[float, list[float]]:
    """Run the sends with `concurrency` in flight; the block's seconds and each send's latency."""
    latencies: list[float] = []
    queue = iter(sends)

    async def worker() -> None:
        for send in queue:
            latencies.append(await send())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    """A database URL for the run: a SQLite file, or a fresh database on a throwaway PostgreSQL server."""
    if kind == "postgresql":
        from tests.postgres import postgres_server

        with postgres_server(durable=True) as server, server.fresh_database() as url:
            yield url
    else:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"


async def measure(url: str, concurrency: int, inbox: bool) -> None:
    """Start every rep's role-play, then alternate blocks of turns and echoes."""
    settings = Settings(_env_file=None, telegram_bot_token=TOKEN, database_url=url)
    engine = Engine(make_engine(url), cached_knowledge(), settings.engine_settings())
    engine.warm()  # as the running bot does before its first update (bot/serving.py)
    replies = Replies()
    bot = build_application(settings, engine, request=replies, rate_limited=False)
    await bot.initialize()
    worker = worker_for(bot)
    working = asyncio.create_task(worker.run())

    def turn(rep: int, text: str) -> Awaitable[float]:
        return through_inbox(worker, replies, rep, text) if inbox else arrive(bot, rep, text)

    anchor = await echo_app()
    reps = [1000 + r for r in range(REPS)]
    for rep in reps:
        await feed(bot, rep, "/roleplay plum")
    turn_time = echo_time = 0.0
    turn_lat: list[float] = []
    echo_lat: list[float] = []
    for block in range(BLOCKS):
        line = LINES[block % len(LINES)]
        took, lat = await run_block([lambda rep=rep, line=line: turn(rep, line) for rep in reps], concurrency)  # type: ignore[misc]
        turn_time += took
        turn_lat += lat
        took, lat = await run_block([lambda rep=rep, line=line: feed(anchor, rep, line) for rep in reps * 4], concurrency)  # type: ignore[misc]
        echo_time += took
        echo_lat += lat
        if block % len(LINES) == len(LINES) - 1:
            for rep in reps:  # a fresh scene before the customer would leave; not timed
                await feed(bot, rep, "/roleplay plum")
    await worker.stop()
    await working
    await bot.shutdown()
    await bot.bot_data["outbox"].close()
    await anchor.shutdown()
    engine.db.dispose()
    turns_per_s, echo_per_s = len(turn_lat) / turn_time, len(echo_lat) / echo_time
    cuts = statistics.quantiles(turn_lat, n=100)
    echo_cuts = statistics.quantiles(echo_lat, n=100)
    print(f"{len(turn_lat)} turns by {REPS} reps{' through the inbox' if inbox else ''}, {len(echo_lat)} echoes, {concurrency} in flight")
    print(f"echo p50 {echo_cuts[49] * 1000:.2f} ms, p99 {echo_cuts[98] * 1000:.2f} ms")
    print(
        f"turns_per_s={turns_per_s:.0f} echo_per_s={echo_per_s:.0f} ratio={turns_per_s / echo_per_s:.3f} "
        f"p50_ms={cuts[49] * 1000:.2f} p99_ms={cuts[98] * 1000:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--inbox", action="store_true", help="each update through the inbox and its worker, as the running bot takes it")
    args = parser.parse_args()
    with database(args.db) as url:
        asyncio.run(measure(url, args.concurrency, args.inbox))


if __name__ == "__main__":
    main()
