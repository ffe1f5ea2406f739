"""The list of commands each person sees: in /help and in Telegram's command menu."""

from __future__ import annotations

from dialogs.context import Ctx
from dialogs.events import Reply
from dialogs.permissions import may
from knowledge.copy import copy_text

GLOBAL_COMMANDS = ("start", "help", "menu", "cancel", "lang", "whoami")


def all_commands() -> list[str]:
    """Every command in menu order: the global ones, then each dialog's and action's."""
    from dialogs.registry import ACTIONS, BY_COMMAND

    extra = [c for c in [*BY_COMMAND, *ACTIONS] if c not in GLOBAL_COMMANDS]
    return list(GLOBAL_COMMANDS) + list(dict.fromkeys(extra))


def visible_commands(roles: set[str]) -> list[str]:
    """The commands someone with `roles` may use."""
    return [c for c in all_commands() if may(roles, c)]


def described(commands: list[str], lang: str) -> list[tuple[str, str]]:
    """Commands with their one-line descriptions in `lang`."""
    texts = copy_text().commands
    return [(c, texts[c].get(lang)) for c in commands]


def refresh_command_menu(ctx: Ctx, user_id: int, lang: str, roles: set[str]) -> None:
    """Ask the adapter to show `user_id` the commands their roles now allow."""
    ctx.replies.append(Reply("command_menu", lang, chat_id=user_id, command_menu=described(visible_commands(roles), lang)))
