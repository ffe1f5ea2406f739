"""Fixtures for end-to-end scenarios: the Bot API emulator and the real bot, in both modes.

One bot process per mode serves every scenario (starting one takes seconds); each scenario
gets a `Scene` whose people are new to the bot, so scenarios cannot see each other's state.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.e2e.bot_process import ADMINS, MODES, TOKEN, BotProcess
from tests.e2e.emulator import Emulator, Limits
from tests.e2e.scene import Scene

# People here act at machine speed (no one presses ten buttons a second), so a chat may take
# bursts of 20 messages; Telegram's own limits are tested in test_emulator.py, and a scene
# can restore them with `telegram.limits(...)`.
MACHINE_SPEED = Limits(per_chat_burst=20)


@pytest.fixture(scope="session", params=MODES)
def bot(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """The bot by long polling, then behind a webhook, each with an emulator and a database
    of its own; at the end it must shut down cleanly."""
    emulator = Emulator(TOKEN, limits=MACHINE_SPEED).start()
    process = BotProcess(request.param, emulator, tmp_path_factory.mktemp(request.param))
    try:
        process.start()
        yield process
    finally:
        code = process.stop()
        emulator.stop()
    assert code == 0, f"the bot did not shut down cleanly (exit {code}):\n{process.log()[-3000:]}"


@pytest.fixture(scope="session")
def scene_numbers() -> dict[str, itertools.count[int]]:
    return {mode: itertools.count() for mode in MODES}


@pytest.fixture
def telegram(bot: BotProcess, scene_numbers: dict[str, itertools.count[int]]) -> Iterator[Scene]:
    """Telegram with the bot running: `rep = telegram.user("Li Lei", "zh")`. Afterwards Telegram
    must have refused nothing the bot sent (a refusal means a user saw nothing)."""
    number = next(scene_numbers[bot.mode])
    assert number < len(ADMINS), "more scenarios than admin ids: add some to ADMINS"
    scene = Scene(bot.emulator, bot, number, ADMINS[number])
    yield scene
    bot.emulator.limits = MACHINE_SPEED
    assert not bot.emulator.crashes, f"the emulator failed: {bot.emulator.crashes}"
    assert not scene.refusals(), f"Telegram refused the bot's calls: {scene.refusals()}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed scenario's report shows what the bot logged meanwhile."""
    report = yield
    scene = getattr(item, "funcargs", {}).get("telegram")
    if report.failed and isinstance(scene, Scene):
        report.sections.append(("bot log", scene.log() or "(nothing)"))
    return report
