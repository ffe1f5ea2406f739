"""Sending the daily review nudges (dialogs/review/nudge.py) through the reply outbox, from the job queue."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session
from telegram.ext import ContextTypes

from bot.outbox import Outbox, Posting
from dialogs.core.context import Settings
from dialogs.review.nudge import nudges
from knowledge.loader import Knowledge
from storage.models import utcnow


class ReviewNudges:
    """Each minute: queue the nudges that are due and send them."""

    def __init__(self, db: DbEngine, knowledge: Knowledge, outbox: Outbox, settings: Settings, clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.knowledge, self.outbox, self.settings, self.clock = db, knowledge, outbox, settings, clock

    def queue(self) -> list[Posting]:
        """Writes the due nudges to the outbox in one transaction with the marks that they were sent today."""
        postings = []
        with Session(self.db) as session:
            for reply in nudges(session, self.knowledge, self.settings, self.clock()):
                assert reply.chat_id is not None
                posting = self.outbox.posting(reply.chat_id, None)
                posting(session, [reply])
                postings.append(posting)
            session.commit()
        return postings

    async def tick(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """JobQueue callback: queue the nudges due now, then send them."""
        for posting in await asyncio.to_thread(self.queue):
            await self.outbox.flush(context.bot, posting)
