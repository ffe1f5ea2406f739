"""`salescoach validate` and `salescoach graph`: the trainers' tools for content."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli.common import EXIT_USAGE, CliError, open_output, start_engine
from bot.settings import Settings
from knowledge.cli import help_text, line
from knowledge.validate import run as validate_run


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    """Check the shipped content and any extra directories or files."""
    return validate_run([str(p) for p in settings.knowledge_dirs] + list(args.paths))


def cmd_graph(args: argparse.Namespace, settings: Settings) -> int:
    """Write a diagram of a scenario's or a dialog's state machine: Mermaid text (to standard output
    or --out), or a PNG/SVG picture drawn by Graphviz (to --out)."""
    from dialogs.diagrams import mermaid, picture
    from dialogs.registry import DIALOGS

    knowledge = start_engine(settings).knowledge
    if args.format != "mermaid" and not args.out:
        raise CliError(line("graph_needs_out", format=args.format), EXIT_USAGE)
    if args.name not in knowledge.scenarios and args.name not in DIALOGS:
        names = sorted(knowledge.scenarios) + sorted(DIALOGS)
        raise CliError(line("no_diagram", name=repr(args.name), names=", ".join(names)), EXIT_USAGE)
    if args.format == "mermaid":
        diagram = (str(mermaid(args.name, knowledge)) + "\n").encode("utf-8")
    else:
        from graphviz import ExecutableNotFound

        try:
            diagram = picture(args.name, knowledge, args.format) or b""
        except ExecutableNotFound as exc:
            raise CliError(line("no_graphviz")) from exc
    if args.out:
        with open_output(args.out) as handle:
            handle.write(diagram)
    else:
        sys.stdout.write(diagram.decode("utf-8"))
    return 0


def add(sub: Any) -> None:
    """Register `validate` and `graph`."""
    validate = sub.add_parser("validate", help=help_text("validate"))
    validate.add_argument("paths", nargs="*", help=help_text("validate_paths"))
    validate.set_defaults(func=cmd_validate)

    graph = sub.add_parser("graph", help=help_text("graph"))
    graph.add_argument("name", help=help_text("graph_name"))
    graph.add_argument("--format", choices=("mermaid", "png", "svg"), default="mermaid", help=help_text("graph_format"))
    graph.add_argument("--out", default=None, metavar="FILE", help=help_text("graph_out"))
    graph.set_defaults(func=cmd_graph)
