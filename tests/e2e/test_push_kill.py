"""The push sender killed with kill -9 in the middle of a push: started again, it goes on where
the queue stood. Only the invitation in flight at the kill may reach its rep twice; none is lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.bot_process import TOKEN, BotProcess
from tests.e2e.emulator import Emulator
from tests.e2e.push_run import INVITE, received, team_of

REPS = 120
KILL_AFTER = 40


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """Telegram with its own limits: 30 messages a second, about one a second per chat."""
    emulator = Emulator(TOKEN).start()
    yield emulator
    emulator.stop()


def test_a_push_sender_killed_mid_push_sends_at_most_one_invitation_twice_and_loses_none(emulator: Emulator, tmp_path: Path) -> None:
    bot = BotProcess("polling", emulator, tmp_path)
    team = team_of(emulator, bot.database, REPS)
    bot.start()
    team.push()
    emulator.wait_until(lambda: len(emulator.accepted) > KILL_AFTER, timeout=30)
    bot.kill()
    before = sum(emulator.on_loop(received, emulator, team.reps, INVITE).values())
    assert before < REPS, "the push was over before the kill"
    bot.start()
    emulator.wait_until(lambda: len(received(emulator, team.reps, INVITE)) == REPS, timeout=60)
    assert bot.stop() == 0
    invitations = emulator.on_loop(received, emulator, team.reps, INVITE)
    assert sorted(invitations) == [rep.id for rep in team.reps], "an invitation was lost"
    assert sum(invitations.values()) - REPS <= 1, f"more than the one in flight was sent twice: {[r for r, n in invitations.items() if n > 1]}"
    assert not [e for e in emulator.errors if e[1] == 429], "the bot went over Telegram's limits"
