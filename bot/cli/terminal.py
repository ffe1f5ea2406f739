"""`salescoach console`: chat with the bot in the terminal, or pipe a conversation in."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot.cli.common import EXIT_USAGE, CliError, start_engine
from bot.settings import Settings
from knowledge.cli import help_text, line
from storage.users import preset_language

FILES = Path("salescoach-files")


def files_checked(folder: Path) -> None:
    """Stops the console before it starts (exit 2) when --files cannot hold the files the bot
    sends: something that is not a folder is in the way, or the folder cannot be made or written."""
    where = folder.resolve()
    existing = next(path for path in (where, *where.parents) if path.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise CliError(line("files_folder", folder=folder, existing=existing), EXIT_USAGE)


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    """Chat with the bot in the terminal (with line editing and history), or pipe a conversation in;
    files the bot sends are saved in --files and their path printed."""
    from bot.console import Console

    files_checked(args.files)
    engine = start_engine(settings)
    with Session(engine.db) as session:
        preset_language(session, args.user, args.name, args.lang)
    console = Console(engine, user_id=args.user, name=args.name, lang=args.lang, jsonl=args.jsonl, files=args.files)
    if sys.stdin.isatty() and not args.jsonl:
        console.run_interactive()
    else:
        console.run(sys.stdin)
    return 0


def add(sub: Any) -> None:
    """Register `console`."""
    console = sub.add_parser("console", help=help_text("console"))
    console.add_argument("--user", type=int, default=1, help=help_text("console_user"))
    console.add_argument("--name", default="", help=help_text("console_name"))
    console.add_argument("--lang", choices=("zh", "en"), default="zh", help=help_text("console_lang"))
    console.add_argument("--jsonl", action="store_true", help=help_text("console_jsonl"))
    console.add_argument("--files", type=Path, default=FILES, metavar="DIR", help=help_text("console_files", files=FILES))
    console.set_defaults(func=cmd_console)
