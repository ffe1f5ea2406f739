"""`salescoach export`: quiz results, captured needs, finished role-plays and the lines role-play customers did not understand to a file."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlmodel import Session

from bot.cli.common import EXIT_USAGE, CliError, open_output, start_engine
from bot.settings import Settings
from dialogs.engine import Engine
from knowledge.templates import counted

NEED_FILTERS = ("rep", "team", "tag", "priority", "source", "from", "to", "search")
FORMATS = {"quiz-results": ("csv", "xlsx", "jsonl"), "roleplays": ("jsonl", "csv"), "unmatched": ("csv", "jsonl"), "needs": ("csv", "xlsx", "html", "jsonl")}
OPTIONS = {"quiz-results": ("quiz",), "roleplays": ("scenario",), "unmatched": ("scenario",), "needs": (*NEED_FILTERS, "lang")}
FILTER_HELP = {
    "rep": "needs: only this rep's (name or Telegram id)",
    "team": "needs: only this team's members' (team name)",
    "tag": "needs: only those tagged TAG",
    "priority": "needs: only this priority: p1 (important and urgent), p2 (important, not urgent) or p3 (follow up later)",
    "source": "needs: field (logged with /need, the default), roleplay (uncovered in role-plays) or all",
    "from": "needs: only those logged on or after this day (YYYY-MM-DD)",
    "to": "needs: only those logged on or before this day (YYYY-MM-DD)",
    "search": "needs: only those whose customer or text contains TEXT",
}


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Export quiz results, captured needs, finished role-plays or the lines role-play customers did
    not understand to a file; ends with "wrote N records to PATH" on stderr."""
    if args.format not in FORMATS[args.what]:
        raise CliError(f"{args.what} export as {', '.join(FORMATS[args.what])}, not {args.format}; choose one with --format", EXIT_USAGE)
    for name in (*NEED_FILTERS, "lang", "quiz", "scenario"):
        if getattr(args, name) is not None and name not in OPTIONS[args.what]:
            takes = ", ".join(f"--{option}" for option in OPTIONS[args.what])
            raise CliError(f"--{name} does not apply to {args.what} exports, which take {takes}", EXIT_USAGE)
    if args.what == "needs":
        count = export_needs_file(args, settings)
    elif args.what == "roleplays":
        count = export_roleplays(args, settings)
    elif args.what == "unmatched":
        count = export_unmatched(args, settings)
    else:
        count = export_quiz_results(args, settings)
    sys.stderr.write(f"salescoach: wrote {counted(count, 'record')} to {args.out}\n")
    return 0


def export_quiz_results(args: argparse.Namespace, settings: Settings) -> int:
    """Every finished quiz attempt (or one quiz's) as csv, xlsx or xAPI statements; an unknown quiz is an error."""
    from storage.quiz_results import results_file

    engine = start_engine(settings)
    if args.quiz is not None and args.quiz not in engine.knowledge.quizzes:
        raise CliError(f"no quiz called {args.quiz!r}; use one of: {', '.join(sorted(engine.knowledge.quizzes))}", EXIT_USAGE)
    with Session(engine.db) as session:
        content, count = results_file(session, args.format, args.quiz, None, settings.xapi_base_url)
    with open_output(args.out) as handle:
        handle.write(content)
    return count


def known_scenario(engine: Engine, scenario: str | None) -> None:
    """Stops the export when --scenario names no scenario, listing them."""
    if scenario is not None and scenario not in engine.knowledge.scenarios:
        raise CliError(f"no scenario called {scenario!r}; use one of: {', '.join(sorted(engine.knowledge.scenarios))}", EXIT_USAGE)


def export_roleplays(args: argparse.Namespace, settings: Settings) -> int:
    """One record per finished role-play (or one scenario's), streamed to the file; an unknown
    scenario is an error naming the scenarios."""
    from storage.roleplays import write_roleplays

    engine = start_engine(settings)
    known_scenario(engine, args.scenario)
    with Session(engine.db) as session, open_output(args.out) as handle:
        return write_roleplays(session, args.format, handle, args.scenario)


def export_unmatched(args: argparse.Namespace, settings: Settings) -> int:
    """Every rep line a role-play customer did not understand (or one scenario's), streamed to the
    file; an unknown scenario is an error naming the scenarios."""
    from storage.roleplays import write_unmatched

    engine = start_engine(settings)
    known_scenario(engine, args.scenario)
    with Session(engine.db) as session, open_output(args.out) as handle:
        return write_unmatched(session, args.format, handle, args.scenario)


def export_needs_file(args: argparse.Namespace, settings: Settings) -> int:
    """Stream the needs matching the filters to a file, batch by batch, in bounded memory; a filter
    it cannot read, a team that does not exist or a --rep that matches nobody is an error naming
    the option and the values it takes."""
    from dialogs.needs.export import export_needs
    from dialogs.needs.filters import FilterError, parse_filters
    from storage.access import all_teams
    from storage.users import known_rep

    engine = start_engine(settings)
    form = engine.knowledge.forms["need"]
    words = [f"{'q' if name == 'search' else name}:{getattr(args, name)}" for name in NEED_FILTERS if getattr(args, name) is not None]
    try:
        flt = parse_filters(words, form)
    except FilterError as exc:
        priorities = [c.id for f in form.fields if f.id == "priority" for c in f.choices]
        reasons = {
            "priority": f"--priority {args.priority!r} is not a priority; use one of {', '.join(priorities)}",
            "date": f"cannot read the day in {exc.word!r}; write it as YYYY-MM-DD, e.g. 2026-01-31",
            "dates": f"--from is after --to ({exc.word}); swap them",
        }
        raise CliError(reasons.get(exc.reason, f"cannot read the filter {exc.word!r}; see salescoach export --help"), EXIT_USAGE) from exc
    with Session(engine.db) as session:
        teams = [team.name for team in all_teams(session)]
        if args.team is not None and args.team not in teams:
            raise CliError(
                f"no team called {args.team!r}; " + (f"use one of: {', '.join(teams)}" if teams else "there are no teams yet (an admin makes them with /team)"),
                EXIT_USAGE,
            )
        if args.rep is not None and not known_rep(session, args.rep):
            raise CliError(f"--rep {args.rep!r} matches nobody; give a rep's Telegram id or a part of their name", EXIT_USAGE)
        with open_output(args.out) as handle:
            return export_needs(handle, args.format, session, flt, None, form, args.lang or "zh")


def add(sub: Any) -> None:
    """Register `export`."""
    export = sub.add_parser("export", help="export data to a file", description="Export data to a file; ends with 'wrote N records to PATH'.")
    export.add_argument(
        "what",
        choices=tuple(FORMATS),
        help="quiz-results (csv, xlsx or jsonl xAPI statements), needs (csv, xlsx, html or jsonl), roleplays (jsonl or csv) or unmatched: the lines role-play customers did not understand (csv or jsonl)",
    )
    export.add_argument("--format", choices=("csv", "xlsx", "html", "jsonl"), required=True, help="file format (which ones each kind takes: see above)")
    export.add_argument("--out", required=True, metavar="PATH", help="file to write; its folder must exist")
    export.add_argument("--quiz", default=None, metavar="ID", help="quiz-results: only this quiz (an id from the content, e.g. spin_basics)")
    export.add_argument(
        "--scenario", default=None, metavar="ID", help="roleplays and unmatched: only this role-play scenario (an id from the content, e.g. plum)"
    )
    for name in NEED_FILTERS:
        choices = ("field", "roleplay", "all") if name == "source" else None
        metavar = {"from": "DAY", "to": "DAY", "search": "TEXT", "source": None}.get(name, name.upper())
        export.add_argument(f"--{name}", default=None, choices=choices, metavar=metavar, help=FILTER_HELP[name])
    export.add_argument("--lang", choices=("zh", "en"), default=None, help="needs: language of labels and the report, zh (default) or en")
    export.set_defaults(func=cmd_export)
