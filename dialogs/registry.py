"""Every dialog kind the bot has, by name and by the command that starts it."""

from __future__ import annotations

from dialogs.base import Dialog
from dialogs.welcome import Welcome

DIALOGS: dict[str, type[Dialog]] = {d.name: d for d in (Welcome,)}
BY_COMMAND: dict[str, type[Dialog]] = {d.command: d for d in DIALOGS.values()}


def menu_dialogs() -> list[type[Dialog]]:
    """Dialogs that appear in the main menu, in menu order."""
    return [d for d in DIALOGS.values() if d.menu_label]
