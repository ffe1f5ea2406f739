"""Webhook mode: only Telegram, which knows the secret token, can hand the bot updates; the same
server answers a container runtime's /healthz and Prometheus's /metrics."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from telegram import Message, MessageEntity, Update

from storage.schema import heads
from tests.cli_lines import in_english
from tests.e2e.bot_process import ROOT, SECRET, TOKEN, BotProcess
from tests.e2e.scene import Scene
from tests.e2e.steps import join


@pytest.mark.parametrize("bot", ["webhook"], indirect=True)
def test_telegram_is_asked_to_post_one_update_at_a_time(bot: BotProcess, telegram: Scene) -> None:
    """Two posts at once could store a rep's later update first; one at a time keeps Telegram's order."""
    rep = telegram.user("Ming", "en")
    rep.send("/help")
    rep.wait_for("/lang")
    assert telegram.emulator.webhook is not None and telegram.emulator.webhook.max_connections == 1


@pytest.mark.parametrize("bot", ["webhook"], indirect=True)
def test_posts_without_the_right_secret_token_are_refused(bot: BotProcess, telegram: Scene) -> None:
    forger = telegram.user("Forger", "en")
    message = Message(
        1, datetime.now(UTC), forger.as_chat(), from_user=forger.as_user(), text="/help", entities=[MessageEntity(MessageEntity.BOT_COMMAND, 0, 5)]
    )
    update = Update(424242, message=message).to_dict()
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guessed"}, {"X-Telegram-Bot-Api-Secret-Token": SECRET.upper()}):
        assert httpx.post(bot.webhook_url, json=update, headers=headers).status_code == 403
    assert httpx.post(bot.webhook_url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}).status_code == 200
    forger.wait_for("/lang")
    time.sleep(0.3)
    assert len(forger.transcript()) == 1, "only the post with the secret token was handled"


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({}, "WEBHOOK_URL is not set (the public URL Telegram posts updates to)"),
        ({"WEBHOOK_URL": "bot.example.com/tg"}, "WEBHOOK_URL must start with https://"),
        ({"WEBHOOK_URL": "https://bot.example.com/tg"}, "WEBHOOK_SECRET is not set"),
        ({"WEBHOOK_URL": "https://bot.example.com/tg", "WEBHOOK_SECRET": "two words"}, "WEBHOOK_SECRET may hold only letters, digits, _ and -"),
    ],
)
def test_webhook_mode_needs_a_url_and_a_proper_secret(tmp_path: Path, settings: dict[str, str], problem: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env.update({"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "WEBHOOK_URL": "", "WEBHOOK_SECRET": ""} | settings)
    done = subprocess.run([sys.executable, "-m", "bot", "webhook"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert in_english(done.stderr.strip()).startswith(f"salescoach: {problem}") and len(done.stderr.strip().splitlines()) == 1


def resident_kb(pid: int) -> int:
    """The process's resident memory (VmRSS) in kB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


@pytest.mark.parametrize("bot", ["webhook"], indirect=True)
def test_a_body_that_is_no_update_gets_400_and_the_bot_goes_on(bot: BotProcess, telegram: Scene) -> None:
    secret = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    for body in (b"{not json", b"\xff\xfe", b"[1, 2]", b"{}", b'{"update_id": "x", "message": 7}'):
        assert httpx.post(bot.webhook_url, content=body, headers=secret).status_code == 400, body
    rep = telegram.user("Ming", "en")
    rep.send("/help")
    rep.wait_for("/lang")


@pytest.mark.parametrize("bot", ["webhook"], indirect=True)
def test_a_10_mb_post_is_refused_before_it_is_read(bot: BotProcess, telegram: Scene) -> None:
    assert bot.process is not None
    before = resident_kb(bot.process.pid)
    big = b'{"update_id": 1, "pad": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": SECRET}):
        try:
            status = httpx.post(bot.webhook_url, content=big, headers=headers | {"Content-Type": "application/json"}).status_code
        except httpx.TransportError:
            status = None  # the server closed the connection without reading the body
        assert status in (None, 400, 413)
    assert resident_kb(bot.process.pid) - before < 20 * 1024
    rep = telegram.user("Hua", "en")
    rep.send("/help")
    rep.wait_for("/lang")


def scraped(bot: BotProcess) -> dict[str, float]:
    """What Prometheus reads from the bot's /metrics: each sample, `name{label="value",…}` → value."""
    answer = httpx.get(f"http://127.0.0.1:{bot.webhook_port}/metrics")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/plain")
    samples = (sample for family in text_string_to_metric_families(answer.text) for sample in family.samples)
    return {sample.name + labelled(sample.labels): sample.value for sample in samples}


def labelled(labels: dict[str, str]) -> str:
    """`{a="1",b="2"}` as Prometheus writes labels, or nothing for none."""
    return "{" + ",".join(f'{name}="{value}"' for name, value in sorted(labels.items())) + "}" if labels else ""


def moved(bot: BotProcess, before: dict[str, float], names: list[str], seconds: float = 10) -> dict[str, float]:
    """The metrics once every sample in `names` has grown past `before` (the bot counts a reply
    just after Telegram took it, so a moment after the rep sees it), or after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        now = scraped(bot)
        if all(now.get(name, 0) > before.get(name, 0) for name in names) or time.monotonic() > deadline:
            return now
        time.sleep(0.1)


@pytest.mark.parametrize("bot", ["webhook"], indirect=True)
def test_health_and_metrics_answer_and_the_metrics_move_when_a_role_play_is_played(bot: BotProcess, telegram: Scene) -> None:
    health = httpx.get(f"http://127.0.0.1:{bot.webhook_port}/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["revision"] == ", ".join(heads())
    counted = [
        'salescoach_updates_total{kind="command"}',
        'salescoach_updates_total{kind="button"}',
        'salescoach_updates_total{kind="text"}',
        'salescoach_turn_seconds_count{kind="text"}',
        'salescoach_sends_total{queue="reply",result="sent"}',
    ]
    before = scraped(bot)
    rep = join(telegram.user("Gao", "en"))
    rep.send("/roleplay plum")
    rep.wait_for("Granny Li:")
    rep.send("What kind of plums would you like?")
    rep.wait_for("Granny Li:")
    after = moved(bot, before, counted)
    grew = {name: after.get(name, 0) - before.get(name, 0) for name in counted}
    sent = grew.pop('salescoach_sends_total{queue="reply",result="sent"}')
    assert grew == {
        'salescoach_updates_total{kind="command"}': 2,  # /start, /roleplay plum
        'salescoach_updates_total{kind="button"}': 1,  # English
        'salescoach_updates_total{kind="text"}': 1,  # her question to Granny Li
        'salescoach_turn_seconds_count{kind="text"}': 1,
    }
    assert sent >= 5, "the language question, the answer to the button, the menu, Granny Li twice"
    assert {"salescoach_outbox_depth", "salescoach_push_queue_depth", "salescoach_outbox_oldest_due_seconds"} <= set(after)
