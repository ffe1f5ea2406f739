"""PostgreSQL: short writes awaited on the event loop, each one statement in a transaction of its
own, on one connection of the process's own (psycopg's AsyncConnection, autocommit).

The bot's event loop makes a few writes around every update: the inbox stores it and, once it is
handled, claims the rep's next one (storage/inbox.py); the outbox records each reply Telegram took
(storage/outbox.py). In a worker thread each cost two thread hops besides its round trips; on a
shared 2-core machine each hop is a wake-up that waits for a core, and the threads' caches go cold.
Here the loop sends the statement and goes on with other work until the answer comes.

A statement that fails (the server restarted, the connection was cut) closes the connection and
answers None: the caller then does the same write in a thread, as it would without this, and the
next statement opens a new connection. Used from the event loop's thread only; psycopg runs one
statement at a time on the connection, so coroutines sharing it wait their turn.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from storage.prepared import Prepared, Ran

log = logging.getLogger(__name__)


class LoopConnection:
    """The event loop's own connection to PostgreSQL (see the module's docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.dialect = engine, engine.dialect
        self.held: list[Any] = []  # the open connection, if any
        self.opening = asyncio.Lock()
        weakref.finalize(self, _hang_up, self.held)

    @staticmethod
    def usable(engine: Engine) -> bool:
        """Whether the database is PostgreSQL."""
        return engine.dialect.name == "postgresql"

    async def run(self, statement: Prepared, params: Mapping[str, Any], what: str) -> Ran | None:
        """`statement` with `params`, committed on its own; None when it could not be made here:
        nothing was done, or it is not known whether it was (`what` names it in the log)."""
        try:
            connection = await self._connected()
            return await statement.run_async(connection, self.dialect, params)
        except (OSError, DBAPIError, self.dialect.loaded_dbapi.Error) as exc:
            log.warning("could not %s on the event loop's connection (%s); doing it in a thread", what, exc)
            await self.close()
            return None

    async def _connected(self) -> Any:
        async with self.opening:
            if not self.held or self.held[0].closed:
                import psycopg  # only on PostgreSQL, whose engine has imported it already

                args, kwargs = self.dialect.create_connect_args(self.engine.url)
                self.held[:] = [await psycopg.AsyncConnection.connect(*args, autocommit=True, **kwargs)]
            return self.held[0]

    async def close(self) -> None:
        """Close the connection (it is opened again by the next statement)."""
        held, self.held[:] = list(self.held), []
        for connection in held:
            if not connection.closed:
                await connection.close()


def _hang_up(held: list[Any]) -> None:
    """The connection of a LoopConnection thrown away without `close` ends without the event loop."""
    for connection in held:
        if not connection.closed:
            connection.pgconn.finish()
