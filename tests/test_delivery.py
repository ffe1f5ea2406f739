"""Delivery: an update is handled until its handling commits, and once it has, never again."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

import dialogs.engine
from storage.models import DialogState, ProcessedUpdate
from tests.telegram_fake import FakeTelegram, texts

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
