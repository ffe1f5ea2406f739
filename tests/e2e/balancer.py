"""A load balancer for end-to-end tests: Telegram posts to one webhook address, and this hands
each post to the next of several bot processes in turn (as Caddy does in the compose file's
webhook profile), passing their answer back."""

from __future__ import annotations

import itertools

import tornado.httpserver
import tornado.netutil
import tornado.web
from tornado.httpclient import AsyncHTTPClient

from tests.e2e.emulator import Emulator

HOOK_PATH = "/telegram/hook"


class _Forward(tornado.web.RequestHandler):
    def initialize(self, balancer: Balancer) -> None:
        self.balancer = balancer

    async def post(self) -> None:
        port = next(self.balancer.turns)
        headers = {k: v for k, v in self.request.headers.items() if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")}
        answer = await self.balancer.client.fetch(
            f"http://127.0.0.1:{port}{HOOK_PATH}", method="POST", body=self.request.body, headers=headers, raise_error=False, request_timeout=10
        )
        self.balancer.posts[port] = self.balancer.posts.get(port, 0) + 1
        self.set_status(answer.code if answer.code >= 200 else 502)
        self.finish(answer.body or b"")


class Balancer:
    """Listens on loopback `port`, on the emulator's loop, and hands posts to the bot processes
    listening on `ports`; `url` is the webhook address, `posts` counts what each got. Stop it
    before the emulator."""

    def __init__(self, emulator: Emulator, port: int, ports: list[int]) -> None:
        self.emulator, self.port = emulator, port
        self.turns = itertools.cycle(ports)
        self.posts: dict[int, int] = {}
        self.client: AsyncHTTPClient
        self._server: tornado.httpserver.HTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{HOOK_PATH}"

    def start(self) -> Balancer:
        self.emulator.on_loop(self._listen)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self.emulator.on_loop(self._close)

    def _listen(self) -> None:
        self.client = AsyncHTTPClient(force_instance=True)
        self._server = tornado.httpserver.HTTPServer(tornado.web.Application([(HOOK_PATH, _Forward, {"balancer": self})], log_function=lambda handler: None))
        self._server.add_sockets(tornado.netutil.bind_sockets(self.port, "127.0.0.1"))

    def _close(self) -> None:
        assert self._server is not None
        self._server.stop()
        self._server = None
        self.client.close()
