"""The `salescoach` command: the parser and the entry point; each subcommand family has its own module."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot.cli import content, export, serve, terminal, understanding
from bot.cli.common import load_settings


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    top = argparse.ArgumentParser(prog="salescoach", description="SalesCoach: a Telegram bot that coaches sales reps.")
    top.set_defaults(func=serve.cmd_main_job)
    sub = top.add_subparsers(dest="command")
    for family in (terminal, serve, content, understanding, export):
        family.add(sub)
    return top


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `salescoach` and `python -m bot`."""
    args = parser().parse_args(argv)
    settings = load_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    sys.exit(args.func(args, settings))
