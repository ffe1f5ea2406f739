"""Quiz polls: which rep, quiz attempt and question each native poll the bot sent asks, so that a
vote (which names only the poll) can be recorded as that rep's answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, insert
from sqlmodel import Session

from storage.models import QuizPoll, utcnow


@dataclass(frozen=True)
class PollTarget:
    """What a vote in a poll answers: the rep's attempt at a quiz, one question, and the option
    ids in the order the poll lists them."""

    user_id: int
    attempt_id: int
    quiz_id: str
    question_id: str
    option_ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """As it is kept in the outbox until Telegram has the poll and gives its id."""
        return {**asdict(self), "option_ids": list(self.option_ids)}


def record_poll(connection: Connection, poll_id: str, message_id: int | None, target: dict[str, Any]) -> None:
    """Telegram sent the poll `poll_id` (in message `message_id`) asking `target` (PollTarget.to_json)."""
    connection.execute(insert(QuizPoll.__table__).values(poll_id=poll_id, message_id=message_id, sent_at=utcnow(), **target))  # type: ignore[attr-defined]


def poll_of(session: Session, poll_id: str) -> QuizPoll | None:
    """The poll with Telegram's id `poll_id`, if the bot sent it."""
    return session.get(QuizPoll, poll_id)
