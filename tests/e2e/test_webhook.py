"""Webhook mode: only Telegram, which knows the secret token, can hand the bot updates."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import httpx
import pytest
from telegram import Message, MessageEntity, Update

from tests.e2e.bot_process import SECRET, BotProcess
from tests.e2e.scene import Scene


@pytest.mark.parametrize("bot", ["webhook"], indirect=True)
def test_posts_without_the_right_secret_token_are_refused(bot: BotProcess, telegram: Scene) -> None:
    forger = telegram.user("Forger", "en")
    message = Message(1, datetime.now(timezone.utc), forger.as_chat(), from_user=forger.as_user(), text="/help", entities=[MessageEntity(MessageEntity.BOT_COMMAND, 0, 5)])
    update = Update(424242, message=message).to_dict()
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guessed"}, {"X-Telegram-Bot-Api-Secret-Token": SECRET.upper()}):
        assert httpx.post(bot.webhook_url, json=update, headers=headers).status_code == 403
    assert httpx.post(bot.webhook_url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}).status_code == 200
    forger.wait_for("/lang")
    time.sleep(0.3)
    assert len(forger.transcript()) == 1, "only the post with the secret token was handled"
