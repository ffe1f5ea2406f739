"""kill -9 at random points of a role-play, a quiz, a need form and a push, polling and behind a
webhook (tests/e2e/chaos.py): nothing the rep sent is lost, nothing is stored twice, every
answer arrives; the only messages shown twice are the ones Telegram had accepted when the bot
died, at most one per kill. `bench/chaos.py --kills 200` is the larger run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.bot_process import MODES, TOKEN, BotProcess
from tests.e2e.chaos import KINDS, LIMITS, Chaos
from tests.e2e.emulator import Emulator

KILLS = 25  # per mode: 50 in all
SEEDS = {"polling": 16, "webhook": 61}
ADMINS = tuple(range(910_001, 910_101))


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("mode", MODES)
def test_kill_9_at_random_points_loses_nothing_and_every_answer_arrives(mode: str, tmp_path: Path) -> None:
    emulator = Emulator(TOKEN, limits=LIMITS).start()
    bot = BotProcess(mode, emulator, tmp_path, admins=ADMINS)
    try:
        bot.start()
        counts = Chaos(emulator, bot, SEEDS[mode], ADMINS).run(KILLS)
    finally:
        bot.stop()
        emulator.stop()
    print(counts.line())
    assert counts.killed >= KILLS and all(counts.kills[kind] for kind in KINDS), counts.line()
    assert counts.kills["push_before_send"] and counts.kills["push_after_accept"], counts.line()
    assert (counts.inputs_lost, counts.stored_twice, counts.replies_missing) == (0, 0, 0), counts.problems
    assert counts.replies_twice <= counts.kills["after_accept"] + counts.kills["random"], counts.problems
    assert counts.push_twice <= counts.kills["push_after_accept"], counts.problems
