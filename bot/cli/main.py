"""The `salescoach` command: the parser, the entry point and the one error path; each subcommand
family has its own module."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from importlib.metadata import version
from typing import NoReturn

from bot.cli import content, database, export, serve, terminal, understanding
from bot.cli.common import EXIT_RUNTIME, EXIT_USAGE, CliError, load_settings
from bot.logs import configure

EXIT_INTERRUPTED = 130
REPORT_BUG = (
    "salescoach: this is a bug in SalesCoach, not something you did; please report it to the maintainers "
    "with the traceback above and the output of `salescoach --version`\n"
)


class Parser(argparse.ArgumentParser):
    """argparse, saying a usage error in one line like every other failure (exit 2)."""

    def error(self, message: str) -> NoReturn:
        """`salescoach: <what argparse found>; see <command> --help`, then exit 2."""
        self.exit(EXIT_USAGE, f"salescoach: {message}; see {self.prog} --help\n")


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    top = Parser(prog="salescoach", description="SalesCoach: a Telegram bot that coaches sales reps.")
    top.add_argument("--version", action="version", version=f"salescoach {version('salescoach')}")
    top.add_argument("--debug", action="store_true", help="log everything and show the traceback behind any error")
    top.set_defaults(func=serve.cmd_main_job)
    sub = top.add_subparsers(dest="command")
    for family in (terminal, serve, content, understanding, export, database):
        family.add(sub)
    return top


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `salescoach` and `python -m bot`: an expected failure is one line on stderr and
    exit 1 (at run time) or 2 (usage or setting); Ctrl-C exits quietly (130), and so does output
    piped into a reader that stopped (`| head`, 1); anything else is a bug,
    shown with its traceback and how to report it."""
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        configure(settings.log_level, settings.log_format, debug=args.debug)
        code = args.func(args, settings)
    except CliError as exc:
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(f"salescoach: {exc}\n")
        code = exc.code
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the reader left (`| head`): nothing more to say
        code = EXIT_RUNTIME
    except Exception:  # noqa: BLE001 - anything else is a bug: its traceback and how to report it
        traceback.print_exc()
        sys.stderr.write(REPORT_BUG)
        code = EXIT_RUNTIME
    sys.exit(code)
