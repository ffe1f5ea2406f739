"""Routing an event to the right place: global commands, the active dialog, or the menu."""

from __future__ import annotations

import unicodedata

from dialogs.core.callback import decode
from dialogs.core.commands import described
from dialogs.core.context import Ctx
from dialogs.core.events import PollVote
from dialogs.core.menu import menu_buttons, show_menu
from dialogs.core.permissions import may, open_to_everyone
from dialogs.people.welcome import Welcome
from dialogs.registry import ACTIONS, BY_COMMAND, DIALOGS
from storage.access import audit

MAX_TEXT = 4096


def route(ctx: Ctx) -> None:
    """Handle one event; what the user sees collects in ctx.replies."""
    event = ctx.event
    if event.command is not None:
        on_command(ctx, event.command.lower(), event.args)
    elif event.button is not None:
        on_button(ctx, event.button)
    elif event.vote is not None:
        on_vote(ctx, event.vote)
    else:
        on_text(ctx, event.text or "")


def on_command(ctx: Ctx, command: str, args: str) -> None:
    """/start, /help, /menu, /cancel and /lang work anywhere; others start their dialog.

    A command the user's roles do not allow is refused (and logged), whether it was typed
    or came from a button.
    """
    if command in ctx.catalogue.commands and not may(ctx.roles, command):
        audit(ctx.session, ctx.user.id, f"/{command}", False, "role")
        ctx.say("not_allowed", action=f"/{command}")
    elif command == "start":
        Welcome.drive(ctx, "begin", args)
    elif command == "help":
        ctx.say("help", commands=described(ctx.catalogue.visible(ctx.roles), ctx.lang))
    elif command == "menu":
        show_menu(ctx)
    elif command == "cancel":
        cancel(ctx)
    elif command in BY_COMMAND:
        BY_COMMAND[command].drive(ctx, "begin", args)
    elif command in ACTIONS:
        ACTIONS[command](ctx, args)
    else:
        ctx.say("unknown_command", command=command[:40])


def cancel(ctx: Ctx) -> None:
    """Leaves whatever dialog the user is in; their saved records stay."""
    if ctx.snap.dialog:
        if ctx.snap.dialog in DIALOGS:
            DIALOGS[ctx.snap.dialog].drive(ctx, "on_cancel")
        ctx.snap.clear()
        ctx.say("cancelled", menu_buttons(ctx))
    else:
        ctx.say("nothing_to_cancel", menu_buttons(ctx))


def still_allowed(ctx: Ctx) -> bool:
    """True if the user may still use the active dialog's command.

    If a role was taken away since the dialog opened, the dialog is closed, the user is
    told why (with the menu) and the refusal is audited; the typed text or press does nothing.
    """
    command = DIALOGS[ctx.snap.dialog].command
    if open_to_everyone(command) or may(ctx.roles, command):
        return True
    audit(ctx.session, ctx.user.id, f"/{command}", False, "role revoked while the dialog was open")
    ctx.snap.clear()
    ctx.say("dialog_revoked", menu_buttons(ctx), command=f"/{command}")
    return False


def visible(text: str) -> str:
    """The text without invisible format characters (zero-width spaces and the like)."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()


def on_text(ctx: Ctx, text: str) -> None:
    """Typed text goes to the active dialog; empty or overlong text is refused politely."""
    if len(text) > MAX_TEXT:
        ctx.say("too_long", length=len(text), limit=MAX_TEXT)
        return
    if not visible(text):
        ctx.say("empty_message")
        return
    if ctx.snap.dialog in DIALOGS:
        if still_allowed(ctx):
            DIALOGS[ctx.snap.dialog].drive(ctx, "on_text", text.strip())
    elif not ctx.user.lang:
        Welcome.drive(ctx, "begin", "")
    else:
        ctx.say("not_understood", menu_buttons(ctx))


def on_button(ctx: Ctx, data: str) -> None:
    """A press of a current button does its job; stale or forged ones change nothing."""
    press = decode(data)
    if press is None:
        ctx.notice("button_expired")
        return
    if press.stamp is None:
        command, _, args = press.arg.partition(":")
        if press.verb == "go" and command in ctx.catalogue.commands:
            on_command(ctx, command, args)
        else:
            ctx.notice("button_expired")
        return
    if ctx.snap.dialog in DIALOGS and not still_allowed(ctx):
        return
    dialog = DIALOGS.get(ctx.snap.dialog)
    if dialog is None or press.stamp != ctx.snap.version or not dialog.drive(ctx, "on_press", press):
        notices = [d.stale_notices[press.verb] for d in DIALOGS.values() if press.verb in d.stale_notices]
        ctx.notice(notices[0] if notices else "button_expired")


def on_vote(ctx: Ctx, vote: PollVote) -> None:
    """A vote in the active dialog's current quiz poll counts as the answer; a vote in any other
    poll (an older question, a quiz left or finished) changes nothing, and the user is told so."""
    if ctx.snap.dialog in DIALOGS and not still_allowed(ctx):
        return
    dialog = DIALOGS.get(ctx.snap.dialog)
    if dialog is None or not dialog.drive(ctx, "on_vote", vote):
        ctx.say("poll_expired")
