"""Every dialog kind and one-shot command the bot has, by name and by command."""

from __future__ import annotations

from collections.abc import Callable

from dialogs.coach.scripts import Scripts
from dialogs.coach.spin import SpinCoach
from dialogs.core.base import Dialog
from dialogs.core.catalogue import Catalogue
from dialogs.core.context import Ctx
from dialogs.needs.browser import NeedsBrowser, export
from dialogs.needs.form import NeedForm
from dialogs.needs.mine import MyNeeds
from dialogs.paths.assign import Assign
from dialogs.paths.certificates import verify
from dialogs.paths.dialog import Paths
from dialogs.people.access import audit_log, invite, whoami
from dialogs.people.teams import Teams
from dialogs.people.welcome import Welcome
from dialogs.quiz.push import Push
from dialogs.quiz.taking import QuizDialog
from dialogs.reports.leaderboard import leaderboard
from dialogs.reports.me import me
from dialogs.reports.results import Results
from dialogs.review.dialog import ReviewDialog
from dialogs.roleplay.dialog import RolePlayDialog, end, hint

DIALOGS: dict[str, type[Dialog]] = {
    d.name: d
    for d in (Welcome, SpinCoach, Scripts, RolePlayDialog, QuizDialog, ReviewDialog, NeedForm, MyNeeds, NeedsBrowser, Push, Results, Teams, Paths, Assign)
}
BY_COMMAND: dict[str, type[Dialog]] = {d.command: d for d in DIALOGS.values()}
ACTIONS: dict[str, Callable[[Ctx, str], None]] = {
    "me": me,
    "leaderboard": leaderboard,
    "whoami": whoami,
    "invite": invite,
    "audit": audit_log,
    "hint": hint,
    "end": end,
    "export": export,
    "verify": verify,
}
CATALOGUE = Catalogue.of([*BY_COMMAND, *ACTIONS], [d for d in DIALOGS.values() if d.menu_label])
