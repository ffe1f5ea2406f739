"""A quiz pushed to many reps through the real bot process, and what the emulator's record says
of it: shared by tests/test_scale_out.py, tests/e2e/test_push_kill.py and bench/push_bench.py.

The team is written straight into the database (hundreds of reps joining by invitation would
take minutes of Telegram's limits before the push began); the trainer then pushes with /push
through Telegram, as a trainer does.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session

from storage.access import add_member, create_team, grant_role
from storage.db import make_engine
from storage.models import User
from tests.e2e.emulator import Emulator
from tests.e2e.people import TelegramUser

TRAINER = 700_001
FIRST_REP = 710_000
INVITE = "sent you a quiz"
REMINDER = "Reminder:"


@dataclass
class Team:
    """The trainer and the reps of team `name`, as Telegram users."""

    name: str
    trainer: TelegramUser
    reps: list[TelegramUser]

    def push(self, quiz: str = "plum_case", deadline: str = "") -> None:
        """The trainer pushes `quiz` to the team and waits for the progress message."""
        self.trainer.send(f"/push {quiz} {self.name} {deadline}".strip())
        self.trainer.wait_for("sent 0 /", timeout=30)


def team_of(emulator: Emulator, database: str, reps: int, name: str = "east") -> Team:
    """A trainer and `reps` reps in team `name`, known to the bot (English) and to Telegram."""
    engine = make_engine(database)
    ids = list(range(FIRST_REP, FIRST_REP + reps))
    with Session(engine) as session:
        team = create_team(session, name)
        assert team is not None, f"team {name} exists already"
        session.add(User(id=TRAINER, name="Tina", lang="en", chat_id=TRAINER))
        for uid in ids:
            session.add(User(id=uid, name=f"Rep{uid}", lang="en", chat_id=uid))
        session.flush()
        grant_role(session, TRAINER, "trainer", TRAINER)
        for uid in (TRAINER, *ids):
            add_member(session, uid, team.id or 0)
        session.commit()
    engine.dispose()
    return Team(name, emulator.user(TRAINER, "Tina", "en"), [emulator.user(uid, f"Rep{uid}", "en") for uid in ids])


def received(emulator: Emulator, reps: list[TelegramUser], what: str) -> Counter[int]:
    """How many messages containing `what` each rep was shown (reps shown none are absent); read
    on the emulator's loop (`emulator.on_loop(received, …)`, or inside a `wait_until` check)."""
    return Counter(rep.id for rep in reps for seen in emulator.seen(rep.id) if what in seen.text)


def longest_gap(times: list[float]) -> float:
    """The longest time between two messages Telegram accepted one after the other."""
    return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


def max_in_any_second(times: list[float], seconds: float = 1.0) -> int:
    """The most messages Telegram accepted within one second (or within `seconds`)."""
    times, best, start = sorted(times), 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best
