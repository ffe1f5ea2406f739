"""The fault-injection run of tests/e2e/test_chaos.py, larger: the bot killed (kill -9) `--kills`
times while people play role-plays, take quizzes, log needs and receive pushes.

Run ``python bench/chaos.py [--kills 200] [--seed N] [--mode polling|webhook|both]``. With
both modes (the default) half the kills fall in each. Prints one line per mode and, last,
the totals as key=value pairs: kills by kind, updates never handled (inputs_lost), records
stored twice, answers that never arrived, and messages shown twice (replies_twice: answers
Telegram had accepted when the bot died; push_twice: invitations likewise).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.bot_process import MODES, TOKEN, BotProcess  # noqa: E402  (needs the repository root on sys.path)
from tests.e2e.chaos import LIMITS, Chaos, Counts  # noqa: E402
from tests.e2e.emulator import Emulator  # noqa: E402

ADMINS = tuple(range(920_001, 921_001))


def run(mode: str, kills: int, seed: int) -> Counts:
    """One bot process (restarted after each kill) against its own emulator and database."""
    emulator = Emulator(TOKEN, limits=LIMITS).start()
    with tempfile.TemporaryDirectory() as workdir:
        bot = BotProcess(mode, emulator, Path(workdir), admins=ADMINS)
        try:
            bot.start()
            return Chaos(emulator, bot, seed, ADMINS).run(kills)
        finally:
            bot.stop()
            emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--mode", choices=(*MODES, "both"), default="both")
    args = parser.parse_args()
    modes = list(MODES) if args.mode == "both" else [args.mode]
    total = Counts()
    started = time.monotonic()
    for number, mode in enumerate(modes):
        counts = run(mode, args.kills // len(modes) + (1 if number < args.kills % len(modes) else 0), args.seed + number)
        print(f"{mode}: {counts.line()}")
        for problem in counts.problems:
            print(f"  {problem[:300]}")
        total.kills.update(counts.kills)
        for name in ("journeys", "steps", "inputs_lost", "stored_twice", "replies_missing", "replies_twice", "push_twice"):
            setattr(total, name, getattr(total, name) + getattr(counts, name))
    print(f"{total.line()} seconds={time.monotonic() - started:.0f}")


if __name__ == "__main__":
    main()
