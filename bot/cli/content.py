"""`salescoach validate` and `salescoach graph`: the trainers' tools for content."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli.common import EXIT_USAGE, CliError, open_output, start_engine
from bot.settings import Settings
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
        raise CliError(f"--format {args.format} draws a picture: say where to write it with --out FILE.{args.format}", EXIT_USAGE)
    if args.name not in knowledge.scenarios and args.name not in DIALOGS:
        names = sorted(knowledge.scenarios) + sorted(DIALOGS)
        raise CliError(f"no scenario or dialog called {args.name!r}; try one of: {', '.join(names)}", EXIT_USAGE)
    if args.format == "mermaid":
        diagram = (str(mermaid(args.name, knowledge)) + "\n").encode("utf-8")
    else:
        from graphviz import ExecutableNotFound

        try:
            diagram = picture(args.name, knowledge, args.format) or b""
        except ExecutableNotFound as exc:
            raise CliError("drawing a picture needs Graphviz's dot: install it (Debian: apt-get install graphviz) or use --format mermaid") from exc
    if args.out:
        with open_output(args.out) as handle:
            handle.write(diagram)
    else:
        sys.stdout.write(diagram.decode("utf-8"))
    return 0


def add(sub: Any) -> None:
    """Register `validate` and `graph`."""
    validate = sub.add_parser("validate", help="check content files and print file:line problems")
    validate.add_argument("paths", nargs="*", help="extra content directories or files")
    validate.set_defaults(func=cmd_validate)

    graph = sub.add_parser("graph", help="draw a scenario's or dialog's state machine (Mermaid text, PNG or SVG)")
    graph.add_argument("name", help="scenario id (e.g. plum) or dialog name (e.g. welcome)")
    graph.add_argument(
        "--format",
        choices=("mermaid", "png", "svg"),
        default="mermaid",
        help="mermaid (text, the default), or png or svg pictures drawn by Graphviz (need --out)",
    )
    graph.add_argument("--out", default=None, metavar="FILE", help="file to write (default for mermaid: standard output)")
    graph.set_defaults(func=cmd_graph)
