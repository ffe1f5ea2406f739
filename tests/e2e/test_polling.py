"""Long polling from two processes with one token: Telegram answers 409 Conflict to the poll the
other one cut short. The bot that was polling goes on; the newcomer exits, saying why. A webhook
set for the token (`salescoach webhook` elsewhere) ends polling the same way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from knowledge.cli import line
from tests.e2e.bot_process import ADMINS, TOKEN, BotProcess, free_port
from tests.e2e.emulator import Emulator
from tests.e2e.scene import Scene


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A Bot API of its own: the session's bots must not meet these."""
    emulator = Emulator(TOKEN).start()
    yield emulator
    emulator.stop()


def polled_alone_a_while(bot: BotProcess) -> None:
    """Waits until `bot` has waited a whole long poll (10 s) with nobody else polling."""
    polls = bot.emulator.polls
    assert bot.emulator.wait_until(lambda: bot.emulator.polls > polls, 20), bot.log()


def test_a_second_polling_process_exits_saying_another_process_polls(emulator: Emulator, tmp_path: Path) -> None:
    """The first bot also answers /healthz and /metrics on HEALTH_PORT, and logs JSON lines."""
    health = f"http://127.0.0.1:{free_port()}"
    first = BotProcess("polling", emulator, tmp_path / "first", settings={"LOG_FORMAT": "json", "HEALTH_PORT": health.rsplit(":", 1)[1]})
    second = BotProcess("polling", emulator, tmp_path / "second")
    for process in (first, second):
        process.workdir.mkdir()
    try:
        polled_alone_a_while(first.start())
        second.start()
        assert second.process is not None
        assert second.process.wait(30) == 1
        assert second.log().strip().splitlines()[-1] == f"salescoach: {line('another_poller')}"

        rep = Scene(emulator, first, 0, ADMINS[0]).user("Ming", "en")
        rep.send("/help")
        rep.wait_for("/lang")
        assert httpx.get(f"{health}/healthz").json()["status"] == "ok"
        assert "# TYPE salescoach_updates" in httpx.get(f"{health}/metrics").text
    finally:
        second.stop()
        code = first.stop()
    assert code == 0
    records = [json.loads(line) for line in first.log().splitlines()]
    said = {(record["logger"], record["message"]) for record in records}
    assert ("telegram.ext.Application", "Application started") in said
    assert ("bot.inbox", "another process started polling with this token; it will stop, this one goes on") in said


def test_a_polling_bot_exits_when_a_webhook_is_set_for_its_token(emulator: Emulator, tmp_path: Path) -> None:
    bot = BotProcess("polling", emulator, tmp_path)
    try:
        polled_alone_a_while(bot.start())
        set_by_another = httpx.post(f"{emulator.base_url}/bot{TOKEN}/setWebhook", data={"url": "https://coach.example.com/telegram/hook"})
        assert set_by_another.json()["ok"]
        assert bot.process is not None
        assert bot.process.wait(30) == 1
    finally:
        bot.stop()
    assert bot.log().strip().splitlines()[-1] == f"salescoach: {line('webhook_set')}"
