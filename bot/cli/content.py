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
    """Write a Mermaid diagram of a scenario's or a dialog's state machine."""
    from dialogs.diagrams import mermaid
    from dialogs.registry import DIALOGS

    knowledge = start_engine(settings).knowledge
    diagram = mermaid(args.name, knowledge)
    if diagram is None:
        names = sorted(knowledge.scenarios) + sorted(DIALOGS)
        raise CliError(f"no scenario or dialog called {args.name!r}; try one of: {', '.join(names)}", EXIT_USAGE)
    if args.out:
        with open_output(args.out) as handle:
            handle.write((diagram + "\n").encode("utf-8"))
    else:
        sys.stdout.write(diagram + "\n")
    return 0


def add(sub: Any) -> None:
    """Register `validate` and `graph`."""
    validate = sub.add_parser("validate", help="check content files and print file:line problems")
    validate.add_argument("paths", nargs="*", help="extra content directories or files")
    validate.set_defaults(func=cmd_validate)

    graph = sub.add_parser("graph", help="write a Mermaid diagram of a scenario's or dialog's state machine")
    graph.add_argument("name", help="scenario id (e.g. plum) or dialog name (e.g. welcome)")
    graph.add_argument("--out", default=None, help="file to write (default: standard output)")
    graph.set_defaults(func=cmd_graph)
