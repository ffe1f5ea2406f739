"""Shared fixtures: a fresh database per test, the engine, the console and offline Telegram.

Test modules marked `pytest.mark.both_databases` run every test on SQLite and on a real
PostgreSQL server (see tests/postgres.py). SALESCOACH_TEST_DATABASES=postgres (or
"sqlite,postgres") runs every test that uses a database on the databases listed.
"""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine as DbEngine

from bot.console import Console
from bot.settings import Settings
from bot.telegram_app import build_application
from dialogs.engine import Engine
from knowledge.loader import Knowledge
from knowledge.validate import cached_knowledge
from storage.db import make_engine
from tests.postgres import PostgresServer, ServerMissing, postgres_server
from tests.telegram_fake import TOKEN, FakeTelegram, RecordingRequest

DATABASES = ("sqlite", "postgres")


def databases_for(metafunc: pytest.Metafunc) -> list[str]:
    """The databases a test runs on: the env var's list, else both for marked modules, else SQLite."""
    chosen = os.environ.get("SALESCOACH_TEST_DATABASES", "")
    if chosen:
        kinds = [k.strip() for k in chosen.split(",") if k.strip()]
        unknown = set(kinds) - set(DATABASES)
        if unknown:
            raise pytest.UsageError(f"SALESCOACH_TEST_DATABASES: unknown {sorted(unknown)}; use {', '.join(DATABASES)}")
        return kinds
    if metafunc.definition.get_closest_marker("both_databases"):
        return list(DATABASES)
    return ["sqlite"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    chosen = any("db_url" in str(marker.args[0]) for marker in metafunc.definition.iter_markers("parametrize"))  # a test about one database
    if "db_url" in metafunc.fixturenames and not chosen:
        kinds = databases_for(metafunc)
        if kinds != ["sqlite"]:
            metafunc.parametrize("db_url", kinds, indirect=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the whole run; missing binaries fail the tests that need it."""
    try:
        with postgres_server() as server:
            yield server
    except ServerMissing as exc:
        pytest.fail(str(exc))


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own for each test: a SQLite file (so restarts can reopen it) or a fresh PostgreSQL database."""
    if getattr(request, "param", "sqlite") == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres")
        with server.fresh_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def pg_url(postgres: PostgresServer) -> Iterator[str]:
    """A fresh PostgreSQL database, for tests about several bot processes sharing one."""
    with postgres.fresh_database() as url:
        yield url


@pytest.fixture
def db(db_url: str) -> Iterator[DbEngine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return cached_knowledge()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(_env_file=None, telegram_bot_token=TOKEN, database_url=db_url, admin_ids=frozenset({42}))


@pytest.fixture
def engine(db: DbEngine, knowledge: Knowledge, settings: Settings) -> Engine:
    return Engine(db, knowledge, settings.engine_settings())


@pytest.fixture
def console(engine: Engine) -> Console:
    """A console user (id 1) whose output is captured."""
    return Console(engine, user_id=1, name="Ann", lang="zh", jsonl=True, out=io.StringIO())


async def make_telegram(settings: Settings, engine: Engine) -> FakeTelegram:
    """A real Application around the recording request, initialised."""
    request = RecordingRequest()
    app = build_application(settings, engine, request=request)
    await app.initialize()
    return FakeTelegram(app, request, seen=len(request.calls))


@pytest.fixture
async def telegram(settings: Settings, engine: Engine) -> AsyncIterator[FakeTelegram]:
    fake = await make_telegram(settings, engine)
    yield fake
    await fake.app.shutdown()
