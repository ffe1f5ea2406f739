"""What every subcommand shares: the one error path, reading the settings, starting the engine
over valid content and opening the file a command writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from pydantic import ValidationError
from sqlalchemy.engine import Engine as Database, make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import SECRET_SETTINGS, Settings
from dialogs.engine import Engine
from knowledge.cli import line
from knowledge.loader import ContentError
from knowledge.validate import load_knowledge
from storage.db import open_engine
from storage.schema import SchemaError, upgrade

EXIT_RUNTIME = 1
EXIT_USAGE = 2


class CliError(Exception):
    """An expected failure: `salescoach` prints the message as one line on stderr (what went
    wrong; what to do) and exits with `code` (1 at run time, 2 for a usage or setting problem)."""

    def __init__(self, message: str, code: int = EXIT_RUNTIME) -> None:
        super().__init__(message)
        self.code = code


def load_settings() -> Settings:
    """The settings from the environment; any bad one stops the command (exit 2) with its name,
    the problem and where to fix it."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(map(str, error["loc"]))
            shown = "" if name in SECRET_SETTINGS else f"={error['input']!r}"
            problems.append(f"{name.upper()}{shown}: {error['msg'].removeprefix('Value error, ')}")
        raise CliError(line("bad_setting", problems="; ".join(problems)), EXIT_USAGE) from exc


def start_engine(settings: Settings) -> Engine:
    """The engine over the configured database; refuses to start on invalid content or a
    database it cannot open, saying which and what to check."""
    try:
        knowledge = load_knowledge(settings.knowledge_dirs)
    except ContentError as exc:
        listed = "".join(f"\n  {problem}" for problem in exc.problems)
        raise CliError(line("content_problems") + listed) from exc
    return Engine(open_database(settings.database_url), knowledge, settings.engine_settings())


def open_database(url: str) -> Database:
    """The database engine for DATABASE_URL (checked when the settings were read), its schema
    brought to the newest revision first (under a lock, so processes started together migrate
    once); a CliError if either cannot be done."""
    with database_errors(url):
        engine = open_engine(url)
        upgrade(engine)
    return engine


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Database failures inside as CliErrors: one naming the database (password hidden) and why it
    could not be opened, or the schema's own message (a failed or impossible upgrade)."""
    try:
        yield
    except SchemaError as exc:
        raise CliError(str(exc)) from exc
    except SQLAlchemyError as exc:
        shown = make_url(url).render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise CliError(line("database_sqlite" if url.startswith("sqlite") else "database_server", database=shown, reason=reason)) from exc


def output_path(path: str) -> Path:
    """The file a command is to write, once its folder is known to exist (else a CliError saying what to do)."""
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise CliError(line("no_folder", folder=folder), EXIT_USAGE)
    return Path(path)


def open_output(path: str) -> BinaryIO:
    """The file a command writes, opened for writing; a missing folder or a file that cannot be
    written is a CliError saying which and what to do."""
    try:
        return open(output_path(path), "wb")
    except OSError as exc:
        raise CliError(line("cannot_write", path=path, reason=exc.strerror)) from exc
