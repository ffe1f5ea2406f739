"""What the bot offers: every command in menu order and the dialogs its main menu lists.

The registry (the composition root) builds the one catalogue and the engine hands it to each
event's context, so `core` can list commands and draw the menu without importing a feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from dialogs.core.permissions import may

GLOBAL_COMMANDS = ("start", "help", "menu", "cancel", "lang", "whoami")


class MenuEntry(Protocol):
    """A dialog as the main menu sees it: its command, its label, and whether to show it now."""

    command: str
    menu_label: str | None

    def in_menu(self, ctx: Any) -> bool:
        """True if the menu offers this dialog to the user of `ctx`."""
        ...


@dataclass(frozen=True)
class Catalogue:
    """The commands (global ones first) and the menu's dialogs, in the order users see them."""

    commands: tuple[str, ...] = GLOBAL_COMMANDS
    menu: tuple[Any, ...] = ()

    @classmethod
    def of(cls, commands: list[str], menu: list[Any]) -> Catalogue:
        """The catalogue for these feature commands and menu dialogs; global commands come first."""
        extra = [c for c in commands if c not in GLOBAL_COMMANDS]
        return cls(GLOBAL_COMMANDS + tuple(dict.fromkeys(extra)), tuple(menu))

    def visible(self, roles: set[str]) -> list[str]:
        """The commands someone with `roles` may use."""
        return [c for c in self.commands if may(roles, c)]
