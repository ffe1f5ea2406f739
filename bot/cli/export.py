"""`salescoach export`: quiz results, captured needs and finished role-plays to a file."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlmodel import Session

from bot.cli.common import EXIT_USAGE, start_engine
from bot.settings import Settings

NEED_FILTERS = ("rep", "team", "tag", "priority", "source", "from", "to", "search")


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Export quiz results (csv, xlsx, or jsonl xAPI statements), captured needs or finished role-plays to a file."""
    from storage.quiz_results import results_file

    if args.what == "needs":
        return export_needs_file(args, settings)
    if args.what == "roleplays":
        return export_roleplays(args, settings)
    if args.format == "html":
        sys.stderr.write("salescoach: quiz results export as csv, xlsx or jsonl\n")
        return EXIT_USAGE
    with Session(start_engine(settings).db) as session:
        content = results_file(session, args.format, args.quiz, None)
    with open(args.out, "wb") as handle:
        handle.write(content)
    return 0


def export_roleplays(args: argparse.Namespace, settings: Settings) -> int:
    """One record per finished role-play, streamed to the file."""
    from storage.roleplays import write_roleplays

    if args.format not in ("jsonl", "csv"):
        sys.stderr.write("salescoach: role-plays export as jsonl or csv\n")
        return EXIT_USAGE
    with Session(start_engine(settings).db) as session, open(args.out, "wb") as handle:
        count = write_roleplays(session, args.format, handle)
    sys.stderr.write(f"salescoach: wrote {count} role-plays to {args.out}\n")
    return 0


def export_needs_file(args: argparse.Namespace, settings: Settings) -> int:
    """Stream the needs matching the filters to a file, batch by batch, in bounded memory."""
    from dialogs.needs.export import export_needs
    from dialogs.needs.filters import FilterError, parse_filters

    engine = start_engine(settings)
    words = [f"{'q' if name == 'search' else name}:{getattr(args, name)}" for name in NEED_FILTERS if getattr(args, name) is not None]
    try:
        flt = parse_filters(words, engine.knowledge.forms["need"])
    except FilterError as exc:
        sys.stderr.write(f"salescoach: cannot read the filter {exc.word!r} ({exc.reason})\n")
        return EXIT_USAGE
    with Session(engine.db) as session, open(args.out, "wb") as handle:
        export_needs(handle, args.format, session, flt, None, engine.knowledge.forms["need"], args.lang)
    return 0


def add(sub: Any) -> None:
    """Register `export`."""
    export = sub.add_parser("export", help="export data to a file")
    export.add_argument("what", choices=("quiz-results", "needs", "roleplays"), help="what to export")
    export.add_argument("--format", choices=("csv", "xlsx", "html", "jsonl"), required=True, help="html: needs only; role-plays: jsonl or csv")
    export.add_argument("--out", required=True, help="file to write")
    export.add_argument("--quiz", default=None, help="only this quiz")
    for name in NEED_FILTERS:
        export.add_argument(f"--{name}", default=None, help=f"needs: only those matching this {name}" + (" (YYYY-MM-DD)" if name in ("from", "to") else ""))
    export.add_argument("--lang", choices=("zh", "en"), default="zh", help="needs: language of labels and the report (default zh)")
    export.set_defaults(func=cmd_export)
