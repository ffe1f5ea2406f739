"""The `salescoach` command: the parser, the entry point and the one error path; each subcommand
family has its own module."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any, NoReturn

from bot.cli import content, database, export, serve, terminal, understanding
from bot.cli.common import EXIT_RUNTIME, EXIT_USAGE, CliError, load_settings
from bot.logs import configure
from knowledge.cli import help_text, line

EXIT_INTERRUPTED = 130


class Formatter(argparse.HelpFormatter):
    """argparse's help, its "usage:" in both languages."""

    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None) -> None:
        """The usage line, headed `用法 / usage: `."""
        super().add_usage(usage, actions, groups, prefix if prefix is not None else f"{help_text('usage')}: ")


class Parser(argparse.ArgumentParser):
    """argparse, its help in Chinese and English, saying a usage error in one line like every
    other failure (exit 2); subcommands' parsers are Parsers too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs | {"formatter_class": Formatter, "add_help": False})
        self._positionals.title = help_text("positionals")
        self._optionals.title = help_text("options")
        self.add_argument("-h", "--help", action="help", help=help_text("help"))

    def error(self, message: str) -> NoReturn:
        """`salescoach: <what argparse found>; see <command> --help` in both languages, then exit 2."""
        self.exit(EXIT_USAGE, f"salescoach: {line('usage', message=message, prog=self.prog)}\n")


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    top = Parser(prog="salescoach", description=help_text("description"))
    top.add_argument("--version", action="version", version=f"salescoach {version('salescoach')}", help=help_text("version"))
    top.add_argument("--debug", action="store_true", help=help_text("debug"))
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
        sys.stderr.write(f"salescoach: {line('bug')}\n")
        code = EXIT_RUNTIME
    sys.exit(code)
