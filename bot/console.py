"""The terminal console: the same engine as Telegram, one user message per line.

Buttons print as numbered options; typing the number alone presses the button.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import TextIO

from bot.text import plain_text
from dialogs.engine import Engine
from dialogs.core.events import Button, Event, Reply
from knowledge.templates import render


class Console:
    """One console user talking to the engine."""

    def __init__(self, engine: Engine, *, user_id: int = 1, name: str = "", lang: str = "zh", jsonl: bool = False, out: TextIO = sys.stdout) -> None:
        self.engine = engine
        self.user_id = user_id
        self.name = name
        self.lang = lang
        self.jsonl = jsonl
        self.out = out
        self.buttons: list[Button] = []

    def event_for(self, line: str) -> Event:
        """What a typed line means: a button number, a /command, or text."""
        base = {"user_id": self.user_id, "chat_id": self.user_id, "name": self.name, "lang_hint": self.lang}
        stripped = line.strip()
        if stripped.isdigit() and 1 <= int(stripped) <= len(self.buttons):
            return Event(**base, button=self.buttons[int(stripped) - 1].data)
        if stripped.startswith("/") and len(stripped) > 1:
            head, _, args = stripped.partition(" ")
            return Event(**base, command=head[1:].split("@", 1)[0], args=args.strip())
        return Event(**base, text=line)

    def send(self, line: str) -> list[Reply]:
        """Hand one line to the engine and print what the bot answers."""
        replies = self.engine.handle(self.event_for(line))
        shown = [b for reply in replies for row in reply.buttons for b in row]
        if shown:
            self.buttons = shown
        number = 0
        for reply in replies:
            if reply.command_menu is not None:
                continue
            text = plain_text(render(reply.lang, reply.key, reply.data))
            if self.jsonl:
                labels = [[b.label for b in row] for row in reply.buttons]
                self.out.write(json.dumps({"key": reply.key, "text": text, "buttons": labels}, ensure_ascii=False) + "\n")
            else:
                self.out.write(text + "\n")
                for row in reply.buttons:
                    cells = []
                    for b in row:
                        number += 1
                        cells.append(f"[{number}] {b.label}")
                    self.out.write("  ".join(cells) + "\n")
                if reply.document is not None:
                    self.out.write(f"(file: {reply.document.filename}, {len(reply.document.content)} bytes)\n")
                self.out.write("\n")
        self.out.flush()
        return replies

    def run(self, lines: Iterable[str], interactive: bool = False) -> None:
        """Read lines until end of input."""
        if interactive:
            self.out.write("> ")
            self.out.flush()
        for line in lines:
            self.send(line.rstrip("\n"))
            if interactive:
                self.out.write("> ")
                self.out.flush()
