"""Console-side helpers for conversation tests: a user types, the bot's replies come back."""

from __future__ import annotations

import io

from bot.console import Console
from bot.text import plain_text
from dialogs.core.events import Reply
from dialogs.engine import Engine
from knowledge.templates import render


class Chat(Console):
    """A console user whose output is kept in memory."""

    def __init__(self, engine: Engine, user_id: int, name: str = "", lang: str = "zh") -> None:
        super().__init__(engine, user_id=user_id, name=name or f"user{user_id}", lang=lang, jsonl=True, out=io.StringIO())

    def keys(self, line: str) -> list[str]:
        """The template keys of what the bot answers to `line`."""
        return [r.key for r in self.send(line) if r.command_menu is None]

    def text(self, line: str) -> str:
        """Everything the bot answers to `line`, as plain text."""
        return shown(self.send(line))

    def press(self, label: str) -> list[Reply]:
        """Press the button with this label among the latest buttons."""
        for number, button in enumerate(self.buttons, start=1):
            if button.label == label:
                return self.send(f"/{number}")
        raise AssertionError(f"no button {label!r} among {[b.label for b in self.buttons]}")

    def data_of(self, label: str) -> str:
        """The callback data behind a current button (to replay or forge presses)."""
        return next(b.data for b in self.buttons if b.label == label)

    def press_data(self, data: str) -> list[Reply]:
        """Press a button by its raw callback data, as a forged or replayed press would."""
        from dialogs.core.events import Event

        return self.engine.handle(Event(self.user_id, self.user_id, self.name, self.lang, button=data))


def shown(replies: list[Reply]) -> str:
    """The replies as the user reads them."""
    return "\n".join(plain_text(render(r.lang, r.key, r.data)) for r in replies if r.command_menu is None)
