"""What a container runtime and Prometheus read from a running bot: /healthz says 200 while the
database answers, is at this version's schema and the outbox moves, 503 and why otherwise;
/metrics shows the queues' depths; LOG_FORMAT=json writes one JSON object per line."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session
from tornado.netutil import bind_sockets

from bot.operations import STUCK_AFTER, health_server
from storage.db import make_engine
from storage.models import OutboxMessage, utcnow
from storage.schema import heads, revisions
from tests.e2e.bot_process import free_port

pytestmark = pytest.mark.both_databases
ROOT = Path(__file__).parent.parent


async def asked(db: DbEngine, path: str) -> httpx.Response:
    """GET `path` from the health server over `db`, as a health check or Prometheus would."""
    port = free_port()
    async with health_server(db, bind_sockets(port, "127.0.0.1")), httpx.AsyncClient() as client:
        return await client.get(f"http://127.0.0.1:{port}{path}")


def reply_due_since(db: DbEngine, ago: timedelta) -> None:
    """A reply that has waited `ago` in the outbox without being sent."""
    with Session(db) as session:
        session.add(OutboxMessage(chat_id=7, kind="message", payload={"text": "hi", "markup": []}, not_before=utcnow() - ago))
        session.commit()


async def test_a_bot_whose_database_answers_at_the_newest_schema_is_healthy(db: DbEngine) -> None:
    reply_due_since(db, timedelta(seconds=3))
    answer = await asked(db, "/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok" and body["revision"] == ", ".join(heads())
    assert body["outbox"] == 1 and body["push_queue"] == 0 and 3 <= body["oldest_due_seconds"] < STUCK_AFTER.total_seconds()


async def test_a_database_behind_this_versions_schema_is_unhealthy(db: DbEngine) -> None:
    older = next(revision.id for revision in revisions().values() if not revision.parents)
    with db.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :older"), {"older": older})
    answer = await asked(db, "/healthz")
    assert answer.status_code == 503
    assert answer.json()["problems"] == [f"the database is at revision {older}, this version expects {', '.join(heads())}; run salescoach db upgrade"]


async def test_a_reply_stuck_in_the_outbox_makes_the_bot_unhealthy(db: DbEngine) -> None:
    reply_due_since(db, STUCK_AFTER + timedelta(minutes=1))
    answer = await asked(db, "/healthz")
    assert answer.status_code == 503
    [problem] = answer.json()["problems"]
    assert problem.startswith("the outbox is stuck: a reply has been due for 36") and problem.endswith(" s without being sent")


@pytest.fixture
async def gone(tmp_path: Path) -> AsyncIterator[DbEngine]:
    """An engine whose database cannot be opened: its folder was removed."""
    folder = tmp_path / "data"
    folder.mkdir()
    engine = make_engine(f"sqlite:///{folder / 'bot.db'}")
    engine.dispose()
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    yield engine
    engine.dispose()


async def test_a_database_that_does_not_answer_is_unhealthy(gone: DbEngine) -> None:
    answer = await asked(gone, "/healthz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "unhealthy", "problems": ["the database does not answer: unable to open database file"]}


async def test_metrics_show_the_queues_even_while_the_database_is_away(db: DbEngine, gone: DbEngine) -> None:
    reply_due_since(db, timedelta(seconds=30))
    shown = (await asked(db, "/metrics")).text
    assert "salescoach_outbox_depth 1.0" in shown and "salescoach_push_queue_depth 0.0" in shown
    assert all(f"# TYPE salescoach_{name}" in shown for name in ("updates", "turn_seconds", "sends", "telegram_429"))
    away = await asked(gone, "/metrics")
    assert away.status_code == 200 and "salescoach_outbox_depth" not in away.text and "# TYPE salescoach_sends" in away.text


def test_json_logs_are_one_object_per_line_for_every_logger(tmp_path: Path) -> None:
    """The CLI's logging set up with LOG_FORMAT=json; python-telegram-bot's logger and ours, one with a traceback."""
    code = (
        "import logging; from bot.logs import configure; configure('INFO', 'json')\n"
        "logging.getLogger('telegram.ext.Application').info('Application started')\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError:\n    logging.getLogger('bot.inbox').exception('the inbox could not go on with an update')\n"
        "logging.getLogger('httpx').info('not shown: httpx only says warnings')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    records = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(r["level"], r["logger"], r["message"]) for r in records] == [
        ("INFO", "telegram.ext.Application", "Application started"),
        ("ERROR", "bot.inbox", "the inbox could not go on with an update"),
    ]
    assert "exception" not in records[0] and records[1]["exception"].splitlines()[-1] == "ZeroDivisionError: division by zero"
    assert all(r["time"].endswith("+00:00") for r in records)
