"""One send budget and one runner per periodic job for every bot process: each "process" here is
an engine of its own on one database, and the clock is given, so the figures are exact."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import Engine as DbEngine

from bot.budget import BULK_BURST, BURST, CHAT_BURST
from storage import claims, leases, pace
from storage.db import make_engine
from storage.pace import Rule

pytestmark = pytest.mark.both_databases

NOW = 1_800_000_000.0
OVERALL, CHAT = Rule(1 / 30, BURST), Rule(1.0, CHAT_BURST)
PUSH_OVERALL, PUSH_CHAT = Rule(1 / 30, BULK_BURST), Rule(1.0)


@pytest.fixture
def two_processes(db_url: str, db: DbEngine) -> tuple[DbEngine, DbEngine]:
    other = make_engine(db_url)
    yield db, other
    other.dispose()


def granted(engines: tuple[DbEngine, ...], chats: range, now: float, overall: Rule = OVERALL, chat: Rule = CHAT) -> list[int]:
    """The chats that got a message at `now`, the processes taking in turn."""
    return [c for c in chats if pace.take(engines[c % len(engines)], c, now, overall, chat).granted]


def test_two_processes_share_thirty_messages_a_second_after_the_burst(two_processes: tuple[DbEngine, DbEngine]) -> None:
    chats = iter(range(1, 10_000))
    sent: list[float] = []
    for step in range(300):  # three seconds, both processes taking all they can every 10 ms
        now = NOW + step / 100
        while pace.take(two_processes[step % 2], next(chats), now, OVERALL, CHAT).granted:
            sent.append(now)
    assert len([t for t in sent if t == NOW]) == BURST
    assert len([t for t in sent if NOW + 1 <= t < NOW + 3]) == 60


def test_processes_taking_at_the_same_moment_never_overspend(db_url: str, db: DbEngine) -> None:
    engines = [db, *(make_engine(db_url) for _ in range(3))]

    def takes(n: int) -> int:
        return len(granted((engines[n],), range(1000 * (n + 1), 1000 * (n + 1) + 40), NOW))

    with ThreadPoolExecutor(len(engines)) as pool:
        assert sum(pool.map(takes, range(len(engines)))) == BURST
    for engine in engines[1:]:
        engine.dispose()


def test_a_chat_gets_a_short_burst_of_replies_then_one_a_second(two_processes: tuple[DbEngine, DbEngine]) -> None:
    first, second = two_processes
    assert [pace.take(two_processes[n % 2], 7, NOW + n / 100, OVERALL, CHAT).granted for n in range(CHAT_BURST + 1)] == [True] * CHAT_BURST + [False]
    refused = pace.take(first, 7, NOW + 0.5, OVERALL, CHAT)
    assert refused.overall == 0 and refused.chat == pytest.approx(0.5)
    assert pace.take(second, 7, NOW + 1.0, OVERALL, CHAT).granted


def test_a_push_waits_a_second_after_any_message_to_its_chat(two_processes: tuple[DbEngine, DbEngine]) -> None:
    first, second = two_processes
    assert pace.take(first, 7, NOW, OVERALL, CHAT).granted
    assert pace.take(second, 7, NOW + 0.9, PUSH_OVERALL, PUSH_CHAT).chat == pytest.approx(0.1)
    assert pace.take(second, 7, NOW + 1.0, PUSH_OVERALL, PUSH_CHAT).granted


def test_pushes_leave_replies_room_in_the_overall_budget(db: DbEngine) -> None:
    assert len(granted((db,), range(1, 50), NOW, PUSH_OVERALL, PUSH_CHAT)) == BULK_BURST
    assert len(granted((db,), range(50, 100), NOW)) == BURST - BULK_BURST


def test_a_429_holds_its_chat_for_every_process_and_no_other_chat(two_processes: tuple[DbEngine, DbEngine]) -> None:
    first, second = two_processes
    pace.hold(first, 7, NOW + 5 + CHAT.slack)
    assert pace.take(second, 7, NOW + 4.9, OVERALL, CHAT).chat == pytest.approx(0.1)
    assert pace.take(second, 8, NOW + 4.9, OVERALL, CHAT).granted
    assert pace.take(second, 7, NOW + 5, OVERALL, CHAT).granted


def test_chats_whose_time_has_passed_are_forgotten(db: DbEngine) -> None:
    granted((db,), range(1, 4), NOW)
    assert pace.prune(db, NOW + 2) == 4  # the three chats and the whole bot's row
    assert len(granted((db,), range(1, 100), NOW + 2)) == BURST


def test_a_periodic_job_runs_in_one_process_until_its_lease_expires(two_processes: tuple[DbEngine, DbEngine]) -> None:
    first, second = two_processes
    assert leases.hold(first, "push-queue", "a", NOW, 5)
    assert not leases.hold(second, "push-queue", "b", NOW + 1, 5)
    assert leases.hold(first, "push-queue", "a", NOW + 4, 5), "the holder renews it"
    assert not leases.hold(second, "push-queue", "b", NOW + 8.9, 5)
    assert leases.hold(second, "push-queue", "b", NOW + 9.1, 5), "a holder that stopped renewing (killed) loses it"
    assert not leases.hold(first, "push-queue", "a", NOW + 9.2, 5)
    assert leases.hold(first, "reminders", "a", NOW + 9.2, 5), "each job has its own lease"


def test_a_process_that_stops_gives_its_lease_up_at_once(two_processes: tuple[DbEngine, DbEngine]) -> None:
    first, second = two_processes
    assert leases.hold(first, "prune", "a", NOW, 5)
    leases.let_go(first, "prune", "a")
    assert leases.hold(second, "prune", "b", NOW + 0.1, 5)


def test_a_process_started_after_one_died_takes_its_jobs_over_at_once(db: DbEngine) -> None:
    assert leases.hold(db, "push-queue", "host:1:dead", NOW, 5)
    assert claims.release(db, ["host:1:dead"]) == 1
    assert leases.hold(db, "push-queue", "host:2:alive", NOW + 0.1, 5)
