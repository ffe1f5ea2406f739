"""Where the log goes and how it looks: one handler on the root logger, so every logger (ours,
python-telegram-bot's, tornado's, SQLAlchemy's) writes the same way to stderr.

LOG_FORMAT=text is a line per record for people reading the terminal; LOG_FORMAT=json is one
JSON object per line (time, level, logger, message and, when there is one, the exception
with its traceback) for a log collector.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET_UNLESS_DEBUGGING = ("httpx", "transitions", "apscheduler", "alembic")


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON; a multi-line message or traceback stays inside its string."""

    def format(self, record: logging.LogRecord) -> str:
        """`{"time": …, "level": …, "logger": …, "message": …}`, plus `exception` when the record has one."""
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str, form: str, *, debug: bool = False) -> None:
    """Log records at `level` and above in `form` (text or json) on stderr; chatty libraries
    only say warnings unless `debug`."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if form == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level="DEBUG" if debug else level, handlers=[handler])
    if not debug:
        for noisy in QUIET_UNLESS_DEBUGGING:
            logging.getLogger(noisy).setLevel(logging.WARNING)
