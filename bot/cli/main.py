"""The `salescoach` command: run the bot, the console, and the content tools."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError
from sqlmodel import Session

from bot.settings import Settings
from dialogs.engine import Engine
from knowledge.loader import ContentError
from knowledge.validate import load_knowledge
from knowledge.validate import run as validate_run
from storage.db import make_engine
from storage.users import preset_language

EXIT_USAGE = 2


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        sys.stderr.write(f"salescoach: bad setting {'.'.join(map(str, first['loc'])).upper()}: {first['msg']}\n")
        sys.exit(EXIT_USAGE)


def _engine(settings: Settings) -> Engine:
    """The engine over the configured database; refuses to start on invalid content."""
    try:
        knowledge = load_knowledge(settings.knowledge_dirs)
    except ContentError as exc:
        sys.stderr.write("salescoach: the content has problems; fix them and start again:\n")
        for problem in exc.problems:
            sys.stderr.write(f"  {problem}\n")
        sys.exit(1)
    return Engine(make_engine(settings.database_url), knowledge, settings.engine_settings())


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    """Chat with the bot in the terminal (or pipe a conversation in)."""
    from bot.console import Console

    engine = _engine(settings)
    with Session(engine.db) as session:
        preset_language(session, args.user, args.name, args.lang)
    console = Console(engine, user_id=args.user, name=args.name, lang=args.lang, jsonl=args.jsonl)
    console.run(sys.stdin, interactive=sys.stdin.isatty() and not args.jsonl)
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """The Telegram bot with long polling."""
    from bot.telegram_app import ALLOWED_UPDATES, build_application

    if args.base_url:
        settings.telegram_base_url = args.base_url
    problem = settings.token_problem()
    if problem:
        sys.stderr.write(f"salescoach: {problem}.\n")
        return EXIT_USAGE
    app = build_application(settings, _engine(settings))
    app.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0


def cmd_webhook(args: argparse.Namespace, settings: Settings) -> int:
    """The Telegram bot behind a webhook: PTB's web server refuses (403) any post without the secret token."""
    from urllib.parse import urlsplit

    from bot.telegram_app import ALLOWED_UPDATES, build_application

    for flag, name in (("base_url", "telegram_base_url"), ("url", "webhook_url"), ("listen", "webhook_listen"), ("port", "webhook_port")):
        if getattr(args, flag) is not None:
            setattr(settings, name, getattr(args, flag))
    problem = settings.token_problem() or settings.webhook_problem()
    if problem:
        sys.stderr.write(f"salescoach: {problem}.\n")
        return EXIT_USAGE
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    app = build_application(settings, _engine(settings))
    app.run_webhook(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url_path=urlsplit(settings.webhook_url).path,
        webhook_url=settings.webhook_url,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=ALLOWED_UPDATES,
    )
    return 0


def cmd_main_job(args: argparse.Namespace, settings: Settings) -> int:
    """No subcommand: the Telegram bot when a token is set, else the terminal console."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        sys.stderr.write("No TELEGRAM_BOT_TOKEN set: starting the terminal console (type /start; Ctrl-D quits).\n")
        args.user, args.name, args.lang, args.jsonl = 1, "", "zh", False
        return cmd_console(args, settings)
    args.base_url = None
    return cmd_run(args, settings)


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    """Check the shipped content and any extra directories or files."""
    return validate_run([str(p) for p in settings.knowledge_dirs] + list(args.paths))


def cmd_graph(args: argparse.Namespace, settings: Settings) -> int:
    """Write a Mermaid diagram of a scenario's or a dialog's state machine."""
    from dialogs.diagrams import mermaid
    from dialogs.registry import DIALOGS

    knowledge = _engine(settings).knowledge
    diagram = mermaid(args.name, knowledge)
    if diagram is None:
        names = sorted(knowledge.scenarios) + sorted(DIALOGS)
        sys.stderr.write(f"salescoach: no scenario or dialog called {args.name!r}; try one of: {', '.join(names)}\n")
        return 1
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(diagram + "\n")
    else:
        sys.stdout.write(diagram + "\n")
    return 0


def cmd_classify(args: argparse.Namespace, settings: Settings) -> int:
    """Classify utterances (arguments, or one per line on stdin) as JSON lines."""
    import json

    from dialogs.classifier import classify

    lines = args.utterances or (line.rstrip("\n") for line in sys.stdin)
    for line in lines:
        if line.strip():
            sys.stdout.write(json.dumps(classify(line).as_dict(), ensure_ascii=False) + "\n")
    return 0


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
    with Session(_engine(settings).db) as session:
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
    with Session(_engine(settings).db) as session, open(args.out, "wb") as handle:
        count = write_roleplays(session, args.format, handle)
    sys.stderr.write(f"salescoach: wrote {count} role-plays to {args.out}\n")
    return 0


NEED_FILTERS = ("rep", "team", "tag", "priority", "source", "from", "to", "search")


def export_needs_file(args: argparse.Namespace, settings: Settings) -> int:
    """Stream the needs matching the filters to a file, batch by batch, in bounded memory."""
    from dialogs.need_export import export_needs
    from dialogs.need_filters import FilterError, parse_filters

    engine = _engine(settings)
    words = [f"{'q' if name == 'search' else name}:{getattr(args, name)}" for name in NEED_FILTERS if getattr(args, name) is not None]
    try:
        flt = parse_filters(words, engine.knowledge.forms["need"])
    except FilterError as exc:
        sys.stderr.write(f"salescoach: cannot read the filter {exc.word!r} ({exc.reason})\n")
        return EXIT_USAGE
    with Session(engine.db) as session, open(args.out, "wb") as handle:
        export_needs(handle, args.format, session, flt, None, engine.knowledge.forms["need"], args.lang)
    return 0


def _port(text: str) -> int:
    """A TCP port number for --port."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)")
    return int(text)


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    top = argparse.ArgumentParser(prog="salescoach", description="SalesCoach: a Telegram bot that coaches sales reps.")
    top.set_defaults(func=cmd_main_job)
    sub = top.add_subparsers(dest="command")

    console = sub.add_parser("console", help="chat with the bot in the terminal")
    console.add_argument("--user", type=int, default=1, help="user id (default 1)")
    console.add_argument("--name", default="", help="display name")
    console.add_argument("--lang", choices=("zh", "en"), default="zh", help="language (default zh)")
    console.add_argument("--jsonl", action="store_true", help="print each reply as one JSON object per line")
    console.set_defaults(func=cmd_console)

    run = sub.add_parser("run", help="run the Telegram bot with long polling")
    run.add_argument("--base-url", default=None, help="Bot API server URL (also TELEGRAM_BASE_URL)")
    run.set_defaults(func=cmd_run)

    webhook = sub.add_parser("webhook", help="run the Telegram bot behind a webhook (needs WEBHOOK_URL and WEBHOOK_SECRET)")
    webhook.add_argument("--base-url", default=None, help="Bot API server URL (also TELEGRAM_BASE_URL)")
    webhook.add_argument("--url", default=None, help="public URL Telegram posts updates to (also WEBHOOK_URL)")
    webhook.add_argument("--listen", default=None, help="address to listen on (also WEBHOOK_LISTEN, default 127.0.0.1)")
    webhook.add_argument("--port", type=_port, default=None, help="port to listen on (also WEBHOOK_PORT, default 8443)")
    webhook.set_defaults(func=cmd_webhook)

    validate = sub.add_parser("validate", help="check content files and print file:line problems")
    validate.add_argument("paths", nargs="*", help="extra content directories or files")
    validate.set_defaults(func=cmd_validate)

    classify = sub.add_parser("classify", help="classify questions (open/closed, SPIN type) as JSON lines")
    classify.add_argument("utterances", nargs="*", help="utterances to classify (default: one per line on stdin)")
    classify.set_defaults(func=cmd_classify)

    export = sub.add_parser("export", help="export data to a file")
    export.add_argument("what", choices=("quiz-results", "needs", "roleplays"), help="what to export")
    export.add_argument("--format", choices=("csv", "xlsx", "html", "jsonl"), required=True, help="html: needs only; role-plays: jsonl or csv")
    export.add_argument("--out", required=True, help="file to write")
    export.add_argument("--quiz", default=None, help="only this quiz")
    for name in NEED_FILTERS:
        export.add_argument(f"--{name}", default=None, help=f"needs: only those matching this {name}" + (" (YYYY-MM-DD)" if name in ("from", "to") else ""))
    export.add_argument("--lang", choices=("zh", "en"), default="zh", help="needs: language of labels and the report (default zh)")
    export.set_defaults(func=cmd_export)

    graph = sub.add_parser("graph", help="write a Mermaid diagram of a scenario's or dialog's state machine")
    graph.add_argument("name", help="scenario id (e.g. plum) or dialog name (e.g. welcome)")
    graph.add_argument("--out", default=None, help="file to write (default: standard output)")
    graph.set_defaults(func=cmd_graph)
    return top


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `salescoach` and `python -m bot`."""
    args = parser().parse_args(argv)
    settings = _settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    sys.exit(args.func(args, settings))
