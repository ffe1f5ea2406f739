"""What a failed Bot API call means for the message: wait, give up, or try again.

Shared by the reply outbox and the push sender:
- 429 (RetryAfter): wait as long as Telegram says, for that chat only; not a try;
- 403, or 400 "chat not found" / "user is deactivated": the rep cannot be reached;
- any other 400 (and any other refusal): Telegram will not take this message;
- 5xx, or no connection made: nothing was delivered; try again, a bounded number of times;
- a timeout or a connection lost after the request went out: it may have been delivered,
  so it is sent at most once more.
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from enum import Enum

import httpx
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBDeprecationWarning

UNREACHABLE = ("chat not found", "user is deactivated")
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class Failure(Enum):
    WAIT = "wait"
    UNREACHABLE = "unreachable"
    REFUSED = "refused"
    RETRY = "retry"
    UNSURE = "unsure"


def classify(exc: TelegramError) -> Failure:
    """The kind of failure `exc` is (see the module's docstring)."""
    if isinstance(exc, RetryAfter):
        return Failure.WAIT
    if isinstance(exc, Forbidden):
        return Failure.UNREACHABLE
    if isinstance(exc, BadRequest):
        return Failure.UNREACHABLE if any(reason in exc.message.lower() for reason in UNREACHABLE) else Failure.REFUSED
    if isinstance(exc, NetworkError):
        cause = exc.__cause__
        if isinstance(cause, NOT_SENT):
            return Failure.RETRY
        if isinstance(exc, TimedOut) or isinstance(cause, httpx.HTTPError):
            return Failure.UNSURE
        return Failure.RETRY  # Telegram answered with a 5xx: nothing was delivered
    return Failure.REFUSED


def retry_after(exc: RetryAfter) -> timedelta:
    """How long Telegram asked us to wait (PTB is moving this attribute from int to timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        after = exc.retry_after
    return after if isinstance(after, timedelta) else timedelta(seconds=after)


def describe(exc: TelegramError) -> str:
    """The error as recorded: its kind and Telegram's message."""
    return f"{type(exc).__name__}: {exc.message}"
