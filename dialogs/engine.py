"""The engine: takes an Event, loads the user's state, routes, saves, returns Replies.

Nothing is kept in the process between events: any bot process can take the next
event of any user, and a restart loses nothing.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine as DbEngine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from dialogs.core.callback import encode
from dialogs.core.context import Ctx, Settings
from dialogs.core.events import Event, Reply
from dialogs.registry import CATALOGUE, DIALOGS
from dialogs.roleplay.customer import prepare as prepare_customer
from dialogs.router import route
from dialogs.understanding.classifier import warm as warm_understanding
from knowledge.loader import Knowledge
from storage.db import writer_lock_if_free
from storage.dialog_state import StaleState, save_state
from storage.models import utcnow
from storage.updates import claim_update
from storage.users import guess_lang, meet

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
        self.warmed = threading.Event()
        self._quick: set[int] = set()  # users whose dialog was left in one of its quick states

    def warm(self) -> None:
        """Load what reading a rep's message needs (rules, models, jieba, each scenario's
        customer) now, at start: otherwise the first role-play turn loads it for about a
        second inside its transaction, and every update in flight waits behind it.

        Then everything loaded is set aside from Python's garbage collector (gc.freeze): those
        objects live as long as the process, and each full collection went through all of them,
        stopping the bot for 80-150 ms, every reply in flight with it; after the freeze a full
        collection takes under 10 ms. (No last collection first: it would stop the bot once more
        at start, and what little garbage the warm-up left in cycles is kept, once.)"""
        warm_understanding()
        for scenario in self.knowledge.scenarios.values():
            prepare_customer(scenario)
        gc.freeze()
        self.warmed.set()

    def warm_in_background(self) -> None:
        """Start `warm` in a thread of its own, so the bot starts meanwhile. Events are not held
        back for it: where the learned models are not cached yet (a fresh machine) training them
        takes far longer than a rep should wait, and an event that needs one before the warm-up
        has it loads it itself, as it would without the warm-up."""
        threading.Thread(target=self.warm, name="warm", daemon=True).start()

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
            except DBAPIError as exc:
                if not exc.connection_invalidated or attempt == ATTEMPTS:
                    raise
                log.warning("the database connection was lost (%s); handling the update again on a new one", exc.orig)
                self.db.pool.dispose()  # the server restarted: the pooled connections died with this one
        replies = [Reply("busy", guess_lang(event.lang_hint))]
        if outbox is not None:
            with Session(self.db) as session:
                outbox(session, replies)
                session.commit()
        return replies

    def handle_here(self, event: Event, outbox: Outbox | None = None) -> list[Reply] | None:
        """`handle` on the calling thread (the bot's event loop) when that is sure to be quick;
        None when it is not, and the caller hands the event to a thread as before.

        Quick means: everything is loaded (`warm`), the event is a line typed in one of its
        dialog's `quick_states` (a role-play scene), and this process's SQLite writer lock is
        free now, so the turn never waits for another writer and holds it throughout; never on
        PostgreSQL, whose statements wait on the network. A turn then costs no thread hop and no
        contest with the loop for the interpreter: bench/roleplay_bench.py, see bench/README.md.
        The loop does nothing else meanwhile: 1-2 ms a turn, 5 ms for a scene's last turn (its
        chart is drawn when sent, after the commit, where matplotlib and the fonts load; 15 ms
        the first time after a start).
        Another process writing the same SQLite file (a `salescoach` command) holds the loop for
        as long as its write."""
        if not (self.warmed.is_set() and event.text and event.command is None and event.user_id in self._quick):
            return None
        with writer_lock_if_free(self.db) as held:
            return self.handle(event, outbox) if held else None

    def _handle_once(self, event: Event, outbox: Outbox | None) -> list[Reply]:
        with Session(self.db) as session:
            if event.update_id is not None and not claim_update(session, event.update_id):
                log.info("update %s already handled; skipped", event.update_id)
                return []
            user, snap = meet(session, event.user_id, event.name, event.chat_id, event.lang_hint)
            ctx = Ctx(session, user, snap, self.knowledge, event, self.settings, CATALOGUE, now=self.clock())
            route(ctx)
            dialog = DIALOGS.get(snap.dialog)
            if dialog is not None and snap.state in dialog.quick_states:
                self._quick.add(event.user_id)
            else:
                self._quick.discard(event.user_id)
            version = save_state(session, snap)
            stamp_buttons(ctx.replies, version)
            if outbox is not None:
                outbox(session, ctx.replies)
            session.commit()
        return ctx.replies
