"""`/healthz` and `/metrics`: what a container runtime and Prometheus ask a running bot.

Served by the webhook server (bot/webhook.py) next to the URL Telegram posts to, and, for long
polling, by a small server of their own on HEALTH_LISTEN:HEALTH_PORT when HEALTH_PORT is set.

`/healthz` answers 200 with a small JSON body when the database answers, is at the schema this
version expects, and no reply has waited in the outbox longer than STUCK_AFTER; otherwise 503
with `problems`, one sentence each.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.engine import Engine as DbEngine
from sqlalchemy.exc import SQLAlchemyError
from tornado.httpserver import HTTPServer

from bot.metrics import exposition
from storage.health import backlog, reachable
from storage.schema import database_revisions, heads, shown

STUCK_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Health:
    """The health check's verdict: healthy when there are no problems; `facts` are what it read."""

    problems: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def body(self) -> dict[str, Any]:
        """What /healthz shows: `{"status": "ok", …facts}`, or `"unhealthy"` with the problems."""
        status = {"status": "ok"} if self.healthy else {"status": "unhealthy", "problems": self.problems}
        return status | self.facts


def check(db: DbEngine) -> Health:
    """Whether this process can serve: the database answers, is at this version's revision, and
    the outbox moves (its longest-due reply waited less than STUCK_AFTER)."""
    try:
        with db.connect() as connection:
            reachable(connection)
            revision = database_revisions(connection)
            waiting = backlog(connection)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return Health([f"the database does not answer: {reason}"])
    problems = []
    if revision != heads():
        problems.append(f"the database is at revision {shown(revision)}, this version expects {shown(heads())}; run salescoach db upgrade")
    waited = waiting.oldest_due.total_seconds() if waiting.oldest_due is not None else 0.0
    if waiting.oldest_due is not None and waiting.oldest_due > STUCK_AFTER:
        problems.append(f"the outbox is stuck: a reply has been due for {waited:.0f} s without being sent")
    facts = {"revision": shown(revision), "outbox": waiting.outbox, "push_queue": waiting.pushes, "oldest_due_seconds": round(waited, 1)}
    return Health(problems, facts)


class HealthHandler(tornado.web.RequestHandler):
    """GET /healthz: 200 and the facts when healthy, 503 and the problems when not."""

    def initialize(self, db: DbEngine) -> None:
        self.db = db

    async def get(self) -> None:
        """The verdict as JSON (the database is asked in a thread, so updates keep flowing meanwhile)."""
        health = await asyncio.to_thread(check, self.db)
        self.set_status(HTTPStatus.OK if health.healthy else HTTPStatus.SERVICE_UNAVAILABLE)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(health.body()))


class MetricsHandler(tornado.web.RequestHandler):
    """GET /metrics: Prometheus's text format."""

    def initialize(self, db: DbEngine) -> None:
        self.db = db

    async def get(self) -> None:
        """This process's counters and the queues' depths."""
        body = await asyncio.to_thread(exposition, self.db)
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(body)


def routes(db: DbEngine) -> list[tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]]:
    """/healthz and /metrics, for any tornado application that serves them."""
    return [(r"/healthz", HealthHandler, {"db": db}), (r"/metrics", MetricsHandler, {"db": db})]


class QuietApp(tornado.web.Application):
    """A tornado application without an access log: the bot logs what it handles, and a health
    check every few seconds would drown it."""

    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """No access log."""


@contextlib.asynccontextmanager
async def health_server(db: DbEngine, sockets: Sequence[socket.socket]) -> AsyncIterator[None]:
    """/healthz and /metrics on `sockets` (HEALTH_LISTEN:HEALTH_PORT) while inside; nothing when
    there are none (HEALTH_PORT not set)."""
    if not sockets:
        yield
        return
    server = HTTPServer(QuietApp(routes(db)))
    server.add_sockets(sockets)
    try:
        yield
    finally:
        server.stop()
        await server.close_all_connections()
