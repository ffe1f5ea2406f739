"""The engine: takes an Event, loads the user's state, routes, saves, returns Replies.

Nothing is kept in the process between events: any bot process can take the next
event of any user, and a restart loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session

from dialogs.core.callback import encode
from dialogs.core.context import Ctx, Settings, guess_lang
from dialogs.core.events import Event, Reply
from dialogs.registry import CATALOGUE
from dialogs.router import route
from knowledge.loader import Knowledge
from storage.dialog_state import StaleState, load_state, save_state
from storage.models import utcnow
from storage.updates import claim_update
from storage.users import ensure_user

log = logging.getLogger(__name__)
ATTEMPTS = 3
# Takes an event's replies inside the transaction that commits what the event changed
# (the Telegram adapter writes them to its outbox there).
Outbox = Callable[[Session, list[Reply]], None]


def stamp_buttons(replies: list[Reply], version: int) -> None:
    """Encode every button's callback data before the commit: a button that cannot be
    encoded raises and rolls the whole event back, so it never leaves a half-done state."""
    for reply in replies:
        for row in reply.buttons:
            for button in row:
                button.data = encode(button.action, None if button.is_global else version)


class Engine:
    """Transport-free conversation logic shared by the Telegram and console adapters."""

    def __init__(self, db: DbEngine, knowledge: Knowledge, settings: Settings | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.knowledge = knowledge
        self.settings = settings or Settings()
        self.clock = clock

    def handle(self, event: Event, outbox: Outbox | None = None) -> list[Reply]:
        """What the bot answers to `event`; retried when another process raced us.

        An event with an `update_id` is recorded in the same transaction as everything it
        changes; one already recorded (a redelivery) is answered with nothing. With `outbox`,
        the replies are handed to it inside that transaction too, so they are kept exactly
        when the change is; the `busy` answer (the races were lost, nothing changed) is handed
        over in a transaction of its own.
        """
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return self._handle_once(event, outbox)
            except StaleState:
                log.info("state of a user changed under us; retrying (attempt %d)", attempt)
        replies = [Reply("busy", guess_lang(event.lang_hint))]
        if outbox is not None:
            with Session(self.db) as session:
                outbox(session, replies)
                session.commit()
        return replies

    def _handle_once(self, event: Event, outbox: Outbox | None) -> list[Reply]:
        with Session(self.db) as session:
            if event.update_id is not None and not claim_update(session, event.update_id):
                log.info("update %s already handled; skipped", event.update_id)
                return []
            user = ensure_user(session, event.user_id, event.name, event.chat_id)
            snap = load_state(session, user.id)
            ctx = Ctx(session, user, snap, self.knowledge, event, self.settings, CATALOGUE, now=self.clock())
            route(ctx)
            version = save_state(session, snap)
            stamp_buttons(ctx.replies, version)
            if outbox is not None:
                outbox(session, ctx.replies)
            session.commit()
        return ctx.replies
