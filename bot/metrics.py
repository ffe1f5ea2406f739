"""Prometheus metrics, all defined here: what `/metrics` shows (bot/operations.py serves it).

Counted in this process where the events happen: updates handled by kind and how long each
turn took (bot/handlers.py), Bot API calls to chats by queue and result, and Telegram's 429s
(bot/outbox.py, bot/push_sender.py, bot/inbox.py). The queue depths are the shared database's,
read when Prometheus asks (`QueueCollector`), so every process reports the same ones.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine as DbEngine
from sqlalchemy.exc import SQLAlchemyError
from telegram.error import RetryAfter, TelegramError

from bot.failures import classify
from dialogs.core.events import Event
from storage.health import backlog

log = logging.getLogger(__name__)
UPDATES = Counter("salescoach_updates_total", "Updates handled, by kind (command, text, button, other)", ["kind"])
TURN_SECONDS = Histogram(
    "salescoach_turn_seconds",
    "From an update's handling to its replies handed to Telegram, by kind",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SENDS = Counter(
    "salescoach_sends_total", "Bot API calls to chats by queue (reply, push) and result (sent, wait, unreachable, refused, retry, unsure)", ["queue", "result"]
)
TOO_MANY_REQUESTS = Counter("salescoach_telegram_429_total", "Telegram's 429 Too Many Requests answers, by queue (reply, push, poll)", ["queue"])


def kind_of(event: Event) -> str:
    """An event's kind as the metrics label it: a /command, typed text, a button, or anything else."""
    if event.command:
        return "command"
    if event.button:
        return "button"
    return "text" if event.text else "other"


@contextmanager
def turn(event: Event) -> Iterator[None]:
    """Counts the event once handled and times it, whether it ended well or not."""
    kind = kind_of(event)
    started = time.perf_counter()
    try:
        yield
    finally:
        TURN_SECONDS.labels(kind).observe(time.perf_counter() - started)
        UPDATES.labels(kind).inc()


def sent(queue: str, exc: TelegramError | None = None) -> None:
    """Counts one call to a chat from `queue` by how it went: `exc` is Telegram's refusal or the
    network's failure (bot/failures.py says what each means), None when Telegram took it."""
    SENDS.labels(queue, "sent" if exc is None else classify(exc).value).inc()
    if isinstance(exc, RetryAfter):
        TOO_MANY_REQUESTS.labels(queue).inc()


class QueueCollector(Collector):
    """The outbox's and the push queue's depth, and how long the oldest due reply has waited,
    read from the database at each scrape."""

    def __init__(self, db: DbEngine) -> None:
        self.db = db

    def collect(self) -> Iterable[Metric]:
        """The three gauges, as the database has them now; none while it does not answer (the
        counters are still worth scraping, and /healthz says what is wrong)."""
        try:
            with self.db.connect() as connection:
                now = backlog(connection)
        except SQLAlchemyError as exc:
            log.warning("metrics: the queues could not be read (%s)", type(exc).__name__)
            return
        yield GaugeMetricFamily("salescoach_outbox_depth", "Replies waiting to be sent (all processes)", value=now.outbox)
        yield GaugeMetricFamily("salescoach_push_queue_depth", "Push messages waiting to be sent (all processes)", value=now.pushes)
        waited = now.oldest_due.total_seconds() if now.oldest_due is not None else 0.0
        yield GaugeMetricFamily("salescoach_outbox_oldest_due_seconds", "How long the reply due longest has waited", value=waited)


def exposition(db: DbEngine) -> bytes:
    """This process's metrics and the database's queue depths, in Prometheus's text format."""
    queues = CollectorRegistry(auto_describe=False)
    queues.register(QueueCollector(db))
    return generate_latest(REGISTRY) + generate_latest(queues)
