"""Every dialog kind and one-shot command the bot has, by name and by command."""

from __future__ import annotations

from collections.abc import Callable

from dialogs.access import audit_log, invite, whoami
from dialogs.base import Dialog
from dialogs.context import Ctx
from dialogs.history import me
from dialogs.my_needs import MyNeeds
from dialogs.need_form import NeedForm
from dialogs.needs_browser import NeedsBrowser, export
from dialogs.push import Push
from dialogs.quiz import QuizDialog
from dialogs.results import Results
from dialogs.roleplay import RolePlayDialog, end, hint
from dialogs.scripts import Scripts
from dialogs.spin import SpinCoach
from dialogs.teams import Teams
from dialogs.welcome import Welcome

DIALOGS: dict[str, type[Dialog]] = {
    d.name: d for d in (Welcome, SpinCoach, Scripts, RolePlayDialog, QuizDialog, NeedForm, MyNeeds, NeedsBrowser, Push, Results, Teams)
}
BY_COMMAND: dict[str, type[Dialog]] = {d.command: d for d in DIALOGS.values()}
ACTIONS: dict[str, Callable[[Ctx, str], None]] = {"me": me, "whoami": whoami, "invite": invite, "audit": audit_log, "hint": hint, "end": end, "export": export}


def menu_dialogs() -> list[type[Dialog]]:
    """Dialogs that appear in the main menu, in menu order."""
    return [d for d in DIALOGS.values() if d.menu_label]
