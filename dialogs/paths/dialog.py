"""/path: a rep's learning paths, each with a progress bar, the next step as a button and what is left.

The next step's button starts it: a lesson opens here (reading it is the step), a drill opens its
script, a quiz or a role-play starts at once. Certificates already earned show their code.
"""

from __future__ import annotations

from typing import Any

from dialogs.core.base import Dialog, Trigger
from dialogs.core.callback import Press
from dialogs.core.context import Ctx
from dialogs.core.events import Button, shorten
from dialogs.paths.certificates import award_certificates
from dialogs.paths.progress import PathProgress, all_progress, step_data
from knowledge.schema_paths import PathStep
from storage.certificates import certificates_of
from storage.learning import evidence_of, paths_assigned_to, record_lesson_read
from storage.models import Certificate

ANY_STATE = ["listing", "reading"]
STARTS = {"drill": "scripts", "quiz": "quiz", "roleplay": "roleplay"}
LABEL_LIMIT = 60


class Paths(Dialog):
    """Shows the rep's paths and starts the next step of any of them."""

    name = "path"
    command = "path"
    menu_label = "menu_path"
    states = ANY_STATE
    transitions = [
        {"trigger": "show", "source": ANY_STATE, "dest": "listing", "after": "show_paths"},
        {"trigger": "read", "source": ANY_STATE, "dest": "reading", "after": "show_lesson"},
    ]
    show: Trigger
    read: Trigger
    initial = "listing"

    def begin(self, args: str) -> None:
        """Awards any certificate now due, then lists the paths."""
        award_certificates(self.ctx)
        self.show()

    def on_text(self, text: str) -> None:
        """Typed text changes nothing here: the paths are shown again, with their buttons."""
        self.ctx.say("path_use_buttons")
        self.show()

    def on_press(self, press: Press) -> bool:
        """Opens a lesson the rep is to read, or goes back to the paths."""
        if press.verb == "pl" and press.arg in self.ctx.knowledge.lessons:
            self.read(lesson_id=press.arg)
        elif press.verb == "pb":
            self.begin("")
        else:
            return False
        return True

    def step_button(self, progress: PathProgress, step: PathStep) -> Button:
        """The button that starts `step`: a lesson opens here, anything else is its command (a global button)."""
        label = shorten(self.ctx.label("path_next").format(path=progress.path.title.get(self.ctx.lang)), LABEL_LIMIT)
        if step.kind == "lesson":
            return Button(label, f"pl:{step.target}")
        return Button(label, f"go:{STARTS[step.kind]}:{step.target}", is_global=True)

    def show_paths(self, **_: Any) -> None:
        """Every path: assigned ones first with their deadline; a bar, the next step, what is left, or the certificate."""
        listed = path_rows(self.ctx)
        buttons = [[self.step_button(item, item.next_step)] for item, _ in listed if item.next_step is not None]
        self.ctx.say("path_list", buttons, paths=[row for _, row in listed])

    def show_lesson(self, lesson_id: str, **_: Any) -> None:
        """The whole lesson; having it in front of them is reading it, so the step is met."""
        lesson, lang = self.ctx.knowledge.lessons[lesson_id], self.ctx.lang
        record_lesson_read(self.ctx.session, self.ctx.user.id, lesson_id, self.ctx.now)
        self.ctx.say(
            "path_lesson",
            [[self.ctx.button("path_back", "pb")]],
            title=lesson.title.get(lang),
            summary=lesson.summary.get(lang),
            sections=[(s.heading.get(lang), s.body.get(lang)) for s in lesson.sections],
            examples=[(e.text.get(lang), e.note.get(lang) if e.note else "") for e in lesson.examples],
            mistakes=[m.get(lang) for m in lesson.mistakes],
        )
        self.ctx.studied = True


def path_rows(ctx: Ctx) -> list[tuple[PathProgress, dict[str, Any]]]:
    """Every path with the rep's progress, assigned ones first, and what /path and /me say of it:
    title, deadline, steps done (and as a percentage), the next step, the ones left, the certificate."""
    session, knowledge, lang = ctx.session, ctx.knowledge, ctx.lang
    assigned = paths_assigned_to(session, ctx.user.id)
    held = certificates_of(session, ctx.user.id)
    progress = sorted(all_progress(knowledge, evidence_of(session, ctx.user.id)), key=lambda p: p.path.id not in assigned)
    rows = []
    for item in progress:
        path, step = item.path, item.next_step
        deadline = assigned.get(path.id)
        row = {
            "title": path.title.get(lang),
            "description": path.description.get(lang),
            "assigned": path.id in assigned,
            "deadline": deadline.strftime("%Y-%m-%d %H:%M") if deadline else "",
            "done": item.done,
            "total": len(path.steps),
            "percent": item.percent,
            "next": step_data(step, knowledge, lang) if step else None,
            "left": [step_data(s, knowledge, lang) for s in path.steps[item.done + 1 :]],
            "certificate": certificate_data(held.get(path.id)),
        }
        rows.append((item, row))
    return rows


def certificate_data(certificate: Certificate | None) -> dict[str, str] | None:
    """A certificate as the path list shows it: its date and code."""
    if certificate is None:
        return None
    return {"date": certificate.issued_at.strftime("%Y-%m-%d"), "code": certificate.code}
