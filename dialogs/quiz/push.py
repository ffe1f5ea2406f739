"""/push: a trainer sends a quiz to a team (or an admin to everyone), with an optional deadline.

Typed in one go (`/push QUIZ_ID TEAM|all [deadline]`) or picked with buttons. The push
itself only queues one delivery per rep; the bot's sender works the queue.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from dialogs.core.base import Dialog, Trigger
from dialogs.core.callback import Press
from dialogs.core.events import Button, shorten
from storage.access import all_teams, audit, member_ids, not_started, team_by_name, teams_of
from storage.deliveries import create_push
from storage.models import Team, User

DEADLINE_CHOICES = ("none", "1d", "3d", "7d")
_RELATIVE = re.compile(r"^(\d{1,3})([dh])$")


def parse_deadline(text: str, now: datetime) -> datetime | None | str:
    """A deadline from `3d`, `12h`, `2026-12-01` or `2026-12-01 18:00` (UTC); "bad" if unreadable."""
    text = text.strip().lower()
    if text in ("", "none"):
        return None
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        return now + (timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            moment = datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        if fmt == "%Y-%m-%d":
            moment = moment.replace(hour=23, minute=59)
        return moment if moment > now else "bad"
    return "bad"


class Push(Dialog):
    """Queues a quiz invitation for every rep of the chosen team, then reports progress."""

    name = "push"
    command = "push"
    states = ["choosing_quiz", "choosing_target", "choosing_deadline", "done"]
    transitions = [
        {"trigger": "restart", "source": ["choosing_quiz", "choosing_target", "choosing_deadline"], "dest": "choosing_quiz", "after": "ask_quiz"},
        {"trigger": "pick_quiz", "source": "choosing_quiz", "dest": "choosing_target", "after": "ask_target"},
        {"trigger": "pick_target", "source": "choosing_target", "dest": "choosing_deadline", "after": "ask_deadline"},
        {"trigger": "send", "source": ["choosing_quiz", "choosing_target", "choosing_deadline"], "dest": "done"},
    ]
    restart: Trigger
    pick_quiz: Trigger
    pick_target: Trigger
    send: Trigger
    initial = "choosing_quiz"
    final = frozenset({"done"})

    def begin(self, args: str) -> None:
        """With arguments the push goes out at once; without, the trainer picks with buttons
        (from the quiz again, also when /push comes mid-way)."""
        words = args.split()
        if not words:
            self.restart()
            return
        quiz_id, target = words[0], words[1] if len(words) > 1 else ""
        if quiz_id not in self.ctx.knowledge.quizzes:
            self.ctx.say("quiz_unknown", quiz_id=quiz_id[:40])
            self.ctx.say("push_usage")
            self.send()
            return
        if not target:
            own = teams_of(self.ctx.session, self.ctx.user.id)
            if len(own) != 1:
                self.ctx.say("push_usage")
                self.send()
                return
            target = own[0].name
        self.push(quiz_id, target, " ".join(words[2:]))

    def on_text(self, text: str) -> None:
        """Typing while picking: read as the full command, like `/push` with arguments."""
        self.begin(text)

    def on_press(self, press: Press) -> bool:
        """Quiz, then team, then deadline (the router re-checks the role before every press)."""
        if press.verb == "pq" and self.state == "choosing_quiz" and press.arg in self.ctx.knowledge.quizzes:
            self.data["quiz_id"] = press.arg
            self.pick_quiz()
        elif press.verb == "pt" and self.state == "choosing_target" and press.arg in self.targets():
            self.data["target"] = press.arg
            self.pick_target()
        elif press.verb == "pd" and self.state == "choosing_deadline" and press.arg in DEADLINE_CHOICES:
            self.push(self.data["quiz_id"], self.targets().get(self.data["target"], ""), press.arg)
        else:
            return False
        return True

    def targets(self) -> dict[str, str]:
        """The teams this person may push to, by id (the buttons carry ids, never names), with
        their names; admins also get "all"."""
        if "admin" in self.ctx.roles:
            return {str(t.id): t.name for t in all_teams(self.ctx.session)} | {"all": "all"}
        return {str(t.id): t.name for t in teams_of(self.ctx.session, self.ctx.user.id)}

    def ask_quiz(self) -> None:
        quizzes = self.ctx.knowledge.quizzes
        self.ctx.say("push_pick_quiz", [[Button(shorten(quizzes[q].title.get(self.ctx.lang), 60), f"pq:{q}")] for q in sorted(quizzes)])

    def ask_target(self) -> None:
        targets = self.targets()
        if not targets:
            self.ctx.say("push_no_team")
            self.send()
            return
        self.ctx.say("push_pick_target", [[Button(self.ctx.label("push_all") if key == "all" else name, f"pt:{key}")] for key, name in targets.items()])

    def ask_deadline(self) -> None:
        self.ctx.say("push_pick_deadline", [[self.ctx.button(f"deadline_{d}", f"pd:{d}") for d in DEADLINE_CHOICES]])

    def push(self, quiz_id: str, target: str, deadline_text: str) -> None:
        """Checks the target and deadline, queues the deliveries and starts the progress message."""
        session, me = self.ctx.session, self.ctx.user.id
        deadline = parse_deadline(deadline_text, datetime.now(UTC))
        if deadline == "bad":
            self.ctx.say("push_bad_deadline", text=deadline_text[:40])
            self.send()
            return
        team: Team | None = None
        if target == "all":
            if "admin" not in self.ctx.roles:
                audit(session, me, "/push", False, f"all quiz={quiz_id}")
                self.ctx.say("push_all_admin_only")
                self.send()
                return
            users = [uid for uid in session.exec(select(User.id)).all() if uid != me]
        else:
            team = team_by_name(session, target)
            if team is None:
                self.ctx.say("team_unknown", team=target[:60])
                self.send()
                return
            if "admin" not in self.ctx.roles and team.id not in {t.id for t in teams_of(session, me)}:
                audit(session, me, "/push", False, f"team={target} quiz={quiz_id}")
                self.ctx.say("push_own_teams_only")
                self.send()
                return
            users = [uid for uid in member_ids(session, team.id or 0) if uid != me]
        if not users:
            self.ctx.say("push_no_targets", target=target)
            self.send()
            return
        assignment = create_push(session, quiz_id, me, team.id if team else None, deadline if isinstance(deadline, datetime) else None, users)
        audit(session, me, "/push", True, f"quiz={quiz_id} target={target} reps={len(users)}")
        quiz = self.ctx.knowledge.quizzes[quiz_id]
        self.ctx.say(
            "push_progress",
            title=quiz.title.get(self.ctx.lang),
            target=target,
            done=0,
            total=len(users),
            deadline=deadline.strftime("%Y-%m-%d %H:%M") if isinstance(deadline, datetime) else "",
            pending=len(not_started(session, users)),
        )
        self.ctx.replies[-1].progress_of = assignment.id
        self.send()
