"""Shared fixtures: a fresh database per test, the engine, the console and offline Telegram."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
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
from tests.telegram_fake import TOKEN, FakeTelegram, RecordingRequest


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A SQLite file of its own for each test (a file, so restarts can reopen it)."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def db(db_url: str) -> DbEngine:
    return make_engine(db_url)


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
