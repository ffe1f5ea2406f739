"""Conversations through the real python-telegram-bot Application, offline."""

from __future__ import annotations

from bot.settings import Settings
from bot.telegram_app import publish_commands
from dialogs.engine import Engine
from storage.db import make_engine
from tests.conftest import make_telegram
from tests.telegram_fake import FakeTelegram, notices, texts


async def test_a_new_rep_is_welcomed_and_chooses_english(telegram: FakeTelegram) -> None:
    sent = await telegram.send(7, "/start", name="Li Lei")
    assert "Li Lei" in texts(sent)[0] and "欢迎" in texts(sent)[0]
    assert sent[-1].params["parse_mode"] == "HTML"

    sent = await telegram.press(7, "English")
    assert "we will talk in English" in texts(sent)[0]
    assert "Main menu" in texts(sent)[1]
    assert notices(sent) == [""]
    [menu] = [c for c in sent if c.method == "setMyCommands"]
    assert menu.params["scope"]["chat_id"] == 7
    assert "Switch language" in str(menu.params["commands"])


async def test_lang_with_a_language_switches_at_once_and_never_reads_it_as_an_invitation(telegram: FakeTelegram) -> None:
    """Before, "/lang en" was taken for an invitation code: "This invitation link is not valid"."""
    sent = await telegram.send(7, "/lang en", name="Li Lei")
    assert "we will talk in English" in texts(sent)[0] and "Main menu" in texts(sent)[1]
    assert "邀请" not in str(texts(sent)) and "invitation" not in str(texts(sent))
    sent = await telegram.send(7, "/lang 中文")
    assert "中文" in texts(sent)[0] and "主菜单" in texts(sent)[1]
    [asked] = texts(await telegram.send(7, "/lang klingon"))
    assert "请选择语言" in asked and "邀请" not in asked


async def test_help_lists_every_command_in_the_reps_language(telegram: FakeTelegram) -> None:
    await telegram.send(7, "/start")
    await telegram.press(7, "中文")
    [text] = texts(await telegram.send(7, "/help"))
    for command in ("/start", "/help", "/menu", "/cancel", "/lang"):
        assert command in text
    assert "帮助" in text


async def test_cancel_leaves_a_dialog_from_any_state(telegram: FakeTelegram) -> None:
    await telegram.send(7, "/lang")
    assert "已退出" in texts(await telegram.send(7, "/cancel"))[0]
    assert "没有进行中" in texts(await telegram.send(7, "/cancel"))[0]


async def test_the_language_buttons_expire_once_used(telegram: FakeTelegram) -> None:
    await telegram.send(7, "/start")
    data = telegram.button_data(7, "English")
    await telegram.press_data(7, data)
    sent = await telegram.press_data(7, data)
    assert notices(sent) == ["这个按钮已经过期了，什么都没有改变。"] or notices(sent) == ["This button has expired; nothing was changed."]
    assert texts(sent) == []


async def test_forged_and_malformed_buttons_change_nothing(telegram: FakeTelegram) -> None:
    await telegram.send(7, "/start")
    for forged in ("1|g|go:admin", "garbage", "2|1|lang:en", "1|zz|lang:en", "1|1|lang:fr", "1|g|" + "x" * 70):
        sent = await telegram.press_data(7, forged)
        assert notices(sent) and "过期" in notices(sent)[0], forged
        assert texts(sent) == []
    sent = await telegram.press(7, "English")
    assert "English" in texts(sent)[0]


async def test_bad_input_gets_a_clear_answer(telegram: FakeTelegram) -> None:
    await telegram.send(7, "/start")
    await telegram.press(7, "English")
    assert "didn't get any text" in texts(await telegram.send(7, "\u200b\u200d "))[0]
    assert "too long" in texts(await telegram.send(7, "x" * 10_000))[0]
    assert "don't know the command /frobnicate" in texts(await telegram.send(7, "/frobnicate"))[0]
    assert "didn't understand" in texts(await telegram.send(7, "🍑🍑 hello"))[0]


async def test_a_redelivered_update_is_handled_once(telegram: FakeTelegram) -> None:
    await telegram.send(7, "/help")
    telegram.replay = telegram.update_id
    assert await telegram.send(7, "/help") == []


async def test_the_command_list_is_published_in_both_languages(telegram: FakeTelegram) -> None:
    await publish_commands(telegram.app)
    calls = [c for c in telegram.request.calls if c.method == "setMyCommands"]
    by_lang = {c.params.get("language_code"): c.params["commands"] for c in calls}
    assert set(by_lang) == {None, "zh", "en"}
    assert "Leave the current exercise" in str(by_lang["en"]) and "退出当前练习" in str(by_lang["zh"])


async def test_a_dialog_survives_a_restart(settings: Settings, engine: Engine) -> None:
    first = await make_telegram(settings, engine)
    await first.send(7, "/lang")
    data = first.button_data(7, "English")
    await first.app.shutdown()

    restarted_engine = Engine(make_engine(settings.database_url), engine.knowledge, engine.settings)
    second = await make_telegram(settings, restarted_engine)
    sent = await second.press_data(7, data)
    assert "we will talk in English" in texts(sent)[0]
    await second.app.shutdown()


async def test_an_internal_error_is_logged_without_personal_data_and_the_user_is_told(telegram: FakeTelegram, caplog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    engine = telegram.app.bot_data["engine"]

    def broken(event: object, outbox: object = None) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(engine, "handle", broken)
    sent = await telegram.send(7, "my secret customer list", lang="en")
    assert "Something went wrong" in texts(sent)[0] and "progress is kept" in texts(sent)[0]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged and "secret customer" not in logged
