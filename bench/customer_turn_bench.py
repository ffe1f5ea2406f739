"""Benchmark for one role-play turn in-process: the classifier and the customer, no database.

Run ``python bench/customer_turn_bench.py [--rounds N]``. It replays the paraphrased
role-play scripts (tests/golden/roleplay_paraphrased/ and tests/data/dev/roleplay/) line
by line: each turn is ``classify`` + ``respond`` (every sentence's move, example look-ups,
conduct, asked-again). The anchor is ``normalise`` of the same lines in the same rounds, so a
busy machine slows both alike. Issue #14's goal: p99 under 5 ms.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dialogs.roleplay.customer import Progress, respond  # noqa: E402
from dialogs.roleplay.replay import Script, load_scripts  # noqa: E402
from dialogs.understanding.classifier import classify, normalise  # noqa: E402
from knowledge.validate import cached_knowledge  # noqa: E402

SCRIPTS = (ROOT / "tests" / "golden" / "roleplay_paraphrased", ROOT / "tests" / "data" / "dev" / "roleplay")


def turn_times(scripts: Sequence[Script]) -> list[float]:
    """Seconds per turn (classify + respond) over every script, each played until it ends."""
    scenarios = cached_knowledge().scenarios
    times = []
    for script in scripts:
        scenario = scenarios[script.scenario]
        progress = Progress(state=scenario.initial)
        for line in script.rep:
            started = time.perf_counter()
            answer = respond(scenario, progress, line, classify(line), script.lang)
            times.append(time.perf_counter() - started)
            if answer.outcome:
                break
    return times


def anchor_times(scripts: Sequence[Script]) -> list[float]:
    """Seconds per line to normalise the same lines: the anchor."""
    times = []
    for script in scripts:
        for line in script.rep:
            started = time.perf_counter()
            normalise(line)
            times.append(time.perf_counter() - started)
    return times


def main(argv: Sequence[str] | None = None) -> int:
    """Print per-turn p50/p99 and the anchor; the last line is key=value."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="times the scripts are replayed (the first warms the caches up and is not counted)")
    args = parser.parse_args(argv)
    scripts = [script for folder in SCRIPTS for script in load_scripts(folder)]
    turn_times(scripts)
    turns: list[float] = []
    anchor: list[float] = []
    for _ in range(args.rounds):
        turns += turn_times(scripts)
        anchor += anchor_times(scripts)
    turns.sort()
    p50, p99 = turns[len(turns) // 2], turns[int(len(turns) * 0.99)]
    mean_turn, mean_anchor = sum(turns) / len(turns), sum(anchor) / len(anchor)
    print(f"{len(scripts)} scripts, {len(turns)} turns over {args.rounds} rounds")
    print(f"turn_p50_ms={1000 * p50:.2f} turn_p99_ms={1000 * p99:.2f} ratio_to_normalise={mean_turn / mean_anchor:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
