"""Benchmark for what trainers and managers open: `/results SCENARIO` and the needs board.

Run ``python bench/reports_bench.py [--roleplays N] [--needs N] [--repeat N]``. It fills a
SQLite file with N finished role-plays of 500 reps (three quarters of them the plum case, six
turns each, one in six not understood by the customer, half of those a line no one else said)
and N needs (as bench/needs_export_bench.py makes them), then times, through the engine as an
admin sees them:

- `/results plum`: the whole command as the engine handles it (its transaction: the aggregates,
  the lines the customer did not understand, the text), which is when the results text is sent;
- its chart, drawn as the bot's sender draws it once that text is on its way (after a first,
  untimed drawing has loaded matplotlib);
- its two storage reads alone (`roleplay_results`, `unmatched_lines`);
- `/needs`: the first page of the needs board with its count.

The anchor, timed in the same run, is the cheapest honest read of the same rows: a count of the
scenario's role-plays straight from `sqlite3`. Each figure is the median of `--repeat` runs.
Issue #17's goals: `/results SCENARIO` ≤ 100 ms and a needs board page ≤ 5 ms at 100,000.
Ends with one line ``results_ms=… chart_ms=… results_reads_ms=… unmatched_ms=… needs_page_ms=… anchor_ms=…``.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from needs_export_bench import fill as fill_needs  # noqa: E402  (this folder is on sys.path as the script's own)
from sqlalchemy import insert  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bot.settings import Settings  # noqa: E402
from dialogs.core.events import Event  # noqa: E402
from dialogs.engine import Engine  # noqa: E402
from dialogs.pictures.drawings import draw  # noqa: E402
from knowledge.validate import cached_knowledge  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.models import RolePlay, RolePlayTurn, utcnow  # noqa: E402
from storage.roleplay_tallies import recount, roleplay_results, unmatched_lines  # noqa: E402
from storage.users import preset_language  # noqa: E402
from tests.telegram_fake import TOKEN  # noqa: E402

ADMIN = 42
REPS = 500
CHUNK = 5_000
FACTS = ("pregnant", "sour", "kiwi", "daughter_in_law", "vitamins")
STATES = ("opening", "discovery", "bargaining")
LINES = ("How much?", "Anything else?", "这个怎么卖", "Lovely weather", "Want some?", "Who are they for?")


def fill_roleplays(url: str, count: int) -> None:
    """`count` finished role-plays over the last year (plum three times in four), six turns each."""
    db = make_engine(url)
    rng = random.Random(11)
    now = utcnow()
    with Session(db) as session:
        for start in range(0, count, CHUNK):
            plays, turns = [], []
            for i in range(start, min(start + CHUNK, count)):
                plays.append(
                    {
                        "id": i + 1,
                        "user_id": 1000 + i % REPS,
                        "scenario_id": "plum" if i % 4 else "hotel",
                        "lang": "zh",
                        "state": "done",
                        "turns": 6,
                        "marks": {},
                        "started_at": now - timedelta(minutes=i),
                        "finished_at": now - timedelta(minutes=i - 5),
                        "outcome": rng.choice(("bought", "left", None)),
                        "score": rng.randrange(0, 101),
                        "facts_uncovered": rng.sample(FACTS, rng.randrange(0, 4)),
                        "question_counts": {},
                    }
                )
                for n in range(1, 7):
                    understood = rng.randrange(6) > 0
                    said = rng.choice(LINES)
                    if not understood and rng.randrange(2):
                        said = f"{said} {rng.randrange(10**6)}"  # half the lines not understood are the rep's own
                    turns.append(
                        {
                            "roleplay_id": i + 1,
                            "number": n,
                            "rep_text": said,
                            "suggested": False,
                            "verdict": {"state": rng.choice(STATES)},
                            "move": "answer" if understood else None,
                            "customer_text": "…",
                            "at": now,
                        }
                    )
            session.execute(insert(RolePlay), plays)
            session.execute(insert(RolePlayTurn), turns)
        recount(session)  # /results's tallies, as finishing each role-play would have kept them
        session.commit()
    db.dispose()


def median_ms(run: Callable[[], Any], repeat: int) -> float:
    """The median of `repeat` timed runs, in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    """Fill a database, then time each read as an admin sees it, and the anchor."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--roleplays", type=int, default=100_000)
    parser.add_argument("--needs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/bench.db"
        url = f"sqlite:///{path}"
        started = time.perf_counter()
        fill_needs(url, args.needs, reps=REPS)  # also makes the reps
        fill_roleplays(url, args.roleplays)
        print(f"generated {args.roleplays:,} role-plays and {args.needs:,} needs in {time.perf_counter() - started:.1f} s")
        settings = Settings(_env_file=None, telegram_bot_token=TOKEN, database_url=url, admin_ids=frozenset({ADMIN}))
        engine = Engine(make_engine(url), cached_knowledge(), settings.engine_settings())
        engine.warm()
        with Session(engine.db) as session:
            preset_language(session, ADMIN, "Admin", "en")

        def command(name: str, text: str = "") -> Callable[[], Any]:
            return lambda: engine.handle(Event(ADMIN, ADMIN, "Admin", "en", command=name, args=text))

        [chart] = [reply.picture for reply in command("results", "plum")() if reply.picture]  # the results come with their chart
        draw(chart)  # loads matplotlib and the fonts, as the bot's first chart does

        def reads() -> None:
            with Session(engine.db) as session:
                roleplay_results(session, "plum", None)

        def unmatched() -> None:
            with Session(engine.db) as session:
                unmatched_lines(session, "plum", None)

        def anchor() -> None:
            with sqlite3.connect(path) as connection:
                connection.execute("SELECT count(*) FROM roleplay WHERE scenario_id = 'plum'").fetchall()

        command("needs")()
        figures = {
            "results_ms": median_ms(command("results", "plum"), args.repeat),
            "chart_ms": median_ms(lambda: draw(chart), args.repeat),
            "results_reads_ms": median_ms(reads, args.repeat),
            "unmatched_ms": median_ms(unmatched, args.repeat),
            "needs_page_ms": median_ms(command("needs"), args.repeat),
            "anchor_ms": median_ms(anchor, args.repeat),
        }
        engine.db.dispose()
        print(" ".join(f"{name}={value:.1f}" for name, value in figures.items()))


if __name__ == "__main__":
    main()
