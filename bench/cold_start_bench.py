"""Benchmark for cold start: process start to the console's first reply to /start.

Run ``python bench/cold_start_bench.py`` (``--runs N`` for more repetitions). Each run
starts ``python -m bot console`` on a SQLite file, sends /start and stops the clock at
the first line of the reply. The anchor, timed in the same run and interleaved with it,
is a process that only imports the libraries the bot stands on; on a shared machine only
the ratio between the two means anything. Medians of the runs are reported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANCHOR = "import telegram, sqlmodel, transitions, jinja2"


def first_reply(env: dict[str, str]) -> float:
    """Seconds from starting the console to the first line it prints after /start."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "console", "--lang", "en"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("/start\n")
    proc.stdin.flush()
    line = proc.stdout.readline()
    took = time.perf_counter() - started
    _, err = proc.communicate(timeout=60)  # closes stdin: the console ends at end of input
    if not line:
        raise SystemExit(f"the console printed nothing:\n{err}")
    return took


def anchor(env: dict[str, str]) -> float:
    """Seconds for a process that imports the bot's main libraries and exits."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", ANCHOR], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


def main() -> None:
    """Warm the file cache once, then time the console and the anchor in turns."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "TELEGRAM_BOT_TOKEN": ""}
        first_reply(env)  # creates the tables and fills the OS file cache
        anchor(env)
        replies, anchors = [], []
        for _ in range(args.runs):
            anchors.append(anchor(env))
            replies.append(first_reply(env))
    reply_s, anchor_s = statistics.median(replies), statistics.median(anchors)
    print(f"runs: {args.runs}; first reply {min(replies):.2f}-{max(replies):.2f} s, anchor {min(anchors):.2f}-{max(anchors):.2f} s")
    print(f"first_reply_s={reply_s:.2f} anchor_s={anchor_s:.2f} ratio={reply_s / anchor_s:.2f}")


if __name__ == "__main__":
    main()
