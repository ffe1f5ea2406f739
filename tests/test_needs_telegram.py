"""Captured needs through the real python-telegram-bot Application, offline."""

from __future__ import annotations

import csv
import io

import pytest

from dialogs.engine import Engine
from tests.needs_helpers import log_need, manager, rep
from tests.telegram_fake import FakeTelegram, texts

pytestmark = pytest.mark.both_databases


async def test_a_rep_starts_the_form_and_a_skip_is_offered_only_for_optional_fields(telegram: FakeTelegram) -> None:
    await telegram.send(7, "/start", lang="en")
    await telegram.press(7, "English")
    sent = await telegram.send(7, "/need")
    assert "Log a customer need" in texts(sent)[0] and "Customer company" in texts(sent)[-1]
    assert "⏭ Skip" not in str(telegram.last_markup[7]["markup"])
    sent = await telegram.send(7, "<b>Acme</b> & Co")
    assert "Contact name" in texts(sent)[0] and "(optional)" in texts(sent)[0]
    sent = await telegram.press(7, "⏭ Skip")
    assert "Contact&#39;s role in the purchase" in texts(sent)[0]
    await telegram.press(7, "💾 Keep as draft, finish later")
    sent = await telegram.send(7, "/need")
    assert "unfinished need (&lt;b&gt;Acme&lt;/b&gt; &amp; Co)" in texts(sent)[0]
    assert sent[-1].params["parse_mode"] == "HTML"


async def test_a_manager_gets_the_export_as_a_document(telegram: FakeTelegram, engine: Engine) -> None:
    log_need(rep(engine, 5), customer_company='=HYPERLINK("x")')
    manager(engine, (5,), user_id=3)
    sent = await telegram.send(3, "/export csv", lang="en")
    [document] = [c for c in sent if c.method == "sendDocument"]
    [(filename, content)] = document.files.values()
    assert filename.endswith(".csv") and content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0]["customer_company"] == '\'=HYPERLINK("x")'
    assert "1 need (csv)" in texts(sent)[0]
    sent = await telegram.send(5, "/export csv", lang="en")
    assert "not allowed" in texts(sent)[0] and not [c for c in sent if c.method == "sendDocument"]
