"""A clock the test sets for the engine (`engine.clock`), and moments in December 2026, Shanghai
time (the default TIMEZONE)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    """The engine's clock, moved by the test."""

    def __init__(self, local: datetime) -> None:
        self.now = local.astimezone(UTC)

    def __call__(self) -> datetime:
        """The time it is for the engine."""
        return self.now

    def at(self, local: datetime) -> None:
        """Moves the clock to `local` (an aware time)."""
        self.now = local.astimezone(UTC)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in December 2026, Shanghai time."""
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)
