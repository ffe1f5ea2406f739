"""What "today" and a time of day are for a rep: days and clock times in the deployment's timezone."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTES_A_DAY = 24 * 60
_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:：.]([0-5]\d)$")
_WINDOW = re.compile(r"^(\S+)\s*[-–~～到至]\s*(\S+)$")


def local_day(now: datetime, zone: ZoneInfo) -> date:
    """The rep's date at `now`."""
    return now.astimezone(zone).date()


def day_ends(now: datetime, zone: ZoneInfo) -> datetime:
    """The end of the rep's day at `now` (their next midnight): what is due before it is today's review."""
    return datetime.combine(local_day(now, zone) + timedelta(days=1), time(), zone)


def week_starts(now: datetime, zone: ZoneInfo) -> datetime:
    """Monday 00:00 of the rep's week at `now`: the weekly leaderboards count from it."""
    today = local_day(now, zone)
    return datetime.combine(today - timedelta(days=today.weekday()), time(), zone)


def minute_of_day(now: datetime, zone: ZoneInfo) -> int:
    """Minutes since the rep's midnight at `now`."""
    local = now.astimezone(zone)
    return local.hour * 60 + local.minute


def in_quiet_hours(minute: int, quiet_from: int, quiet_to: int) -> bool:
    """True if `minute` falls in the quiet window, which may run past midnight (22:00-08:00);
    a window that starts where it ends is no window."""
    if quiet_from <= quiet_to:
        return quiet_from <= minute < quiet_to
    return minute >= quiet_from or minute < quiet_to


def clock(minute: int) -> str:
    """A minute of the day as the rep reads it: 09:05."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_clock(text: str) -> int | None:
    """The minute of the day a rep typed (9:00, 09:00, 21.30, 9：00), or None."""
    found = _CLOCK.match(text.strip())
    return int(found[1]) * 60 + int(found[2]) if found else None


def parse_window(text: str) -> tuple[int, int] | None:
    """The quiet window a rep typed (22:00-08:00, 22:00 到 7:30), or None."""
    found = _WINDOW.match(text.strip())
    if not found:
        return None
    start, end = parse_clock(found[1]), parse_clock(found[2])
    return (start, end) if start is not None and end is not None else None
