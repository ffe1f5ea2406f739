"""The main menu: one global button per dialog a user can start, plus language and help."""

from __future__ import annotations

from dialogs.core.context import Ctx
from dialogs.core.events import Button
from dialogs.core.permissions import may


def menu_buttons(ctx: Ctx) -> list[list[Button]]:
    """Menu entries stay valid forever, so they are global buttons that act like commands;
    each person sees only the dialogs their roles allow."""
    entries = [
        ctx.button(d.menu_label, f"go:{d.command}", is_global=True) for d in ctx.catalogue.menu if d.menu_label and may(ctx.roles, d.command) and d.in_menu(ctx)
    ]
    entries += [ctx.button("menu_lang", "go:lang", is_global=True), ctx.button("menu_help", "go:help", is_global=True)]
    return [entries[i : i + 2] for i in range(0, len(entries), 2)]


def show_menu(ctx: Ctx) -> None:
    """Shows the main menu."""
    ctx.say("menu", menu_buttons(ctx))
