"""The daily review nudge: at the time a rep picked, if something is due that day, never in their
quiet hours, at most once a (local) day. The Telegram side sends what this returns through the
outbox (bot/review_nudges.py)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from dialogs.core.callback import encode
from dialogs.core.context import Settings
from dialogs.core.events import Button, Reply
from dialogs.review.days import day_ends, in_quiet_hours, local_day, minute_of_day
from dialogs.review.items import due_today
from knowledge.copy import copy_text
from knowledge.loader import Knowledge
from storage.reviews import claim_nudge, reps_to_nudge
from storage.users import language_of

START = "go:review"


def nudges(session: Session, knowledge: Knowledge, settings: Settings, now: datetime) -> list[Reply]:
    """The nudges due at `now`, each addressed to its rep's chat and counting what /review will
    ask them (items whose content is gone left out); every rep nudged is marked so in
    `session`'s transaction, so a nudge is owed exactly when it is queued."""
    zone = settings.zone
    minute, today, until = minute_of_day(now, zone), local_day(now, zone), day_ends(now, zone)
    replies = []
    for reminder, user in reps_to_nudge(session, minute, today):
        if in_quiet_hours(minute, reminder.quiet_from, reminder.quiet_to):
            continue
        count = len(due_today(session, knowledge, user.id, until))
        if count and claim_nudge(session, user.id, today):
            lang = language_of(user)
            button = Button(copy_text().label("review_start", lang), START, is_global=True, data=encode(START, None))
            replies.append(Reply("review_nudge", lang, {"count": count}, [[button]], chat_id=user.chat_id or user.id))
    return replies
