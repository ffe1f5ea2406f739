"""An offline Telegram for tests: a request object that records every Bot API call.

Like python-telegram-bot's own test suite, no test touches the network: the real
Application is built around this request object, real Update objects go in through
`process_update`, and the tests read what the bot sent.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:
    from bot.settings import Settings
    from dialogs.engine import Engine

BOT = {"id": 999, "is_bot": True, "first_name": "SalesCoach", "username": "SalesCoachBot"}
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"
_UPDATE_IDS = itertools.count(1)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


class RecordingRequest(BaseRequest):
    """Answers Bot API calls the way Telegram would, and remembers them."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.polls: dict[int, list[str]] = {}
        self._message_id = 100

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        self._message_id += 1
        chat_id = int(params["chat_id"])
        message = {"message_id": self._message_id, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"}, "from": BOT, **extra}
        if "text" in params:
            message["text"] = params["text"]
        if params.get("reply_markup"):
            markup = params["reply_markup"]
            message["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
        return message

    def _poll(self, params: dict[str, Any]) -> dict[str, Any]:
        """The poll Telegram makes of a sendPoll call; its id is remembered by chat, newest last."""
        chat_polls = self.polls.setdefault(int(params["chat_id"]), [])
        chat_polls.append(f"poll{sum(map(len, self.polls.values()))}")
        options = [{"text": o["text"] if isinstance(o, dict) else o, "voter_count": 0, "persistent_id": str(i)} for i, o in enumerate(params["options"])]
        return {
            "id": chat_polls[-1],
            "question": params["question"],
            "options": options,
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": params.get("is_anonymous", True),
            "type": params.get("type", "regular"),
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
            "correct_option_ids": params.get("correct_option_ids"),
            "explanation": params.get("explanation"),
        }

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files = {key: (part[0], part[1]) for key, part in (request_data.multipart_data or {}).items()} if request_data and request_data.contains_files else {}
        self.calls.append(Call(name, params, files))
        if name == "getMe":
            result: Any = BOT
        elif name in ("sendMessage", "editMessageText"):
            result = self._message(params, message_id=int(params["message_id"])) if name == "editMessageText" else self._message(params)
        elif name == "sendPoll":
            result = self._message(params, poll=self._poll(params))
        elif name == "sendDocument":
            result = self._message(params, document={"file_id": "f1", "file_unique_id": "u1", "file_name": "export"})
        elif name == "sendPhoto":
            result = self._message(params, photo=[{"file_id": "p1", "file_unique_id": "pu1", "width": 1, "height": 1}], caption=params.get("caption", ""))
        elif name in ("answerCallbackQuery", "setMyCommands", "deleteWebhook", "editMessageReplyMarkup"):
            result = True
        else:
            raise AssertionError(f"the bot called {name}, which this fake does not know: add it deliberately")
        return 200, json.dumps({"ok": True, "result": result}).encode()


@dataclass
class FakeTelegram:
    """Simulated users talking to the real Application."""

    app: Application
    request: RecordingRequest
    update_id: int = 0
    message_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    seen: int = 0
    last_markup: dict[int, dict[str, Any]] = field(default_factory=dict)
    replay: int | None = None

    def _user(self, user_id: int, name: str, lang: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": name, "language_code": lang}

    async def _process(self, payload: dict[str, Any]) -> list[Call]:
        self.update_id = next(_UPDATE_IDS) if self.replay is None else self.replay
        self.replay = None
        payload["update_id"] = self.update_id
        await self.app.process_update(Update.de_json(payload, self.app.bot))
        new = self.request.calls[self.seen :]
        self.seen = len(self.request.calls)
        for call in new:
            if call.method in ("sendMessage", "editMessageText") and call.params.get("reply_markup"):
                markup = call.params["reply_markup"]
                self.last_markup[int(call.params["chat_id"])] = {
                    "markup": json.loads(markup) if isinstance(markup, str) else markup,
                    "text": call.params.get("text", ""),
                }
        return new

    async def send(self, user_id: int, text: str, name: str = "Ann", lang: str = "zh") -> list[Call]:
        """The user types `text` (a /command gets its bot_command entity)."""
        message: dict[str, Any] = {
            "message_id": next(self.message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": self._user(user_id, name, lang),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return await self._process({"message": message})

    def button_data(self, user_id: int, label: str) -> str:
        """The callback data of the button labelled `label` on the latest keyboard."""
        rows = self.last_markup[user_id]["markup"]["inline_keyboard"]
        for row in rows:
            for button in row:
                if button["text"] == label:
                    return button["callback_data"]
        raise AssertionError(f"no button {label!r} in {[[b['text'] for b in r] for r in rows]}")

    async def press_data(self, user_id: int, data: str, name: str = "Ann", lang: str = "zh") -> list[Call]:
        """The user presses a button carrying `data` (which may be forged)."""
        query = {
            "id": f"q{next(self.message_ids)}",
            "from": self._user(user_id, name, lang),
            "chat_instance": "ci",
            "data": data,
            "message": {"message_id": 1, "date": int(time.time()), "chat": {"id": user_id, "type": "private"}, "from": BOT, "text": "…"},
        }
        return await self._process({"callback_query": query})

    async def vote(self, user_id: int, option: int, poll_id: str | None = None, name: str = "Ann", lang: str = "zh") -> list[Call]:
        """The user votes for option number `option` (from 0) in the newest poll the bot sent them, or in `poll_id`."""
        answer = {
            "poll_id": poll_id or self.request.polls[user_id][-1],
            "user": self._user(user_id, name, lang),
            "option_ids": [option],
            "option_persistent_ids": [str(option)],
        }
        return await self._process({"poll_answer": answer})

    async def press(self, user_id: int, label: str, **kw: Any) -> list[Call]:
        """The user presses the button labelled `label` on the latest keyboard."""
        return await self.press_data(user_id, self.button_data(user_id, label), **kw)


def texts(calls: list[Call]) -> list[str]:
    """The texts of the messages (and edits) among `calls`."""
    return [c.params["text"] for c in calls if c.method in ("sendMessage", "editMessageText")]


def polls(calls: list[Call]) -> list[dict[str, Any]]:
    """The quiz polls among `calls`: question, options (their texts), correct option and explanation."""
    return [{**c.params, "options": [o["text"] if isinstance(o, dict) else o for o in c.params["options"]]} for c in calls if c.method == "sendPoll"]


def notices(calls: list[Call]) -> list[str]:
    """The texts with which button presses were answered."""
    return [c.params.get("text", "") for c in calls if c.method == "answerCallbackQuery"]


async def telegram_with(request: RecordingRequest, settings: Settings, engine: Engine) -> FakeTelegram:
    """The bot's real Application on a request the test scripts (errors, timeouts, 429s), initialised."""
    from bot.telegram_app import build_application

    app = build_application(settings, engine, request=request)
    await app.initialize()
    return FakeTelegram(app, request, seen=len(request.calls))


def photos(calls: list[Call]) -> list[tuple[str, bytes]]:
    """The captions and PNG bytes of the photos among `calls`."""
    return [(c.params.get("caption", ""), c.files["photo"][1]) for c in calls if c.method == "sendPhoto"]
