"""The list of commands each person sees: in /help and in Telegram's command menu."""

from __future__ import annotations

from dialogs.core.context import Ctx
from dialogs.core.events import Reply
from knowledge.copy import copy_text


def described(commands: list[str], lang: str) -> list[tuple[str, str]]:
    """Commands with their one-line descriptions in `lang`."""
    texts = copy_text().commands
    return [(c, texts[c].get(lang)) for c in commands]


def refresh_command_menu(ctx: Ctx, user_id: int, lang: str, roles: set[str]) -> None:
    """Ask the adapter to show `user_id` the commands their roles now allow."""
    ctx.replies.append(Reply("command_menu", lang, chat_id=user_id, command_menu=described(ctx.catalogue.visible(roles), lang)))
