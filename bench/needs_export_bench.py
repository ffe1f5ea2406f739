"""Benchmark for needs exports: 100,000 needs, each format, peak memory and time.

Run ``python bench/needs_export_bench.py`` (``--needs N`` for another size). It fills a
SQLite file with generated needs (some with text meant to break a spreadsheet or a
page), then exports every format in a fresh process and prints each one's peak resident
memory. Exports stream, so the peak stays about the same for 10,000 and 100,000 needs.

The anchor is the fastest honest export there is: the same rows, in the same order, read
with the `sqlite3` module and written with `csv`, timed in the same run. Each export and
the dump run ``--repeat`` times, alternated, and the fastest of each counts. Each format
ends with one line ``format=… seconds=… dump_seconds=… ratio=… peak_rss_mb=…``.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402  (needs the repository root on sys.path)
from sqlmodel import Session  # noqa: E402

from storage.db import make_engine  # noqa: E402
from storage.models import Need, NeedTag, User, utcnow  # noqa: E402
from storage.needs import recount  # noqa: E402

FORMATS = ("csv", "xlsx", "html", "jsonl")
TAGS = ("price", "婚宴", "供货", "hotel", "service", "=cmd", "<b>bold</b>")
CHUNK = 5_000


def fill(url: str, count: int, reps: int = 200) -> None:
    """Writes `count` needs from `reps` reps over the last year, in large inserts."""
    db = make_engine(url)
    rng = random.Random(7)
    now = utcnow()
    with Session(db) as session:
        session.execute(insert(User), [{"id": 1000 + r, "name": f"rep {r}", "lang": "zh"} for r in range(reps)])
        for start in range(0, count, CHUNK):
            needs, tags = [], []
            for i in range(start, min(start + CHUNK, count)):
                picked = rng.sample(TAGS, 2)
                fields = {
                    "customer_company": f"客户 {i} <script>x</script>" if i % 97 == 0 else f"Customer {i} 有限公司",
                    "situation": "现有供应商送货慢，旺季断货。" * 3,
                    "problems": '=HYPERLINK("http://x")' if i % 89 == 0 else "补货要催三天",
                    "explicit_needs": "两天内到货、可以随时加单",
                    "latent_needs": "老板在意旺季的口碑",
                    "budget": rng.randrange(1_000, 1_000_000),
                    "next_step": "下周四给采购经理讲方案",
                    "priority": rng.choice(("p1", "p2", "p3")),
                    "tags": picked,
                }
                needs.append(
                    {
                        "id": i + 1,
                        "rep_id": 1000 + i % reps,
                        "source": "field",
                        "status": "active",
                        "lang": "zh",
                        "customer": fields["customer_company"],
                        "priority": fields["priority"],
                        "fields": fields,
                        "search_text": " ".join(str(v) for v in fields.values() if isinstance(v, str)).casefold(),
                        "created_at": now - timedelta(minutes=rng.randrange(0, 525_600)),
                        "updated_at": now,
                    }
                )
                tags += [{"need_id": i + 1, "tag": t} for t in picked]
            session.execute(insert(Need), needs)
            session.execute(insert(NeedTag), tags)
        recount(session)  # the board's counts, as record_need would have kept them
        session.commit()


def export_once(url: str, fmt: str, out: str) -> None:
    """Child process: export once and print the seconds taken and peak memory in MiB."""
    from dialogs.needs.export import export_needs
    from knowledge.validate import cached_knowledge
    from storage.needs import NeedFilter

    form = cached_knowledge().forms["need"]
    db = make_engine(url)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    with Session(db) as session, open(out, "wb") as handle:
        export_needs(handle, fmt, session, NeedFilter(), None, form, "zh")
    took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{took:.2f} {before:.0f} {peak:.0f}")


DUMP_QUERY = (
    "SELECT id, created_at, rep_id, source, fields, evidence, roleplay_id FROM need "
    "WHERE status = 'active' AND source = 'field' ORDER BY created_at DESC, id DESC"
)


def dump_once(path: str, out: str) -> None:
    """Child process: the anchor, the rows straight from `sqlite3` into `csv`; prints the seconds."""
    started = time.perf_counter()
    with sqlite3.connect(path) as connection, open(out, "w", encoding="utf-8", newline="") as handle:
        cursor = connection.execute(DUMP_QUERY)
        writer = csv.writer(handle)
        writer.writerow([column[0] for column in cursor.description])
        writer.writerows(cursor)
    print(f"{time.perf_counter() - started:.2f}")


def main() -> None:
    """Fill a database, then export each format in its own process and report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--needs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each export and of the dump; the fastest counts")
    parser.add_argument("--export", nargs=3, metavar=("URL", "FORMAT", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--dump", nargs=2, metavar=("PATH", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export:
        export_once(*args.export)
        return
    if args.dump:
        dump_once(*args.dump)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        started = time.perf_counter()
        fill(url, args.needs)
        print(f"generated {args.needs:,} needs in {time.perf_counter() - started:.1f} s")
        print(f"{'format':6} {'seconds':>8} {'dump s':>7} {'MiB after start':>16} {'peak MiB':>9} {'file MiB':>9}")
        lines = []
        for fmt in FORMATS:
            out = f"{tmp}/needs.{fmt}"
            dumps, exports = [], []
            for _ in range(args.repeat):  # alternated, so a busy spell slows both; the fastest of each counts
                dumped = subprocess.run([sys.executable, __file__, "--dump", f"{tmp}/bench.db", f"{tmp}/dump.csv"], capture_output=True, text=True, check=True)
                dumps.append(float(dumped.stdout))
                done = subprocess.run([sys.executable, __file__, "--export", url, fmt, out], capture_output=True, text=True, check=True)
                took, before, peak = done.stdout.split()
                exports.append((float(took), before, peak))
            dump = min(dumps)
            took_s, before, peak = min(exports)
            size = Path(out).stat().st_size / 2**20
            print(f"{fmt:6} {took_s:>8.2f} {dump:>7.2f} {before:>16} {peak:>9} {size:>9.1f}")
            lines.append(f"format={fmt} seconds={took_s:.2f} dump_seconds={dump:.2f} ratio={took_s / dump:.1f} peak_rss_mb={peak}")
        print("\n".join(lines))


if __name__ == "__main__":
    main()
