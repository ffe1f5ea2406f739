"""/push: a trainer sends a quiz to a team (or an admin to everyone), with an optional deadline.

Typed in one go (`/push QUIZ_ID TEAM|all [deadline]`) or picked with buttons. The push
itself only queues one delivery per rep; the bot's sender works the queue.
"""

from __future__ import annotations

from dialogs.core.base import Dialog, Trigger
from dialogs.core.callback import Press
from dialogs.core.events import Button, shorten
from dialogs.core.pushes import ask_target, push_targets, send_push, typed_deadline
from storage.access import teams_of

DEADLINE_CHOICES = ("none", "1d", "3d", "7d")


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
        """At the deadline step the text is the deadline (asked again when it cannot be read);
        elsewhere it is read as the full command, like `/push` with arguments."""
        if self.state != "choosing_deadline":
            self.begin(text)
        elif (deadline := typed_deadline(self.ctx, text)) is None:
            self.ask_deadline()
        else:
            self.push(self.data["quiz_id"], push_targets(self.ctx).get(self.data["target"], ""), deadline)

    def on_press(self, press: Press) -> bool:
        """Quiz, then team, then deadline (the router re-checks the role before every press)."""
        if press.verb == "pq" and self.state == "choosing_quiz" and press.arg in self.ctx.knowledge.quizzes:
            self.data["quiz_id"] = press.arg
            self.pick_quiz()
        elif press.verb == "pt" and self.state == "choosing_target" and press.arg in push_targets(self.ctx):
            self.data["target"] = press.arg
            self.pick_target()
        elif press.verb == "pd" and self.state == "choosing_deadline" and press.arg in DEADLINE_CHOICES:
            self.push(self.data["quiz_id"], push_targets(self.ctx).get(self.data["target"], ""), press.arg)
        else:
            return False
        return True

    def ask_quiz(self) -> None:
        quizzes = self.ctx.knowledge.quizzes
        self.ctx.say("push_pick_quiz", [[Button(shorten(quizzes[q].title.get(self.ctx.lang), 60), f"pq:{q}")] for q in sorted(quizzes)])

    def ask_target(self) -> None:
        if not ask_target(self.ctx, "pt"):
            self.send()

    def ask_deadline(self) -> None:
        self.ctx.say("push_pick_deadline", [[self.ctx.button(f"deadline_{d}", f"pd:{d}") for d in DEADLINE_CHOICES]])

    def push(self, quiz_id: str, target: str, deadline_text: str) -> None:
        """Queues the quiz for the target's reps (dialogs.core.pushes) and closes the dialog."""
        send_push(self.ctx, target, deadline_text, self.ctx.knowledge.quizzes[quiz_id].title.get(self.ctx.lang), quiz_id=quiz_id)
        self.send()
