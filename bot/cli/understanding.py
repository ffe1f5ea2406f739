"""`salescoach classify`: how the bot reads a rep's lines, as JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.settings import Settings


def cmd_classify(args: argparse.Namespace, settings: Settings) -> int:
    """Classify utterances (arguments, or one per line on stdin) as JSON lines."""
    from dialogs.understanding.classifier import classify

    lines = args.utterances or (line.rstrip("\n") for line in sys.stdin)
    for line in lines:
        if line.strip():
            sys.stdout.write(json.dumps(classify(line).as_dict(), ensure_ascii=False) + "\n")
    return 0


def add(sub: Any) -> None:
    """Register `classify`."""
    classify = sub.add_parser("classify", help="classify questions (open/closed, SPIN type) as JSON lines")
    classify.add_argument("utterances", nargs="*", help="utterances to classify (default: one per line on stdin)")
    classify.set_defaults(func=cmd_classify)
