"""What every subcommand shares: reading the settings and starting the engine over valid content."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from bot.settings import Settings
from dialogs.engine import Engine
from knowledge.loader import ContentError
from knowledge.validate import load_knowledge
from storage.db import make_engine

EXIT_USAGE = 2


def load_settings() -> Settings:
    """The settings from the environment; a bad one stops the command with its name and the problem."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        sys.stderr.write(f"salescoach: bad setting {'.'.join(map(str, first['loc'])).upper()}: {first['msg']}\n")
        sys.exit(EXIT_USAGE)


def start_engine(settings: Settings) -> Engine:
    """The engine over the configured database; refuses to start on invalid content."""
    try:
        knowledge = load_knowledge(settings.knowledge_dirs)
    except ContentError as exc:
        sys.stderr.write("salescoach: the content has problems; fix them and start again:\n")
        for problem in exc.problems:
            sys.stderr.write(f"  {problem}\n")
        sys.exit(1)
    return Engine(make_engine(settings.database_url), knowledge, settings.engine_settings())
