"""Delivery: an update is handled until its handling commits, and once it has, never again;
the rep is told about an error only when the action really failed."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlmodel import Session, select
from telegram.error import TimedOut
from telegram.request import RequestData

import dialogs.engine
from bot.settings import Settings
from dialogs.core.callback import encode
from dialogs.engine import Engine
from storage.models import DialogState, ProcessedUpdate
from tests.telegram_fake import Call, FakeTelegram, RecordingRequest, telegram_with, texts

pytestmark = pytest.mark.both_databases


def fail_once_before_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next save of a dialog state raises, as a crash between handling and commit would."""
    real = dialogs.engine.save_state
    failed: list[bool] = []

    def save_state(session: Any, snap: Any) -> int:
        if not failed:
            failed.append(True)
            raise RuntimeError("process died before the commit")
        return real(session, snap)

    monkeypatch.setattr(dialogs.engine, "save_state", save_state)


async def test_an_update_whose_handling_failed_is_handled_again_when_redelivered(telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    await telegram.send(7, "/start", lang="en")
    await telegram.press(7, "English", lang="en")
    fail_once_before_commit(monkeypatch)
    assert "Something went wrong" in texts(await telegram.send(7, "/lang", lang="en"))[0]
    engine = telegram.app.bot_data["engine"]
    with Session(engine.db) as session:
        assert session.get(ProcessedUpdate, telegram.update_id) is None
        assert session.get(DialogState, 7).dialog == ""

    telegram.replay = telegram.update_id
    sent = await telegram.send(7, "/lang", lang="en")
    assert "English" in str(telegram.last_markup[7]["markup"]) and texts(sent)
    with Session(engine.db) as session:
        assert session.get(DialogState, 7).dialog != ""


async def test_a_committed_update_is_recognised_when_redelivered(telegram: FakeTelegram) -> None:
    await telegram.send(7, "/start", lang="en")
    await telegram.press(7, "English", lang="en")
    assert texts(await telegram.send(7, "/lang", lang="en"))
    engine = telegram.app.bot_data["engine"]
    with Session(engine.db) as session:
        version = session.get(DialogState, 7).version
        assert session.exec(select(ProcessedUpdate).where(ProcessedUpdate.update_id == telegram.update_id)).one()

    telegram.replay = telegram.update_id
    assert await telegram.send(7, "/lang", lang="en") == []
    with Session(engine.db) as session:
        assert session.get(DialogState, 7).version == version


class LateTelegram(RecordingRequest):
    """Telegram that answers button presses too late, or times out on the next message it
    delivers anyway."""

    def __init__(self, late_answers: bool = False, time_out_once: bool = False) -> None:
        super().__init__()
        self.late_answers, self.time_out_once = late_answers, time_out_once

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if self.late_answers and url.endswith("/answerCallbackQuery"):
            self.calls.append(Call("answerCallbackQuery", dict(request_data.parameters) if request_data else {}))
            body = {"ok": False, "error_code": 400, "description": "Bad Request: query is too old and response timeout expired or query ID is invalid"}
            return 400, json.dumps(body).encode()
        answer = await super().do_request(url, method, request_data, *args, **kwargs)
        if self.time_out_once and url.endswith("/sendMessage"):
            self.time_out_once = False
            raise TimedOut("delivered, but the answer never came")
        return answer


async def test_a_button_answered_too_late_is_logged_not_shown_to_the_rep(settings: Settings, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.outbox")
    telegram = await telegram_with(LateTelegram(late_answers=True), settings, engine)
    await telegram.send(7, "/start", lang="en")
    sent = await telegram.press(7, "English", lang="en")
    assert "we will talk in English" in texts(sent)[0]
    assert not any("Something went wrong" in text for text in texts(sent))
    assert "answered too late" in caplog.text
    await telegram.app.shutdown()


async def test_a_reply_that_timed_out_after_the_action_is_not_followed_by_an_error(settings: Settings, engine: Engine) -> None:
    telegram = await telegram_with(LateTelegram(time_out_once=True), settings, engine)
    sent = await telegram.send(7, "/help", lang="en")
    assert len(texts(sent)) == 1 and "/help" in texts(sent)[0]
    await telegram.app.shutdown()


async def test_the_error_message_is_sent_when_the_action_really_failed(telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    fail_once_before_commit(monkeypatch)
    sent = await telegram.send(7, "/lang", lang="en")
    assert ["Something went wrong" in text for text in texts(sent)] == [True]


async def test_a_message_without_a_sender_is_ignored_without_an_error(telegram: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    message = {"message_id": 1, "date": 1_700_000_000, "chat": {"id": 7, "type": "private"}, "text": "hello"}
    assert await telegram._process({"message": message}) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_button_on_a_message_telegram_no_longer_has_is_answered_in_the_reps_chat(telegram: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    query = {"id": "q1", "from": {"id": 7, "is_bot": False, "first_name": "Ann", "language_code": "en"}, "chat_instance": "ci", "data": encode("go:help", None)}
    sent = await telegram._process({"callback_query": query})
    assert [c.method for c in sent] == ["sendMessage", "answerCallbackQuery"]
    assert "/lang" in texts(sent)[0] and sent[0].params["chat_id"] == 7
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_update_with_an_impossibly_large_id_is_ignored_without_an_error(telegram: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    telegram.replay = 2**64
    assert await telegram.send(7, "/help", lang="en") == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
