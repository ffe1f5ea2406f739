"""The terminal console: the same engine as Telegram, one user message per line.

Buttons print as numbered options and `/1`, `/2` … press them, so a typed number is always
text (a customer called "1" stays "1"). The numbers belong to the latest answer with buttons
and lapse once the bot answers with a message (not just a notice) without any. Files and
pictures the bot sends are saved in a folder; a picture's text equivalent is printed.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from bot.text import plain_text
from dialogs.core.events import Button, Event, Reply
from dialogs.engine import Engine
from dialogs.pictures.drawings import draw
from knowledge.templates import render

PRESS = re.compile(r"^/(\d+)$")


class Console:
    """One console user talking to the engine; files the bot sends go to `files` (kept in
    memory only when it is None)."""

    def __init__(
        self, engine: Engine, *, user_id: int = 1, name: str = "", lang: str = "zh", jsonl: bool = False, out: TextIO = sys.stdout, files: Path | None = None
    ) -> None:
        self.engine = engine
        self.user_id = user_id
        self.name = name
        self.lang = lang
        self.jsonl = jsonl
        self.out = out
        self.files = files
        self.buttons: list[Button] = []
        self.shown_lang = lang

    def event_for(self, line: str) -> Event:
        """What a typed line means: `/N` presses button N, another /command is a command, anything else is text."""
        base = {"user_id": self.user_id, "chat_id": self.user_id, "name": self.name, "lang_hint": self.lang}
        stripped = line.strip()
        press = PRESS.match(stripped)
        if press:
            return Event(**base, button=self.buttons[int(press.group(1)) - 1].data)
        if stripped.startswith("/") and len(stripped) > 1:
            head, _, args = stripped.partition(" ")
            return Event(**base, command=head[1:].split("@", 1)[0], args=args.strip())
        return Event(**base, text=line)

    def send(self, line: str) -> list[Reply]:
        """Hand one line to the engine and print what the bot answers; `/N` with no button N
        is answered by the console, naming the buttons there are."""
        press = PRESS.match(line.strip())
        if press and not 1 <= int(press.group(1)) <= len(self.buttons):
            self.note("console_no_button", number=int(press.group(1)), count=len(self.buttons))
            return []
        replies = self.engine.handle(self.event_for(line))
        shown = [r for r in replies if r.command_menu is None]
        if any(not r.notice for r in shown):
            self.buttons = [b for reply in shown for row in reply.buttons for b in row]
        if shown:
            self.shown_lang = shown[-1].lang
        number = 0
        for reply in shown:
            text = plain_text(render(reply.lang, reply.key, reply.data))
            saved = self.save(reply.document.filename, reply.document.content) if reply.document is not None else None
            pictured = self.save(reply.picture.filename, draw(reply.picture)) if reply.picture is not None else None
            if self.jsonl:
                record = {"key": reply.key, "text": text, "buttons": [[b.label for b in row] for row in reply.buttons]}
                if reply.document is not None:
                    record["file"] = str(saved) if saved else reply.document.filename
                if reply.picture is not None:
                    record["picture"] = str(pictured) if pictured else reply.picture.filename
                self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
                continue
            if reply.picture is not None:
                self.line("console_picture", reply.lang, name=reply.picture.filename, path=str(pictured or ""))
            self.out.write(text + "\n")
            for row in reply.buttons:
                cells = []
                for b in row:
                    number += 1
                    cells.append(f"[/{number}] {b.label}")
                self.out.write("  ".join(cells) + "\n")
            if reply.document is not None:
                self.line("console_file", reply.lang, name=reply.document.filename, path=str(saved or ""), size=len(reply.document.content))
            if reply.progress_of is not None:
                self.line("console_push_queued", reply.lang)
            self.out.write("\n")
        if number and not self.jsonl:
            self.line("console_buttons", self.shown_lang, count=number)
        self.out.flush()
        return replies

    def save(self, filename: str, content: bytes) -> Path | None:
        """Writes a file or picture the bot sent into the files folder (made if missing); its
        path, or None when the console keeps files in memory."""
        if self.files is None:
            return None
        self.files.mkdir(parents=True, exist_ok=True)
        path = self.files / Path(filename).name
        path.write_bytes(content)
        return path

    def line(self, key: str, lang: str, **data: object) -> None:
        """A line of the console's own (not the bot's), from template `key`."""
        self.out.write(plain_text(render(lang, key, data)) + "\n")

    def note(self, key: str, **data: object) -> None:
        """The console's own answer to a line it did not pass on: a JSON line or a text line."""
        if self.jsonl:
            self.out.write(json.dumps({"key": key, "text": plain_text(render(self.shown_lang, key, data)), "buttons": []}, ensure_ascii=False) + "\n")
        else:
            self.line(key, self.shown_lang, **data)
            self.out.write("\n")
        self.out.flush()

    def run(self, lines: Iterable[str]) -> None:
        """Send lines until end of input."""
        for line in lines:
            self.send(line.rstrip("\n"))

    def run_interactive(self) -> None:
        """Read lines at a `> ` prompt with line editing and history (readline) until Ctrl-D."""
        import readline  # noqa: F401  (importing it gives input() editing and history)

        while True:
            try:
                line = input("> ")
            except EOFError:
                self.out.write("\n")
                return
            self.send(line)
