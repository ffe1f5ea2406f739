"""The Bot API emulator answers like Telegram, limits included, over plain HTTP."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from PIL import Image
from telegram import Message, Update, User

from tests.e2e.bot_process import TOKEN
from tests.e2e.emulator import Emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(TOKEN).start()
    yield emu
    emu.stop()


@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    """A plain HTTP client on the emulator's Bot API (form-encoded unless a test sends JSON)."""
    with httpx.Client(base_url=f"{emulator.base_url}/bot{TOKEN}/", timeout=10) as client:
        yield client


def keyboard(*data: str) -> str:
    return json.dumps({"inline_keyboard": [[{"text": f"b{i}", "callback_data": d} for i, d in enumerate(data)]]})


def test_get_me_is_a_bot_and_unknown_methods_or_tokens_are_refused(emulator: Emulator, api: httpx.Client) -> None:
    me = User.de_json(api.post("getMe").json()["result"], None)
    assert me.is_bot and me.username == "SalesCoachBot" and me.id == 123456
    assert api.post("sendDice", data={"chat_id": "1"}).json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    wrong = httpx.post(f"{emulator.base_url}/bot1:nope/getMe")
    assert wrong.status_code == 401 and wrong.json()["description"] == "Unauthorized"


def test_messages_of_4096_characters_pass_and_longer_ones_are_refused(emulator: Emulator, api: httpx.Client) -> None:
    emulator.user(7)
    assert api.post("sendMessage", data={"chat_id": "7", "text": "x" * 4096}).json()["ok"]
    markup = "<b>" + "字" * 4096 + "</b>"
    assert api.post("sendMessage", json={"chat_id": 7, "text": markup, "parse_mode": "HTML"}).json()["ok"]
    refused = api.post("sendMessage", data={"chat_id": "7", "text": "x" * 4097})
    assert refused.status_code == 400 and refused.json()["description"] == "Bad Request: message is too long"


def test_callback_data_over_64_bytes_is_refused(emulator: Emulator, api: httpx.Client) -> None:
    emulator.user(7)
    assert api.post("sendMessage", data={"chat_id": "7", "text": "ok", "reply_markup": keyboard("x" * 64)}).json()["ok"]
    refused = api.post("sendMessage", data={"chat_id": "7", "text": "no", "reply_markup": keyboard("ok", "价" * 22)})
    assert refused.status_code == 400 and refused.json()["description"] == "Bad Request: BUTTON_DATA_INVALID"


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<div>block</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("line<br/>break", 'Unsupported start tag "br" at byte offset 4'),
        ("price < 5", 'Unsupported start tag "" at byte offset 6'),
        ("done</b>", "Unexpected end tag at byte offset 4"),
    ],
)
def test_malformed_html_cannot_be_parsed(emulator: Emulator, api: httpx.Client, html: str, problem: str) -> None:
    emulator.user(7)
    refused = api.post("sendMessage", data={"chat_id": "7", "text": html, "parse_mode": "HTML"})
    assert refused.status_code == 400
    assert refused.json()["description"] == f"Bad Request: can't parse entities: {problem}"


def test_telegram_html_becomes_text_and_entities(emulator: Emulator, api: httpx.Client) -> None:
    emulator.user(7)
    body = {"chat_id": 7, "text": "<b>价格</b> &lt; 5 &amp; 😀 <a href='https://x.org'>link</a>", "parse_mode": "HTML"}
    message = Message.de_json(api.post("sendMessage", json=body).json()["result"], None)
    assert message.text == "价格 < 5 & 😀 link"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 0, 2), ("text_link", 12, 4)]
    assert message.from_user is not None and message.from_user.is_bot


def test_too_many_messages_get_429_with_retry_after(emulator: Emulator, api: httpx.Client) -> None:
    for uid in range(1, 62):
        emulator.user(uid)
    started = time.monotonic()
    answers = [api.post("sendMessage", data={"chat_id": "1", "text": f"burst {i}"}) for i in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[-1].json()["parameters"]["retry_after"] == 1
    assert answers[-1].json()["description"] == "Too Many Requests: retry after 1"
    others = [api.post("sendMessage", data={"chat_id": str(uid), "text": "hi"}).status_code for uid in range(2, 62)]
    allowed = 30 + 30 * (time.monotonic() - started)
    assert 429 in others and 5 + others.count(200) <= allowed, "over 30 messages a second went through"
    time.sleep(1.05)
    assert api.post("sendMessage", data={"chat_id": "1", "text": "after waiting"}).status_code == 200


def test_a_user_who_blocked_the_bot_gets_nothing(emulator: Emulator, api: httpx.Client) -> None:
    rep = emulator.user(7)
    sent = api.post("sendMessage", data={"chat_id": "7", "text": "before"}).json()["result"]
    rep.block()
    refused = api.post("sendMessage", data={"chat_id": "7", "text": "after"})
    assert refused.status_code == 403 and refused.json()["description"] == "Forbidden: bot was blocked by the user"
    edit = api.post("editMessageText", data={"chat_id": "7", "message_id": str(sent["message_id"]), "text": "changed"})
    assert edit.status_code == 403
    assert api.post("sendMessage", data={"chat_id": "99", "text": "stranger"}).json()["description"] == "Bad Request: chat not found"


def test_edits_and_button_answers_follow_telegram_rules(emulator: Emulator, api: httpx.Client) -> None:
    rep = emulator.user(7)
    sent = api.post("sendMessage", data={"chat_id": "7", "text": "question", "reply_markup": keyboard("1|a")}).json()["result"]
    same = {"chat_id": "7", "message_id": str(sent["message_id"]), "text": "question", "reply_markup": keyboard("1|a")}
    assert "message is not modified" in api.post("editMessageText", data=same).json()["description"]
    assert api.post("editMessageText", data={**same, "message_id": "999"}).json()["description"] == "Bad Request: message to edit not found"
    edited = api.post("editMessageText", data={**same, "text": "answered"}).json()["result"]
    assert "reply_markup" in edited and edited["edit_date"] >= sent["date"]
    rep.press("b0")
    [update] = api.post("getUpdates", data={"timeout": "0"}).json()["result"]
    query = Update.de_json(update, None).callback_query
    assert query is not None and query.data == "1|a" and query.message is not None and query.message.text == "answered"
    assert api.post("answerCallbackQuery", data={"callback_query_id": query.id, "text": "done"}).json()["ok"]
    again = api.post("answerCallbackQuery", data={"callback_query_id": query.id})
    assert again.status_code == 400 and "query ID is invalid" in again.json()["description"]
    assert [s.kind for s in rep.transcript()] == ["message", "edit", "notice"]


def quiz_poll(**changes: Any) -> dict[str, Any]:
    """sendPoll's form fields for a quiz poll in chat 7 at Telegram's limits, with `changes`."""
    fields = {
        "chat_id": "7",
        "question": "q" * 300,
        "options": json.dumps([{"text": "a" * 100}, {"text": "b"}]),
        "type": "quiz",
        "correct_option_ids": "[0]",
        "explanation": "e" * 198 + "\n\n",
        "is_anonymous": "false",
    }
    return {**fields, **changes}


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"question": "q" * 301}, "POLL_QUESTION_INVALID"),
        ({"question": "😀" * 151}, "POLL_QUESTION_INVALID"),
        ({"options": json.dumps([{"text": "a" * 101}, {"text": "b"}])}, "POLL_ANSWER_INVALID"),
        ({"options": json.dumps([{"text": "only"}])}, "POLL_ANSWERS_INVALID"),
        ({"options": json.dumps([{"text": str(i)} for i in range(13)])}, "POLL_ANSWERS_INVALID"),
        ({"correct_option_ids": "[2]"}, "QUIZ_CORRECT_ANSWERS_INVALID"),
        ({"correct_option_ids": "[]"}, "QUIZ_CORRECT_ANSWERS_INVALID"),
        ({"explanation": "e" * 201}, "explanation is too long"),
        ({"explanation": "a\nb\nc\nd"}, "explanation is too long"),
    ],
)
def test_quiz_polls_within_telegrams_limits_pass_and_others_are_refused(emulator: Emulator, api: httpx.Client, changes: dict[str, Any], problem: str) -> None:
    emulator.user(7)
    assert api.post("sendPoll", data=quiz_poll()).json()["ok"]
    refused = api.post("sendPoll", data=quiz_poll(**changes))
    assert refused.status_code == 400 and refused.json()["description"] == f"Bad Request: {problem}"


def test_a_persons_vote_in_a_quiz_poll_reaches_the_bot_once(emulator: Emulator, api: httpx.Client) -> None:
    rep = emulator.user(7, "Ann", "en")
    sent = Message.de_json(
        api.post("sendPoll", data=quiz_poll(question="Sour or sweet?", options=json.dumps(["Sweet", "Sour"]), correct_option_ids="[1]")).json()["result"], None
    )
    assert sent.poll is not None and sent.poll.type == "quiz" and sent.poll.correct_option_ids == (1,)
    [shown] = rep.transcript()
    assert (shown.kind, shown.text, shown.options) == ("poll", "Sour or sweet?", ("Sweet", "Sour"))
    rep.vote("Sour")
    [update] = api.post("getUpdates", data={"timeout": "5"}).json()["result"]
    vote = Update.de_json(update, None).poll_answer
    assert vote is not None and (vote.poll_id, vote.option_ids, vote.user.id if vote.user else None) == (sent.poll.id, (1,), 7)
    with pytest.raises(AssertionError, match="one answer per person"):
        rep.vote("Sweet")


def test_get_updates_long_polls_and_confirms_by_offset(emulator: Emulator, api: httpx.Client) -> None:
    rep = emulator.user(7, "Ann", "en")
    threading.Timer(0.3, rep.send, ["/start now"]).start()
    started = time.monotonic()
    [update] = api.post("getUpdates", data={"timeout": "5", "allowed_updates": '["message", "callback_query"]'}).json()["result"]
    assert 0.25 < time.monotonic() - started < 3
    message = Update.de_json(update, None).message
    assert message is not None and message.text == "/start now" and message.from_user is not None
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]
    assert api.post("getUpdates", data={"timeout": "0"}).json()["result"] == [update], "unconfirmed updates come again"
    started = time.monotonic()
    assert api.post("getUpdates", data={"offset": str(update["update_id"] + 1), "timeout": "1"}).json()["result"] == []
    assert time.monotonic() - started >= 0.9


def receiver(received: list[tuple[str | None, dict[str, Any]]]) -> type[BaseHTTPRequestHandler]:
    """A webhook endpoint that keeps each post's secret token header and update."""

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the name http.server calls
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.headers.get("X-Telegram-Bot-Api-Secret-Token"), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    return Receiver


def test_a_webhook_gets_updates_with_the_secret_token(emulator: Emulator, api: httpx.Client) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver(received))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        assert api.post("setWebhook", json={"url": url, "secret_token": "s3cret"}).json()["result"] is True
        assert api.post("getUpdates").json()["error_code"] == 409
        emulator.user(7).send("hello")
        # The receiver notes the post before answering it; Telegram counts the update delivered once
        # the answer arrives: wait for that too, or the pending count below can still say 1.
        emulator.wait_until(lambda: received and emulator.handed_out, 5)
        [(secret, update)] = received
        assert secret == "s3cret" and update["message"]["text"] == "hello"
        info = api.post("getWebhookInfo").json()["result"]
        assert info["url"] == url and info["pending_update_count"] == 0
        assert api.post("setWebhook", data={"url": url, "secret_token": "not allowed!"}).status_code == 400
        assert api.post("deleteWebhook").json()["result"] is True
        assert api.post("getUpdates").json()["result"] == []
    finally:
        server.shutdown()
        server.server_close()


def test_command_menus_per_scope_and_language(emulator: Emulator, api: httpx.Client) -> None:
    rep = emulator.user(7, "Ann", "en")
    commands = json.dumps([{"command": "help", "description": "Help"}])
    assert api.post("setMyCommands", data={"commands": commands}).json()["result"] is True
    assert api.post("setMyCommands", data={"commands": json.dumps([{"command": "lang", "description": "Language"}]), "language_code": "en"}).json()["ok"]
    assert rep.commands() == [("lang", "Language")]
    chat_scope = json.dumps({"type": "chat", "chat_id": 7})
    assert api.post("setMyCommands", json={"commands": [{"command": "team", "description": "Teams"}], "scope": {"type": "chat", "chat_id": 7}}).json()["ok"]
    assert rep.commands() == [("team", "Teams")]
    assert api.post("getMyCommands", data={"scope": chat_scope}).json()["result"] == [{"command": "team", "description": "Teams"}]
    assert api.post("deleteMyCommands", data={"scope": chat_scope}).json()["result"] is True
    assert rep.commands() == [("lang", "Language")]
    refused = api.post("setMyCommands", data={"commands": json.dumps([{"command": "Bad-Name", "description": "x"}])})
    assert refused.json()["description"] == "Bad Request: BOT_COMMAND_INVALID"


def png_of(width: int, height: int) -> bytes:
    """A blank PNG of this size."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, format="PNG")
    return out.getvalue()


def test_a_photo_is_shown_with_its_caption_and_refused_as_telegram_refuses_one(emulator: Emulator, api: httpx.Client) -> None:
    ann = emulator.user(7)
    picture = png_of(1000, 600)
    sent = api.post(
        "sendPhoto", data={"chat_id": "7", "caption": "<b>Scores</b>: 20–29: 2", "parse_mode": "HTML"}, files={"photo": ("scores.png", picture, "image/png")}
    ).json()
    message = Message.de_json(sent["result"], None)
    assert (message.photo[-1].width, message.photo[-1].height, message.caption) == (1000, 600, "Scores: 20–29: 2")
    [seen] = ann.messages()
    assert (seen.kind, seen.text, seen.content) == ("photo", "Scores: 20–29: 2", picture)
    refusals = {
        "not a picture": ({"chat_id": "7"}, {"photo": ("scores.png", b"%PDF-1.7", "image/png")}, "Bad Request: IMAGE_PROCESS_FAILED"),
        "too wide and tall": ({"chat_id": "7"}, {"photo": ("big.png", png_of(9000, 1100), "image/png")}, "Bad Request: PHOTO_INVALID_DIMENSIONS"),
        "caption too long": (
            {"chat_id": "7", "caption": "x" * 1025},
            {"photo": ("scores.png", picture, "image/png")},
            "Bad Request: message caption is too long",
        ),
        "no photo": ({"chat_id": "7"}, {}, "Bad Request: wrong file identifier/HTTP URL specified"),
    }
    for why, (data, files, description) in refusals.items():
        refused = api.post("sendPhoto", data=data, files=files or None)
        assert (refused.status_code, refused.json()["description"]) == (400, description), why
    assert len(ann.messages()) == 1
