"""/review: today's review, one item at a time, and the daily reminder's settings.

Today's items are those FSRS has due by the end of the rep's day (storage/reviews.py). A quiz
item is the missed question again, answered with buttons; a SPIN type or a speech act is a
fresh practice situation, answered by typing a question. Each answer rates the item through
FSRS (right: Good, wrong: Again) and says when it comes back. `/review 09:00` (or the ⏰
button) sets the time of the daily nudge, `/review 22:00-08:00` the quiet hours, `/review off`
stops the nudge.
"""

from __future__ import annotations

from typing import Any

from dialogs.core.base import Dialog, Trigger
from dialogs.core.callback import Press
from dialogs.core.events import Button
from dialogs.review.days import clock, day_ends, in_quiet_hours, local_day, parse_clock, parse_window
from dialogs.review.items import due_today, judge_skill, quiz_question, situation_for
from knowledge.schema import Question
from storage.models import ReviewItem, ReviewReminder
from storage.reviews import ACT, QUIZ, answered, next_due, reminder_of, reviewed_on

LETTERS = "ABCDEFGHIJ"
PRESETS = (8 * 60, 12 * 60 + 30, 18 * 60, 20 * 60)
OFF_WORDS = frozenset({"off", "关", "关闭", "不用"})
ANY_STATE = ["idle", "reviewing", "setting"]


class ReviewDialog(Dialog):
    """Works through the rep's due review items and keeps their reminder settings."""

    name = "review"
    command = "review"
    menu_label = "menu_review"
    states = ANY_STATE
    transitions = [
        {"trigger": "start", "source": ANY_STATE, "dest": "reviewing", "before": "prepare", "after": "ask"},
        {"trigger": "next_item", "source": "reviewing", "dest": "reviewing", "after": "ask"},
        {"trigger": "rest", "source": ANY_STATE, "dest": "idle", "after": "show_rest"},
        {"trigger": "configure", "source": ANY_STATE, "dest": "setting", "after": "show_settings"},
    ]
    start: Trigger
    next_item: Trigger
    rest: Trigger
    configure: Trigger
    initial = "idle"
    stale_notices = {"rva": "quiz_already_answered", "rvk": "quiz_already_answered", "rvu": "quiz_already_answered"}

    # --- entry points -------------------------------------------------------------

    def begin(self, args: str) -> None:
        """`/review` starts today's review (or says when the next one is); with a time, a quiet
        window or "off" it changes the daily reminder."""
        if args.strip():
            self.configure(typed=args.strip())
        elif self.due():
            self.start()
        else:
            self.rest(summary=False)

    def on_text(self, text: str) -> None:
        """A typed question answers a skill item; in the settings a time or a window changes them."""
        if self.state == "reviewing" and self.item.kind != QUIZ:
            self.judge(text)
        elif self.state == "reviewing":
            self.ctx.say("review_use_buttons")
            self.ask()
        else:
            self.configure(typed=text)

    def on_press(self, press: Press) -> bool:
        """Answers a quiz item, starts the review, opens the settings, picks a time or turns it off."""
        if press.verb in ("rva", "rvk", "rvu") and self.state == "reviewing":
            return self.on_option(press)
        if press.verb == "rvs" and self.state != "reviewing":
            self.begin("")
        elif press.verb == "rvr":
            self.configure()
        elif press.verb == "rvt" and self.state == "setting" and press.arg.isdigit() and int(press.arg) in PRESETS:
            self.configure(typed=clock(int(press.arg)))
        elif press.verb == "rvo" and self.state == "setting":
            self.configure(typed="off")
        else:
            return False
        return True

    # --- the queue -----------------------------------------------------------------

    def due(self) -> list[ReviewItem]:
        """Today's items whose content is still there."""
        return due_today(self.ctx.session, self.ctx.knowledge, self.ctx.user.id, day_ends(self.ctx.now, self.ctx.settings.zone))

    @property
    def item(self) -> ReviewItem:
        item = self.ctx.session.get(ReviewItem, self.data["item"])
        assert item is not None
        return item

    def prepare(self) -> None:
        due = self.due()
        self.data.clear()
        self.data.update(item=due[0].id, done=0, right=0, total=len(due), selected=[])

    def ask(self, **_: Any) -> None:
        """The current item: the quiz question with its buttons, or the situation to write a question for."""
        item = self.item
        position = {"number": self.data["done"] + 1, "total": self.data["total"]}
        if item.kind == QUIZ:
            found = quiz_question(self.ctx.knowledge, item.ref)
            assert found is not None
            quiz, question = found
            lang, selected = self.ctx.lang, self.data["selected"]
            options = [(LETTERS[i], o.text.get(lang)) for i, o in enumerate(question.options)]
            picked = [LETTERS[question.option_ids().index(o)] for o in selected]
            self.ctx.say(
                "review_quiz",
                self.option_buttons(item, question),
                title=quiz.title.get(lang),
                text=question.text.get(lang),
                kind=question.kind,
                options=options,
                selected=picked,
                **position,
            )
            return
        situation = situation_for(self.ctx.knowledge, item)
        assert situation is not None
        self.ctx.say("review_skill", kind=item.kind, skill=self.skill_name(item), situation=situation.situation.get(self.ctx.lang), **position)

    def option_buttons(self, item: ReviewItem, question: Question) -> list[list[Button]]:
        """One button per option; for several answers, toggles and a submit button."""
        if question.kind == "multiple":
            selected = self.data["selected"]
            toggles = [Button(("✅ " if o.id in selected else "▫️ ") + LETTERS[i], f"rvk:{item.id}:{o.id}") for i, o in enumerate(question.options)]
            return [toggles, [Button(self.ctx.label("quiz_submit"), f"rvu:{item.id}")]]
        return [[Button(self.option_name(question, oid), f"rva:{item.id}:{oid}") for oid in question.option_ids()]]

    def option_name(self, question: Question, option_id: str) -> str:
        """An option as its button names it: its letter, or True / False."""
        if question.kind == "truefalse":
            return self.ctx.label(f"quiz_{option_id}")
        return LETTERS[question.option_ids().index(option_id)]

    def skill_name(self, item: ReviewItem) -> str:
        """The SPIN type to write, or the speech act to leave out, in the rep's words."""
        return self.ctx.label(f"review_act_{item.ref}" if item.kind == ACT else f"kind_{item.ref}")

    # --- answers --------------------------------------------------------------------

    def on_option(self, press: Press) -> bool:
        """A press on the current quiz item's buttons: toggle, submit, or a single answer."""
        item_id, _, option = press.arg.partition(":")
        item = self.item
        found = quiz_question(self.ctx.knowledge, item.ref)
        if item_id != str(item.id) or found is None:
            return False
        question = found[1]
        if press.verb == "rvk" and option in question.option_ids():
            selected = self.data["selected"]
            self.data["selected"] = [o for o in selected if o != option] if option in selected else sorted([*selected, option])
            self.ask()
            self.ctx.replies[-1].edit = True
        elif press.verb == "rvu" and not self.data["selected"]:
            self.ctx.notice("quiz_select_first")
        elif press.verb == "rvu":
            self.grade_quiz(item, question, list(self.data["selected"]))
        elif press.verb == "rva" and option in question.option_ids() and question.kind != "multiple":
            self.grade_quiz(item, question, [option])
        else:
            return False
        return True

    def grade_quiz(self, item: ReviewItem, question: Question, chosen: list[str]) -> None:
        """Rates the quiz item through FSRS and explains the answer."""
        right = sorted(chosen) == sorted(question.answer)
        lang = self.ctx.lang
        answer = [
            (self.option_name(question, oid), "" if question.kind == "truefalse" else next(o.text.get(lang) for o in question.options if o.id == oid))
            for oid in question.answer
        ]
        self.settle(item, right, "review_quiz_feedback", answer=answer, explanation=question.explanation.get(lang))

    def judge(self, text: str) -> None:
        """Rates a skill item by the question the rep typed, says how it was read, and shows a strong one."""
        item = self.item
        situation = situation_for(self.ctx.knowledge, item)
        assert situation is not None
        judged = judge_skill(item, text)
        verdict = judged.verdict
        found = [self.ctx.label(f"review_act_{act}") for act in judged.acts if act == item.ref]
        self.settle(
            item,
            judged.right,
            "review_skill_feedback",
            kind=item.kind,
            skill=self.skill_name(item),
            is_question=verdict.is_question,
            form=self.ctx.label(f"kind_{verdict.form}") if verdict.is_question else "",
            spin=self.ctx.label(f"kind_{verdict.spin}"),
            found=found,
            example=situation.strong_example.get(self.ctx.lang),
        )

    def settle(self, item: ReviewItem, right: bool, key: str, **data: Any) -> None:
        """FSRS moves the item; the rep hears how it went and when it comes back; then the next item."""
        answered(self.ctx.session, item, right, self.ctx.now)
        zone = self.ctx.settings.zone
        reviewed_on(self.ctx.session, self.ctx.user.id, local_day(self.ctx.now, zone))
        days = (local_day(item.due, zone) - local_day(self.ctx.now, zone)).days
        self.ctx.say(key, right=right, back_on=local_day(item.due, zone).isoformat(), days=days, **data)
        self.data.update(done=self.data["done"] + 1, right=self.data["right"] + int(right), selected=[])
        following = self.due()
        if following:
            self.data["item"] = following[0].id
            self.data["total"] = self.data["done"] + len(following)
            self.next_item()
        else:
            self.rest(summary=True)

    # --- between reviews ------------------------------------------------------------

    def show_rest(self, summary: bool, **_: Any) -> None:
        """Nothing (more) due today: how today went, when the next item is due, and the reminder."""
        coming = next_due(self.ctx.session, self.ctx.user.id)
        reminder = reminder_of(self.ctx.session, self.ctx.user.id)
        buttons = [[self.ctx.button("review_remind", "rvr")]]
        done, right = (self.data.get("done", 0), self.data.get("right", 0)) if summary else (0, 0)
        self.data.clear()
        self.ctx.say(
            "review_rest",
            buttons,
            summary=summary,
            done=done,
            right=right,
            next_on=local_day(coming, self.ctx.settings.zone).isoformat() if coming else "",
            **self.reminder_data(reminder),
        )

    def show_settings(self, typed: str = "", **_: Any) -> None:
        """The reminder's time and quiet hours, with a change typed or picked applied first."""
        reminder = reminder_of(self.ctx.session, self.ctx.user.id)
        outcome = self.apply(reminder, typed) if typed else ""
        presets = [Button(clock(minute), f"rvt:{minute}") for minute in PRESETS]
        buttons = [presets, [self.ctx.button("review_off", "rvo"), self.ctx.button("review_start", "rvs")]]
        self.ctx.say("review_settings", buttons, outcome=outcome, **self.reminder_data(reminder))

    def apply(self, reminder: ReviewReminder, typed: str) -> str:
        """Changes the reminder as typed; what happened: saved, off, quiet (changed), clash, or unclear."""
        window, minute = parse_window(typed), parse_clock(typed)
        if typed.strip().lower() in OFF_WORDS:
            reminder.at_minute = None
            outcome = "off"
        elif window is not None:
            if reminder.at_minute is not None and in_quiet_hours(reminder.at_minute, *window):
                return "clash"
            reminder.quiet_from, reminder.quiet_to = window
            outcome = "quiet"
        elif minute is not None:
            if in_quiet_hours(minute, reminder.quiet_from, reminder.quiet_to):
                return "clash"
            reminder.at_minute = minute
            outcome = "saved"
        else:
            return "unclear"
        self.ctx.session.add(reminder)
        return outcome

    def reminder_data(self, reminder: ReviewReminder) -> dict[str, str]:
        """The reminder as the templates show it."""
        return {
            "remind_at": clock(reminder.at_minute) if reminder.at_minute is not None else "",
            "quiet": f"{clock(reminder.quiet_from)}-{clock(reminder.quiet_to)}",
            "timezone": self.ctx.settings.timezone,
        }
