"""A local Telegram Bot API for end-to-end tests, and the simulated people who use it.

The emulator listens on a free loopback port in a thread of its own and answers the
subset of the Bot API the bot uses, in Telegram's shapes (built with PTB's own types),
with Telegram's limits and error answers. Updates reach the bot by long polling or,
once a webhook is set, by POSTs carrying the secret token.

Tests talk to it as people do (see people.py): `rep = emu.user(1001, "Li Lei", "zh")`,
`rep.send("/start")`, `rep.wait_for("欢迎")`, `rep.press("English")`.

Faults, for tests of what the bot does when Telegram misbehaves or the bot dies mid-call:
`emu.fault("sendMessage", chat_id, error=ApiError(500, "Internal Server Error"))` answers the
next such call with an error; `hold="before"` keeps it waiting unaccepted and `hold="after"`
accepts it (the person sees the message) and keeps its answer waiting, until `emu.release(f)`
or `emu.hang_up(f)` after the bot was killed. `queued` lists every update id people caused,
`handed_out` each one as Telegram hands it to the bot. `accepted` records when each message
(sendMessage, sendDocument) was accepted and for which chat: the record that rate limits are
checked against.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import mimetypes
import re
import struct
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import tornado.httpserver
import tornado.httputil
import tornado.netutil
import tornado.web
from telegram import (
    CallbackQuery,
    Chat,
    Document,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    PhotoSize,
    Poll,
    PollAnswer,
    PollOption,
    Update,
    User,
    WebhookInfo,
)
from telegram.constants import PollLimit
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from tests.e2e.people import DEFAULT_WAIT, Seen, TelegramUser
from tests.e2e.telegram_html import HtmlError, parse_html, utf16_len

COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
BOT_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
# The calls that show a person something new (a fault for method "" holds the first of them).
SHOWING = frozenset({"sendmessage", "editmessagetext", "senddocument", "sendpoll", "sendphoto"})
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What Telegram sends when allowed_updates is empty (of the kinds the emulator makes).
UPDATE_KINDS_BY_DEFAULT = frozenset({"message", "edited_message", "callback_query", "poll_answer"})


@dataclass(frozen=True)
class Limits:
    """Telegram's documented limits; tests may tighten them."""

    text: int = 4096
    caption: int = 1024
    photo_bytes: int = 10 * 1024 * 1024
    photo_sides: int = 10000  # width + height
    photo_ratio: int = 20
    callback_data_bytes: int = 64
    notice: int = 200
    per_second: float = 30.0
    burst: int = 30
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 5


class ApiError(Exception):
    """An error answer in Telegram's format."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class _Bucket:
    """A token bucket: `burst` sends at once, then `rate` a second."""

    rate: float
    burst: int
    tokens: float = -1.0
    last: float = 0.0

    def wait(self, now: float) -> float:
        """Seconds until the next send is allowed (0: now)."""
        if self.tokens < 0:
            self.tokens, self.last = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class _Params:
    """A request's parameters: form fields (every value a string), multipart, or JSON."""

    def __init__(self, values: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> None:
        self.values, self.files = values, files

    @classmethod
    def of(cls, request: tornado.httputil.HTTPServerRequest) -> _Params:
        values: dict[str, Any] = {k: v[-1].decode() for k, v in request.query_arguments.items()}
        files: dict[str, tuple[str, bytes]] = {}
        content_type = request.headers.get("Content-Type", "")
        if content_type.startswith("application/json") and request.body:
            try:
                values.update(json.loads(request.body))
            except (ValueError, TypeError) as exc:
                raise bad_request("can't parse JSON") from exc
        elif request.body:
            arguments: dict[str, list[bytes]] = {}
            uploads: dict[str, list[tornado.httputil.HTTPFile]] = {}
            tornado.httputil.parse_body_arguments(content_type, request.body, arguments, uploads)
            values.update({k: v[-1].decode() for k, v in arguments.items()})
            files = {k: (v[-1].filename, v[-1].body) for k, v in uploads.items()}
        return cls(values, files)

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def number(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise bad_request(f"invalid {name} specified") from exc

    def flag(self, name: str) -> bool:
        return self.values.get(name) in (True, "true", "True", "1", 1)

    def structure(self, name: str) -> Any:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError as exc:
            raise bad_request(f"can't parse {name} JSON object") from exc


@dataclass
class Fault:
    """Trouble the next `times` calls of `method` ("": any call that shows something) to
    `chat_id` (None: any chat) meet: an error answer, or a hold before Telegram accepts the
    call or after (its answer held back)."""

    method: str
    chat_id: int | None
    error: ApiError | None = None
    hold: str = ""
    times: int = 1
    arrived: int = 0
    released: bool = False
    dropped: bool = False


@dataclass
class _BotMessage:
    """A message the bot sent, as it stands now (edits change it in place)."""

    chat_id: int
    message_id: int
    date: datetime
    text: str | None = None
    entities: list[MessageEntity] = field(default_factory=list)
    markup: dict[str, Any] | None = None
    document: Document | None = None
    photo: tuple[PhotoSize, ...] = ()
    content: bytes = b""
    edit_date: datetime | None = None
    poll: Poll | None = None
    changed: int = 0

    def buttons(self) -> list[list[dict[str, Any]]]:
        return list((self.markup or {}).get("inline_keyboard", []))

    def labels(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(button.get("text", "") for button in row) for row in self.buttons())

    def to_message(self, bot: User, chat: Chat) -> Message:
        markup = InlineKeyboardMarkup.de_json(self.markup, None) if self.markup and "inline_keyboard" in self.markup else None
        if self.document is not None:
            return Message(
                self.message_id,
                self.date,
                chat,
                from_user=bot,
                document=self.document,
                caption=self.text,
                caption_entities=self.entities,
                reply_markup=markup,
                edit_date=self.edit_date,
            )
        if self.poll is not None:
            return Message(self.message_id, self.date, chat, from_user=bot, poll=self.poll)
        if self.photo:
            return Message(
                self.message_id,
                self.date,
                chat,
                from_user=bot,
                photo=self.photo,
                caption=self.text,
                caption_entities=self.entities,
                reply_markup=markup,
                edit_date=self.edit_date,
            )
        return Message(self.message_id, self.date, chat, from_user=bot, text=self.text, entities=self.entities, reply_markup=markup, edit_date=self.edit_date)


@dataclass
class _Webhook:
    url: str
    secret: str | None
    max_connections: int
    last_error: tuple[datetime, str] | None = None


class _ApiHandler(tornado.web.RequestHandler):
    def initialize(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.gone = False

    async def post(self, token: str, method: str) -> None:
        status, body = await self.emulator.dispatch(token, method, self)
        if not self.gone:
            self.set_status(status)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(body, ensure_ascii=False))

    get = post

    def on_connection_close(self) -> None:
        self.gone = True
        self.emulator.changed()

    def log_exception(self, *args: Any) -> None:
        self.emulator.crashes.append(repr(args[1]))


class Emulator:
    """The Bot API on http://127.0.0.1:<port>; give `base_url` to the bot."""

    def __init__(self, token: str, *, username: str = "SalesCoachBot", limits: Limits = Limits()) -> None:
        self.token, self.limits = token, limits
        self.bot = User(
            int(token.split(":", 1)[0]),
            "SalesCoach",
            True,
            username=username,
            can_join_groups=True,
            can_read_all_group_messages=False,
            supports_inline_queries=False,
            can_connect_to_business=False,
            has_main_web_app=False,
        )
        self.port = 0
        self.errors: list[tuple[str, int, str]] = []
        self.crashes: list[str] = []
        self.users: dict[int, TelegramUser] = {}
        self.webhook: _Webhook | None = None
        self.polls = 0
        self.handed_out: list[int] = []
        self.queued: list[int] = []
        self.accepted: list[tuple[float, int]] = []
        self.injected: list[tuple[str, int, str]] = []
        self._faults: list[Fault] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1_000)
        self._query_ids = itertools.count(5_000)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._messages: dict[tuple[int, int], _BotMessage] = {}
        self._seen: dict[int, list[Seen]] = {}
        self._queries: dict[str, int] = {}
        self._votes: set[tuple[str, int]] = set()
        self._menus: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._allowed: frozenset[str] = UPDATE_KINDS_BY_DEFAULT
        self._buckets: dict[int | None, _Bucket] = {}
        self._poller = 0
        self._changes = itertools.count(1)
        self._event: asyncio.Event | None = None
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._methods: dict[str, Callable[[_Params], Coroutine[Any, Any, Any]]] = {
            name.lower(): getattr(self, f"api_{name}")
            for name in (
                "getMe",
                "getUpdates",
                "setWebhook",
                "deleteWebhook",
                "getWebhookInfo",
                "sendMessage",
                "editMessageText",
                "editMessageReplyMarkup",
                "answerCallbackQuery",
                "sendDocument",
                "sendPoll",
                "sendPhoto",
                "setMyCommands",
                "getMyCommands",
                "deleteMyCommands",
            )
        }

    # --- running ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What the bot's --base-url should be."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Emulator:
        """Starts listening on a free loopback port in a background thread."""
        ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve(ready)), name="bot-api-emulator", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the Bot API emulator did not start")
        return self

    def stop(self) -> None:
        """Stops the server; pending long polls end."""
        if self._loop is not None and self._stop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(10)

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._event, self._stop = asyncio.Event(), asyncio.Event()
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        app = tornado.web.Application([(r"/bot([^/]+)/([A-Za-z_]+)/?", _ApiHandler, {"emulator": self})], log_function=lambda handler: None)
        server = tornado.httpserver.HTTPServer(app)
        server.add_sockets(sockets)
        client = AsyncHTTPClient(force_instance=True)
        pusher = asyncio.create_task(self._push_webhooks(client))
        ready.set()
        await self._stop.wait()
        self._closing = True
        self.changed()
        server.stop()
        await pusher
        await asyncio.sleep(0.05)
        await server.close_all_connections()
        client.close()

    def on_loop(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Runs `fn` on the emulator's loop (all its state lives there) and returns its result."""
        assert self._loop is not None, "start() the emulator first"

        async def run() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(30)

    def changed(self) -> None:
        """Wakes everyone waiting for the state to change."""
        if self._event is not None:
            self._event.set()
            self._event = asyncio.Event()

    async def until(self, check: Callable[[], Any], timeout: float) -> Any:
        """`check()` once it is truthy, or its last value when `timeout` runs out."""
        assert self._loop is not None
        deadline = self._loop.time() + timeout
        while True:
            result = check()
            remaining = deadline - self._loop.time()
            if result or remaining <= 0 or self._closing:
                return result
            assert self._event is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), remaining)

    def wait_until(self, check: Callable[[], Any], timeout: float = DEFAULT_WAIT) -> Any:
        """From the test thread: waits until `check()` (run on the loop) is truthy."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(self.until(check, timeout), self._loop).result(timeout + 10)

    def fault(self, method: str, chat_id: int | None = None, *, error: ApiError | None = None, hold: str = "", times: int = 1) -> Fault:
        """From the test thread: the next `times` calls of `method` (to `chat_id`) meet this fault."""
        assert hold in ("", "before", "after") and (error is None) != (hold == "")
        fault = Fault(method.lower(), chat_id, error, hold, times)
        self.on_loop(self._faults.append, fault)
        return fault

    def release(self, fault: Fault) -> None:
        """Lets the calls held by `fault` go on."""

        def go() -> None:
            fault.released = True
            self.changed()

        self.on_loop(go)

    def hang_up(self, fault: Fault) -> None:
        """The bot that made the held calls is gone: calls held before Telegram accepted them
        never will be, and held answers go nowhere (tornado notices a dead client only when it
        next reads from it)."""

        def gone() -> None:
            fault.dropped = True
            self.changed()

        self.on_loop(gone)

    def withdraw(self, fault: Fault) -> None:
        """The fault no longer applies to calls still to come."""

        def drop() -> None:
            if fault in self._faults:
                self._faults.remove(fault)

        self.on_loop(drop)

    def _fault_for(self, name: str, params: _Params) -> Fault | None:
        chat = params.text("chat_id")
        if chat is None and name == "answercallbackquery":
            chat = str(self._queries.get(params.text("callback_query_id") or "", ""))
        for fault in self._faults:
            if (fault.method == name or (not fault.method and name in SHOWING)) and fault.times > 0 and (fault.chat_id is None or str(fault.chat_id) == chat):
                fault.times -= 1
                fault.arrived += 1
                if fault.times == 0:
                    self._faults.remove(fault)
                self.changed()
                return fault
        return None

    # --- the people ------------------------------------------------------------------

    def user(self, user_id: int, name: str = "", lang: str = "zh") -> TelegramUser:
        """A person with a private chat with the bot."""
        person = TelegramUser(self, user_id, name or f"user{user_id}", lang)
        self.users[user_id] = person
        return person

    def seen(self, chat_id: int) -> list[Seen]:
        return list(self._seen.get(chat_id, []))

    def wait_for(self, person: TelegramUser, what: str | Callable[[Seen], bool], timeout: float) -> Seen:
        def found() -> Seen | None:
            return next((s for s in self.seen(person.id)[person.mark :] if s.matches(what)), None)

        result = self.wait_until(found, timeout)
        if result is None:
            since = self.on_loop(lambda: self.seen(person.id)[person.mark :])
            shown = "\n  ".join(str(s) for s in since) or "(nothing)"
            raise AssertionError(f"{person.name} waited {timeout:.0f}s for {what!r}; the bot showed them since their last action:\n  {shown}")
        return result

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _queue(self, **update: Any) -> None:
        update_id = next(self._update_ids)
        self.queued.append(update_id)
        self._updates.append(Update(update_id, **update).to_dict())
        self.changed()

    def user_message(self, person: TelegramUser, text: str) -> None:
        entities = [MessageEntity(MessageEntity.BOT_COMMAND, utf16_len(text[: m.start()]), utf16_len(m.group())) for m in COMMAND.finditer(text)]
        message = Message(self._next_message_id(person.id), datetime.now(UTC), person.as_chat(), from_user=person.as_user(), text=text, entities=entities)
        person.mark = len(self._seen.get(person.id, []))
        self._queue(message=message)

    def user_press(self, person: TelegramUser, label: str, message_id: int | None) -> None:
        mine = [m for (chat, _), m in self._messages.items() if chat == person.id and (message_id is None or m.message_id == message_id)]
        for message in sorted(mine, key=lambda m: m.changed, reverse=True):
            data = next((b["callback_data"] for row in message.buttons() for b in row if b.get("text") == label and "callback_data" in b), None)
            if data is not None:
                break
        else:
            shown = [m.labels() for m in sorted(mine, key=lambda m: m.changed, reverse=True)[:3]]
            raise AssertionError(f"{person.name} sees no button {label!r}; newest keyboards: {shown}")
        query_id = str(next(self._query_ids))
        self._queries[query_id] = person.id
        person.mark = len(self._seen.get(person.id, []))
        query = CallbackQuery(query_id, person.as_user(), str(person.id), message=message.to_message(self.bot, person.as_chat()), data=data)
        self._queue(callback_query=query)

    def user_vote(self, person: TelegramUser, option: str, message_id: int | None) -> None:
        polls = [
            m for (chat, _), m in self._messages.items() if chat == person.id and m.poll is not None and (message_id is None or m.message_id == message_id)
        ]
        for message in sorted(polls, key=lambda m: m.changed, reverse=True):
            assert message.poll is not None
            texts = [o.text for o in message.poll.options]
            if option in texts:
                poll, chosen = message.poll, texts.index(option)
                break
        else:
            raise AssertionError(
                f"{person.name} sees no poll with the option {option!r}; newest polls: {[[o.text for o in m.poll.options] for m in polls[-3:] if m.poll]}"
            )
        if (poll.id, person.id) in self._votes:
            raise AssertionError(f"{person.name} has answered this quiz already: Telegram takes one answer per person")
        self._votes.add((poll.id, person.id))
        person.mark = len(self._seen.get(person.id, []))
        if not poll.is_anonymous:
            persistent = poll.options[chosen].persistent_id
            self._queue(poll_answer=PollAnswer(poll.id, [chosen], user=person.as_user(), option_persistent_ids=[persistent] if persistent else []))

    def menu_for(self, person: TelegramUser) -> list[tuple[str, str]]:
        chat = json.dumps({"type": "chat", "chat_id": person.id}, sort_keys=True)
        private = json.dumps({"type": "all_private_chats"}, sort_keys=True)
        default = json.dumps({"type": "default"}, sort_keys=True)
        for scope in (chat, private, default):
            for lang in (person.lang, ""):
                if (scope, lang) in self._menus:
                    return list(self._menus[(scope, lang)])
        return []

    def _show(self, chat_id: int, kind: str, message: _BotMessage | None, text: str) -> None:
        if message is not None:
            message.changed = next(self._changes)
            filename = message.document.file_name if message.document else (f"photo-{message.message_id}.png" if message.photo else None)
            options = tuple(o.text for o in message.poll.options) if message.poll else ()
            self._seen.setdefault(chat_id, []).append(
                Seen(kind, text, message.message_id, message.labels(), filename, message.content if filename else None, options)
            )
        else:
            self._seen.setdefault(chat_id, []).append(Seen(kind, text))
        self.changed()

    # --- the HTTP side ---------------------------------------------------------------

    async def dispatch(self, token: str, method: str, handler: _ApiHandler) -> tuple[int, dict[str, Any]]:
        """Answers one Bot API request in Telegram's format."""
        name = method.lower()
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            params = _Params.of(handler.request)
            if name not in self._methods:
                raise ApiError(404, "Not Found")
            if name == "getupdates":
                result = await self.api_getUpdates(params, handler)
                return 200, {"ok": True, "result": result}
            fault = self._fault_for(name, params)
            if fault is not None and fault.error is not None:
                self.injected.append((method, fault.error.code, fault.error.description))
                return fault.error.code, fault.error.body()
            if fault is not None and fault.hold == "before":
                await self.until(lambda: fault.released or fault.dropped or handler.gone, 3600)
                if handler.gone or fault.dropped:
                    return 499, {"ok": False, "error_code": 499, "description": "the bot hung up"}
            result = await self._methods[name](params)
            if fault is not None and fault.hold == "after":
                await self.until(lambda: fault.released or fault.dropped or handler.gone, 3600)
            return 200, {"ok": True, "result": result}
        except ApiError as error:
            self.errors.append((method, error.code, error.description))
            return error.code, error.body()
        except Exception as exc:  # noqa: BLE001 - an emulator bug must show in the test, not hang the bot
            self.crashes.append(f"{method}: {exc!r}")
            return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}

    def _deliverable(self) -> list[dict[str, Any]]:
        """Pending updates of the kinds the bot asked for (allowed_updates)."""
        return [u for u in self._updates if not self._allowed.isdisjoint(u)]

    async def api_getMe(self, params: _Params) -> Any:
        return self.bot.to_dict()

    async def api_getUpdates(self, params: _Params, handler: _ApiHandler | None = None) -> Any:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
        offset = params.number("offset", 0) or 0
        limit = min(max(params.number("limit", 100) or 100, 1), 100)
        timeout = max(params.number("timeout", 0) or 0, 0)
        allowed = params.structure("allowed_updates")
        if allowed is not None:
            self._allowed = frozenset(allowed) if allowed else UPDATE_KINDS_BY_DEFAULT
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self._updates = self._deliverable()
        self.polls += 1
        self._poller += 1
        mine = self._poller
        self.changed()
        await self.until(lambda: self._poller != mine or self._deliverable() or (handler is not None and handler.gone), timeout)
        if self._poller != mine:
            raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
        batch = self._deliverable()[:limit]
        if handler is None or not handler.gone:
            self.handed_out.extend(u["update_id"] for u in batch)
            if batch:
                self.changed()
        return batch

    async def api_setWebhook(self, params: _Params) -> Any:
        url = params.text("url") or ""
        if not url:
            return await self.api_deleteWebhook(params)
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.text("secret_token")
        if secret is not None and not SECRET_TOKEN.match(secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = params.structure("allowed_updates")
        if allowed is not None:
            self._allowed = frozenset(allowed) if allowed else UPDATE_KINDS_BY_DEFAULT
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self.webhook = _Webhook(url, secret, params.number("max_connections", 40) or 40)
        self._poller += 1
        self.changed()
        return True

    async def api_deleteWebhook(self, params: _Params) -> Any:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self.webhook = None
        self.changed()
        return True

    async def api_getWebhookInfo(self, params: _Params) -> Any:
        hook = self.webhook
        if hook is None:
            return WebhookInfo("", False, len(self._deliverable())).to_dict()
        error_date, error = hook.last_error if hook.last_error else (None, None)
        return WebhookInfo(hook.url, False, len(self._deliverable()), error_date, error, hook.max_connections, sorted(self._allowed)).to_dict()

    async def _push_webhooks(self, client: AsyncHTTPClient) -> None:
        """Delivers pending updates to the webhook one at a time, in order, retrying on failure."""
        while not self._closing:
            await self.until(lambda: self._closing or (self.webhook is not None and self._deliverable()), 3600)
            hook, pending = self.webhook, self._deliverable()
            if self._closing or hook is None or not pending:
                continue
            headers = {"Content-Type": "application/json"}
            if hook.secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret
            try:
                response = await client.fetch(hook.url, method="POST", body=json.dumps(pending[0]), headers=headers, raise_error=False, request_timeout=10)
                problem = None if 200 <= response.code < 300 else f"Wrong response from the webhook: {response.code} {response.reason}"
            except OSError as exc:
                problem = f"Connection failed: {exc.strerror or exc}"
            except HTTPClientError as exc:  # the bot hung up or did not answer in time
                problem = f"Connection failed: {exc}"
            except Exception as exc:  # noqa: BLE001 - an emulator bug must show in the test, not stop deliveries
                self.crashes.append(f"webhook delivery: {exc!r}")
                problem = f"Connection failed: {exc!r}"
            if problem is None:
                if pending[0] in self._updates:
                    self._updates.remove(pending[0])
                self.handed_out.append(pending[0]["update_id"])
                self.changed()
            else:
                hook.last_error = (datetime.now(UTC), problem)
                await asyncio.sleep(0.2)

    # --- sending -----------------------------------------------------------------------

    def _chat(self, params: _Params) -> int:
        chat_id = params.text("chat_id")
        if not chat_id:
            raise bad_request("chat_id is empty")
        try:
            number = int(chat_id)
        except ValueError as exc:
            raise bad_request("chat not found") from exc
        person = self.users.get(number)
        if person is None:
            raise bad_request("chat not found")
        if person.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return number

    def _formatted(self, params: _Params, name: str, limit: int, what: str) -> tuple[str, list[MessageEntity]]:
        source = params.text(name) or ""
        mode = (params.text("parse_mode") or "").lower()
        if mode == "html":
            try:
                text, entities = parse_html(source)
            except HtmlError as exc:
                raise bad_request(f"can't parse entities: {exc}") from exc
        else:
            text = source
            entities = [MessageEntity.de_json(e, None) for e in params.structure(f"{name}_entities" if name == "caption" else "entities") or []]
        if len(text) > limit:
            raise bad_request(f"{what} is too long")
        return text, entities

    def _markup(self, params: _Params) -> dict[str, Any] | None:
        markup = params.structure("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
                if "callback_data" in button and not 1 <= len(str(button["callback_data"]).encode()) <= self.limits.callback_data_bytes:
                    raise bad_request("BUTTON_DATA_INVALID")
                if not any(key in button for key in ("callback_data", "url", "switch_inline_query", "login_url", "web_app", "pay", "copy_text")):
                    raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
        return markup

    def _rate(self, chat_id: int) -> None:
        now = time.monotonic()
        overall = self._buckets.setdefault(None, _Bucket(self.limits.per_second, self.limits.burst))
        chat = self._buckets.setdefault(chat_id, _Bucket(self.limits.per_chat_per_second, self.limits.per_chat_burst))
        wait = max(overall.wait(now), chat.wait(now))
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)
        overall.tokens -= 1
        chat.tokens -= 1
        self.accepted.append((now, chat_id))

    def _store(self, chat_id: int, **fields: Any) -> _BotMessage:
        message = _BotMessage(chat_id, self._next_message_id(chat_id), datetime.now(UTC), **fields)
        self._messages[(chat_id, message.message_id)] = message
        return message

    def _reply(self, message: _BotMessage) -> Any:
        return message.to_message(self.bot, self.users[message.chat_id].as_chat()).to_dict()

    async def api_sendMessage(self, params: _Params) -> Any:
        chat_id = self._chat(params)
        text, entities = self._formatted(params, "text", self.limits.text, "message")
        if not text.strip():
            raise bad_request("message text is empty")
        markup = self._markup(params)
        self._rate(chat_id)
        message = self._store(chat_id, text=text, entities=entities, markup=markup)
        self._show(chat_id, "message", message, text)
        return self._reply(message)

    async def api_sendDocument(self, params: _Params) -> Any:
        chat_id = self._chat(params)
        if "document" not in params.files:
            raise bad_request("wrong file identifier/HTTP URL specified")
        filename, content = params.files["document"]
        caption, entities = self._formatted(params, "caption", self.limits.caption, "message caption")
        markup = self._markup(params)
        self._rate(chat_id)
        number = len(self._messages) + 1
        document = Document(
            f"BQACAgIAAx{number:08d}",
            f"AgAD{number:08d}",
            file_name=filename,
            mime_type=mimetypes.guess_type(filename)[0] or "application/octet-stream",
            file_size=len(content),
        )
        message = self._store(chat_id, text=caption or None, entities=entities, markup=markup, document=document, content=content)
        self._show(chat_id, "document", message, caption)
        return self._reply(message)

    async def api_sendPoll(self, params: _Params) -> Any:
        chat_id = self._chat(params)
        question = params.text("question") or ""
        if not PollLimit.MIN_QUESTION_LENGTH <= utf16_len(question) <= PollLimit.MAX_QUESTION_LENGTH:
            raise bad_request("POLL_QUESTION_INVALID")
        given = params.structure("options")
        if not isinstance(given, list) or not 2 <= len(given) <= PollLimit.MAX_OPTION_NUMBER:
            raise bad_request("POLL_ANSWERS_INVALID")
        texts = [str(o.get("text", "")) if isinstance(o, dict) else str(o) for o in given]
        if any(not 1 <= utf16_len(t) <= PollLimit.MAX_OPTION_LENGTH for t in texts):
            raise bad_request("POLL_ANSWER_INVALID")
        kind = params.text("type") or Poll.REGULAR
        correct = params.structure("correct_option_ids") or []
        if kind == Poll.QUIZ and (len(correct) != 1 or not all(isinstance(c, int) and 0 <= c < len(texts) for c in correct)):
            raise bad_request("QUIZ_CORRECT_ANSWERS_INVALID")
        explanation = params.text("explanation") or ""
        if utf16_len(explanation) > PollLimit.MAX_EXPLANATION_LENGTH or explanation.count("\n") > PollLimit.MAX_EXPLANATION_LINE_FEEDS:
            raise bad_request("explanation is too long")
        anonymous = params.values.get("is_anonymous") is None or params.flag("is_anonymous")
        self._rate(chat_id)
        number = len(self._messages) + 1
        options = [PollOption(text, 0, persistent_id=str(i)) for i, text in enumerate(texts)]
        poll = Poll(
            f"poll{number}",
            question,
            options,
            0,
            False,
            anonymous,
            kind,
            False,
            explanation=explanation or None,
            allows_revoting=False,
            members_only=False,
            correct_option_ids=correct or None,
        )
        message = self._store(chat_id, poll=poll)
        self._show(chat_id, "poll", message, question)
        return self._reply(message)

    async def api_sendPhoto(self, params: _Params) -> Any:
        chat_id = self._chat(params)
        if "photo" not in params.files:
            raise bad_request("wrong file identifier/HTTP URL specified")
        _, content = params.files["photo"]
        width, height = self._photo_size(content)
        caption, entities = self._formatted(params, "caption", self.limits.caption, "message caption")
        markup = self._markup(params)
        self._rate(chat_id)
        number = len(self._messages) + 1
        photo = (PhotoSize(f"AgACAgIAAx{number:08d}", f"AQAD{number:08d}", width, height, file_size=len(content)),)
        message = self._store(chat_id, text=caption or None, entities=entities, markup=markup, photo=photo, content=content)
        self._show(chat_id, "photo", message, caption)
        return self._reply(message)

    def _photo_size(self, content: bytes) -> tuple[int, int]:
        """A PNG's width and height, refused as Telegram refuses a photo it cannot show."""
        if not content.startswith(PNG_SIGNATURE) or len(content) < 24:
            raise bad_request("IMAGE_PROCESS_FAILED")
        if len(content) > self.limits.photo_bytes:
            raise ApiError(413, "Request Entity Too Large")
        width, height = struct.unpack(">II", content[16:24])
        if not width or not height or width + height > self.limits.photo_sides or max(width, height) > self.limits.photo_ratio * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        return width, height

    def _editable(self, params: _Params) -> _BotMessage:
        if params.text("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat_id = self._chat(params)
        message = self._messages.get((chat_id, params.number("message_id", 0) or 0))
        if message is None:
            raise bad_request("message to edit not found")
        return message

    async def api_editMessageText(self, params: _Params) -> Any:
        message = self._editable(params)
        if message.document is not None:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._formatted(params, "text", self.limits.text, "message")
        if not text.strip():
            raise bad_request("message text is empty")
        markup = self._markup(params)
        if (text, entities, markup) == (message.text, message.entities, message.markup):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
            )
        message.text, message.entities, message.markup = text, entities, markup
        message.edit_date = datetime.now(UTC)
        self._show(message.chat_id, "edit", message, text)
        return self._reply(message)

    async def api_editMessageReplyMarkup(self, params: _Params) -> Any:
        message = self._editable(params)
        markup = self._markup(params)
        if markup == message.markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
            )
        message.markup = markup
        message.edit_date = datetime.now(UTC)
        self._show(message.chat_id, "edit", message, message.text or "")
        return self._reply(message)

    async def api_answerCallbackQuery(self, params: _Params) -> Any:
        chat_id = self._queries.pop(params.text("callback_query_id") or "", None)
        if chat_id is None:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = params.text("text") or ""
        if len(text) > self.limits.notice:
            raise bad_request("MESSAGE_TOO_LONG")
        if text:
            self._show(chat_id, "notice", None, text)
        return True

    # --- command menus -------------------------------------------------------------------

    def _menu_key(self, params: _Params) -> tuple[str, str]:
        scope = params.structure("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.text("language_code") or ""

    async def api_setMyCommands(self, params: _Params) -> Any:
        commands = params.structure("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not BOT_COMMAND.match(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._menus[self._menu_key(params)] = [(c["command"], c["description"]) for c in commands]
        return True

    async def api_getMyCommands(self, params: _Params) -> Any:
        return [{"command": c, "description": d} for c, d in self._menus.get(self._menu_key(params), [])]

    async def api_deleteMyCommands(self, params: _Params) -> Any:
        self._menus.pop(self._menu_key(params), None)
        return True
