"""A load balancer for end-to-end tests: Telegram posts to one webhook address, and this hands
each post to the next of several bot processes in turn (as Caddy does in the compose file's
webhook profile), passing their answer back."""

from __future__ import annotations

import asyncio
import itertools
import threading

import tornado.httpserver
import tornado.netutil
import tornado.web
from tornado.httpclient import AsyncHTTPClient

HOOK_PATH = "/telegram/hook"


class _Forward(tornado.web.RequestHandler):
    def initialize(self, balancer: Balancer) -> None:
        self.balancer = balancer

    async def post(self) -> None:
        port = next(self.balancer.turns)
        headers = {k: v for k, v in self.request.headers.items() if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")}
        answer = await self.balancer.client.fetch(f"http://127.0.0.1:{port}{HOOK_PATH}", method="POST", body=self.request.body, headers=headers, raise_error=False, request_timeout=10)
        self.balancer.posts[port] = self.balancer.posts.get(port, 0) + 1
        self.set_status(answer.code if answer.code >= 200 else 502)
        self.finish(answer.body or b"")


class Balancer:
    """Listens on loopback `port` in a thread of its own and hands posts to the bot processes
    listening on `ports`; `url` is the webhook address, `posts` counts what each got."""

    def __init__(self, port: int, ports: list[int]) -> None:
        self.turns = itertools.cycle(ports)
        self.posts: dict[int, int] = {}
        self.port = port
        self.client: AsyncHTTPClient
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{HOOK_PATH}"

    def start(self) -> Balancer:
        ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve(ready)), name="balancer", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the load balancer did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(10)

    async def _serve(self, ready: threading.Event) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self.client = AsyncHTTPClient(force_instance=True)
        sockets = tornado.netutil.bind_sockets(self.port, "127.0.0.1")
        server = tornado.httpserver.HTTPServer(tornado.web.Application([(HOOK_PATH, _Forward, {"balancer": self})], log_function=lambda handler: None))
        server.add_sockets(sockets)
        ready.set()
        await self._stop.wait()
        server.stop()
        await server.close_all_connections()
        self.client.close()
