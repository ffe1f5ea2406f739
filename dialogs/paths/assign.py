"""/assign: a trainer assigns a learning path to a team, like /push.

Typed in one go (`/assign PATH_ID TEAM|all [deadline]`) it goes out at once; otherwise the trainer
picks with buttons: the path, the team, a deadline (or types one), then confirms. Each rep gets an
invitation through the push queue, and a reminder before the deadline if they have no certificate
of the path yet; /path shows them the path first, with its deadline.
"""

from __future__ import annotations

from datetime import datetime

from dialogs.core.base import Dialog, Trigger
from dialogs.core.callback import Press
from dialogs.core.events import Button, shorten
from dialogs.core.pushes import ask_target, parse_deadline, push_targets, send_push, typed_deadline
from storage.access import teams_of
from storage.models import Team

PICKING = ["choosing_path", "choosing_target", "choosing_deadline", "confirming"]
DEADLINES = {"none": "deadline_none", "7d": "assign_1w", "14d": "assign_2w"}
LABEL_LIMIT = 60


class Assign(Dialog):
    """Queues a path's invitation for every rep of the chosen team, then reports progress."""

    name = "assign"
    command = "assign"
    states = [*PICKING, "done"]
    transitions = [
        {"trigger": "restart", "source": PICKING, "dest": "choosing_path", "after": "ask_path"},
        {"trigger": "pick_path", "source": PICKING, "dest": "choosing_target", "after": "ask_team"},
        {"trigger": "pick_target", "source": "choosing_target", "dest": "choosing_deadline", "after": "ask_deadline"},
        {"trigger": "pick_deadline", "source": "choosing_deadline", "dest": "confirming", "after": "ask_confirm"},
        {"trigger": "send", "source": PICKING, "dest": "done"},
    ]
    restart: Trigger
    pick_path: Trigger
    pick_target: Trigger
    pick_deadline: Trigger
    send: Trigger
    initial = "choosing_path"
    final = frozenset({"done"})

    def begin(self, args: str) -> None:
        """With the path and team (or the trainer's only team) the path goes out at once; anything
        missing is picked with buttons, from the path when it is unknown or not given."""
        words = args.split()
        paths = self.ctx.knowledge.paths
        if not words or words[0] not in paths:
            if words:
                self.ctx.say("path_unknown", path_id=words[0][:40], paths=sorted(paths))
            self.restart()
            return
        path_id, target = words[0], words[1] if len(words) > 1 else ""
        if not target:
            own = teams_of(self.ctx.session, self.ctx.user.id)
            if len(own) != 1:
                self.data.clear()
                self.data["path_id"] = path_id
                self.pick_path()
                return
            target = own[0].name
        self.assign(path_id, target, " ".join(words[2:]))

    def on_text(self, text: str) -> None:
        """At the deadline step the text is the deadline; at the confirmation the trainer is asked to
        tap Assign or Cancel, and the choices so far are kept; elsewhere it is read as the full command."""
        if self.state == "confirming":
            self.ctx.say("assign_use_buttons")
            self.ask_confirm()
        elif self.state != "choosing_deadline":
            self.begin(text)
        elif (deadline := typed_deadline(self.ctx, text)) is None:
            self.ask_deadline()
        else:
            self.data["deadline"] = deadline
            self.pick_deadline()

    def on_press(self, press: Press) -> bool:
        """Path, then team, then deadline, then confirm or cancel (the router re-checks the role
        before every press); a press that does not fit the step, or names a team the trainer may
        not reach, is not ours."""
        if press.verb == "ap" and self.state == "choosing_path" and press.arg in self.ctx.knowledge.paths:
            self.data["path_id"] = press.arg
            self.pick_path()
        elif press.verb == "at" and self.state == "choosing_target" and press.arg in push_targets(self.ctx):
            self.data["target"] = press.arg
            self.pick_target()
        elif press.verb == "ad" and self.state == "choosing_deadline" and press.arg in DEADLINES:
            self.data["deadline"] = press.arg
            self.pick_deadline()
        elif press.verb == "ac" and self.state == "confirming":
            self.assign(self.data["path_id"], self.target_name(), self.data["deadline"])
        elif press.verb == "ax" and self.state == "confirming":
            self.ctx.say("assign_cancelled")
            self.send()
        else:
            return False
        return True

    def target_name(self) -> str:
        """The chosen team's name (or "all"), read again: if the trainer has left the team since,
        the push refuses it with the reason."""
        target: str = self.data["target"]
        if target == "all":
            return target
        team = self.ctx.session.get(Team, int(target))
        return team.name if team else ""

    def title(self) -> str:
        """The chosen path's title in the trainer's language."""
        return self.ctx.knowledge.paths[self.data["path_id"]].title.get(self.ctx.lang)

    def ask_path(self) -> None:
        """Step 1: one button per path."""
        paths = sorted(self.ctx.knowledge.paths.values(), key=lambda p: (p.order, p.id))
        self.data.clear()
        self.ctx.say("assign_pick_path", [[Button(shorten(p.title.get(self.ctx.lang), LABEL_LIMIT), f"ap:{p.id}")] for p in paths])

    def ask_team(self) -> None:
        """Step 2: the teams the trainer may assign to (closes the dialog when there are none)."""
        if not ask_target(self.ctx, "at"):
            self.send()

    def ask_deadline(self) -> None:
        """Step 3: no deadline, one week, two weeks, or a typed one."""
        self.ctx.say("assign_pick_deadline", [[self.ctx.button(label, f"ad:{key}") for key, label in DEADLINES.items()]], path=self.title())

    def ask_confirm(self) -> None:
        """Step 4: what will go out, with the deadline as a date, to confirm or cancel."""
        target = self.target_name()
        deadline = parse_deadline(self.data["deadline"], self.ctx.now)
        self.ctx.say(
            "assign_confirm",
            [[self.ctx.button("assign_send", "ac"), self.ctx.button("assign_cancel", "ax")]],
            path=self.title(),
            target=self.ctx.label("push_all") if target == "all" else target,
            deadline=deadline.strftime("%Y-%m-%d %H:%M") if isinstance(deadline, datetime) else "",
        )

    def assign(self, path_id: str, target: str, deadline_text: str) -> None:
        """Queues the path for the target's reps (dialogs.core.pushes) and closes the dialog."""
        send_push(self.ctx, target, deadline_text, self.ctx.knowledge.paths[path_id].title.get(self.ctx.lang), path_id=path_id)
        self.send()
