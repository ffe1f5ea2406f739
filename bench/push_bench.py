"""Benchmark for the push queue: a quiz pushed to `--reps` reps by the real bot process against
the Bot API emulator, which enforces Telegram's limits (30 messages a second, about one a second
per chat, 429 beyond them).

Run ``python bench/push_bench.py [--reps N] [--kill-after N] [--db sqlite|postgresql] [--at-start]``.
The anchor is Telegram's own limit, 30 messages a second: `share` is the rate the bot reached
over the push (first message to last, as the emulator accepted them) divided by it. The trainer
pushes once the bot has finished starting, as a trainer finds a running bot: it polls before its
background warm-up (loading the language models, about two seconds of CPU) is done, and a push
sent meanwhile shares the process with it. ``--at-start`` pushes as soon as the bot polls, as
this benchmark did before (2026-11-30). With ``--kill-after N`` the bot is killed with kill -9
once Telegram has accepted N messages and started again at once, as a service manager would; the
restart's warm-up is part of the run. The last line is
``msg_per_s=… share=… duplicates=… lost=… stall_s=…``: invitations shown twice, reps who got
none, and the longest time between two accepted messages (the kill and restart, if any).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.bot_process import TOKEN, BotProcess  # noqa: E402  (needs the repository root on sys.path)
from tests.e2e.emulator import Emulator  # noqa: E402
from tests.e2e.push_run import INVITE, longest_gap, max_in_any_second, received, team_of  # noqa: E402
from tests.postgres import postgres_server  # noqa: E402

TELEGRAM_LIMIT = 30.0


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """A SQLite file in `workdir`, or a database on a throwaway PostgreSQL server (fsync on)."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bot.db'}"
        return
    with postgres_server(durable=True) as server, server.fresh_database() as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--kill-after", type=int, default=0, help="kill -9 the bot once Telegram accepted this many messages (0: never)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--at-start", action="store_true", help="push as soon as the bot polls, while it is still warming up")
    args = parser.parse_args()

    emulator = Emulator(TOKEN).start()
    with tempfile.TemporaryDirectory() as workdir, database(args.db, Path(workdir)) as url:
        bot = BotProcess("polling", emulator, Path(workdir), database=url)
        try:
            team = team_of(emulator, url, args.reps)
            bot.start()
            if not args.at_start:
                print(f"the bot settled {bot.settled():.1f} s after it began polling")
            team.push()
            if args.kill_after:
                emulator.wait_until(lambda: len(emulator.accepted) >= args.kill_after, timeout=600)
                bot.kill()
                print(f"killed with kill -9 after {len(emulator.accepted)} messages; starting again")
                bot.start()
            emulator.wait_until(lambda: len(received(emulator, team.reps, INVITE)) == args.reps, timeout=args.reps / 10 + 60)
            bot.stop()
            invitations = emulator.on_loop(received, emulator, team.reps, INVITE)
            accepted = list(emulator.accepted)
            refused = [e for e in emulator.errors if e[1] == 429]
        finally:
            bot.stop()
            emulator.stop()

    times = [t for t, _ in accepted]
    push = [t for t, chat in accepted if chat != team.trainer.id]
    rate = (len(push) - 1) / (push[-1] - push[0]) if len(push) > 1 else 0.0
    duplicates = sum(count - 1 for count in invitations.values())
    lost = args.reps - len(invitations)
    print(f"reps: {args.reps} on {args.db}; invitations accepted by Telegram: {len(push)} in {push[-1] - push[0]:.1f} s")
    print(f"rate: {rate:.2f} msg/s against Telegram's limit of {TELEGRAM_LIMIT:.0f} msg/s (the anchor): share {rate / TELEGRAM_LIMIT:.3f}")
    print(f"most in any second: {max_in_any_second(times)}; 429 answers: {len(refused)}")
    print(f"msg_per_s={rate:.2f} share={rate / TELEGRAM_LIMIT:.3f} duplicates={duplicates} lost={lost} stall_s={longest_gap(push):.2f}")


if __name__ == "__main__":
    main()
