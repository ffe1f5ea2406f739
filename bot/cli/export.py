"""`salescoach export`: quiz results, captured needs, finished role-plays and the lines role-play customers did not understand to a file."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlmodel import Session

from bot.cli.common import EXIT_USAGE, CliError, open_output, start_engine
from bot.settings import Settings
from dialogs.engine import Engine
from knowledge.cli import counted_both, help_text, line

NEED_FILTERS = ("rep", "team", "tag", "priority", "source", "from", "to", "search")
FORMATS = {"quiz-results": ("csv", "xlsx", "jsonl"), "roleplays": ("jsonl", "csv"), "unmatched": ("csv", "jsonl"), "needs": ("csv", "xlsx", "html", "jsonl")}
OPTIONS = {"quiz-results": ("quiz",), "roleplays": ("scenario",), "unmatched": ("scenario",), "needs": (*NEED_FILTERS, "lang")}


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Export quiz results, captured needs, finished role-plays or the lines role-play customers did
    not understand to a file; ends with how many records it wrote, and where, on stderr."""
    if args.format not in FORMATS[args.what]:
        raise CliError(line("export_format", what=args.what, formats=", ".join(FORMATS[args.what]), format=args.format), EXIT_USAGE)
    for name in (*NEED_FILTERS, "lang", "quiz", "scenario"):
        if getattr(args, name) is not None and name not in OPTIONS[args.what]:
            takes = ", ".join(f"--{option}" for option in OPTIONS[args.what])
            raise CliError(line("export_option", name=name, what=args.what, takes=takes), EXIT_USAGE)
    if args.what == "needs":
        count = export_needs_file(args, settings)
    elif args.what == "roleplays":
        count = export_roleplays(args, settings)
    elif args.what == "unmatched":
        count = export_unmatched(args, settings)
    else:
        count = export_quiz_results(args, settings)
    sys.stderr.write(f"salescoach: {line('wrote', records=counted_both(count, 'record'), path=args.out)}\n")
    return 0


def export_quiz_results(args: argparse.Namespace, settings: Settings) -> int:
    """Every finished quiz attempt (or one quiz's) as csv, xlsx or xAPI statements; an unknown quiz is an error."""
    from storage.quiz_results import results_file

    engine = start_engine(settings)
    if args.quiz is not None and args.quiz not in engine.knowledge.quizzes:
        raise CliError(line("no_quiz", quiz=repr(args.quiz), quizzes=", ".join(sorted(engine.knowledge.quizzes))), EXIT_USAGE)
    with Session(engine.db) as session:
        content, count = results_file(session, args.format, args.quiz, None, settings.xapi_base_url)
    with open_output(args.out) as handle:
        handle.write(content)
    return count


def known_scenario(engine: Engine, scenario: str | None) -> None:
    """Stops the export when --scenario names no scenario, listing them."""
    if scenario is not None and scenario not in engine.knowledge.scenarios:
        raise CliError(line("no_scenario", scenario=repr(scenario), scenarios=", ".join(sorted(engine.knowledge.scenarios))), EXIT_USAGE)


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
        key = {"priority": "bad_priority", "date": "bad_day", "dates": "dates_swapped"}.get(exc.reason, "bad_filter")
        word = exc.word if exc.reason == "dates" else repr(exc.word)
        raise CliError(line(key, value=repr(args.priority), priorities=", ".join(priorities), word=word), EXIT_USAGE) from exc
    with Session(engine.db) as session:
        teams = [team.name for team in all_teams(session)]
        if args.team is not None and args.team not in teams:
            raise CliError(line("no_team" if teams else "no_teams", team=repr(args.team), teams=", ".join(teams)), EXIT_USAGE)
        if args.rep is not None and not known_rep(session, args.rep):
            raise CliError(line("no_rep", rep=repr(args.rep)), EXIT_USAGE)
        with open_output(args.out) as handle:
            return export_needs(handle, args.format, session, flt, None, form, args.lang or "zh")


def add(sub: Any) -> None:
    """Register `export`."""
    export = sub.add_parser("export", help=help_text("export"), description=help_text("export_description"))
    export.add_argument("what", choices=tuple(FORMATS), help=help_text("export_what"))
    export.add_argument("--format", choices=("csv", "xlsx", "html", "jsonl"), required=True, help=help_text("export_format"))
    export.add_argument("--out", required=True, metavar="PATH", help=help_text("export_out"))
    export.add_argument("--quiz", default=None, metavar="ID", help=help_text("export_quiz"))
    export.add_argument("--scenario", default=None, metavar="ID", help=help_text("export_scenario"))
    for name in NEED_FILTERS:
        choices = ("field", "roleplay", "all") if name == "source" else None
        metavar = {"from": "DAY", "to": "DAY", "search": "TEXT", "source": None}.get(name, name.upper())
        export.add_argument(f"--{name}", default=None, choices=choices, metavar=metavar, help=help_text(f"export_{name}"))
    export.add_argument("--lang", choices=("zh", "en"), default=None, help=help_text("export_lang"))
    export.set_defaults(func=cmd_export)
