"""Tables. Small typed models, one per thing the bot remembers."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, BigInteger, Column
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Timestamps are stored in UTC."""
    return datetime.now(timezone.utc)


class User(SQLModel, table=True):
    """Anyone who has talked to the bot; the id is their Telegram user id."""

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    name: str = Field(default="", max_length=200)
    lang: str = Field(default="", max_length=8)
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)


class DialogState(SQLModel, table=True):
    """Where a user is in a dialog. `version` guards against two processes racing."""

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    dialog: str = Field(default="", max_length=40)
    state: str = Field(default="", max_length=60)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class ProcessedUpdate(SQLModel, table=True):
    """Telegram update ids already handled, so a redelivered update is not handled twice."""

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    created_at: datetime = Field(default_factory=utcnow)
