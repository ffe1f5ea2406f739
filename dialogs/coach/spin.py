"""/spin: the SPIN coach. Situation → Problem → Implication → Need-payoff, one step at a time.

Each step teaches (a short lesson with an example from the knowledge base), then asks the rep
to write a question of that type for customer situations from the lesson's practice items.
Every answer is classified and explained; two misses in a row offer a hint, and the rep may
skip. Progress lives in its own table (`storage.spin_progress`), so /spin resumes where the
rep left off even after /cancel or a restart. Free practice classifies any question typed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dialogs.coach.verdict import kind_name, verdict_data
from dialogs.core.base import Dialog, Trigger
from dialogs.core.callback import Press
from dialogs.understanding.classifier import classify
from knowledge.schema import Lesson, Practice
from storage.learning import record_lesson_read
from storage.models import SpinStep
from storage.reviews import SPIN, missed
from storage.spin_progress import (
    ROUNDS_PER_STEP,
    SPIN_STAGES,
    current_stage,
    finish_round,
    record_try,
    serve,
    step_of,
    steps_of,
    summary_of,
)

MISSES_BEFORE_HINT = 2
ANY_STATE = ["starting", "practising", "free", "finished"]


class SpinCoach(Dialog):
    """Teaches the four SPIN question types and checks the questions the rep writes."""

    name = "spin"
    command = "spin"
    menu_label = "menu_spin"
    states = ANY_STATE
    transitions = [
        {"trigger": "teach", "source": ANY_STATE, "dest": "practising", "after": "show_lesson"},
        {"trigger": "resume", "source": ANY_STATE, "dest": "practising", "after": "show_resume"},
        {"trigger": "next_round", "source": "practising", "dest": "practising", "after": "ask"},
        {"trigger": "finish", "source": ANY_STATE, "dest": "finished", "after": "show_summary"},
        {"trigger": "practise_freely", "source": ANY_STATE, "dest": "free", "after": "invite_free"},
    ]
    teach: Trigger
    resume: Trigger
    next_round: Trigger
    finish: Trigger
    practise_freely: Trigger
    initial = "starting"

    # --- entry points -------------------------------------------------------------

    def begin(self, args: str) -> None:
        """A first /spin introduces the four steps; later ones resume, or show the summary when done."""
        if current_stage(self.ctx.session, self.ctx.user.id) is None:
            self.finish()
        elif not steps_of(self.ctx.session, self.ctx.user.id):
            self.ctx.say(
                "spin_intro", [[self.ctx.button("spin_free", "sp:free")]], steps=[kind_name(s, self.ctx.lang) for s in SPIN_STAGES], rounds=ROUNDS_PER_STEP
            )
            self.teach()
        else:
            self.resume()

    def on_text(self, text: str) -> None:
        """A practice answer is checked; in free practice any question is explained."""
        if self.state == "practising":
            self.check(text)
        elif self.state == "free":
            self.explain_free(text)
        else:
            self.ctx.say("spin_use_buttons")
            self.finish()

    def on_press(self, press: Press) -> bool:
        """Hint, skip, the lesson again, free practice, and back to the steps."""
        if press.verb != "sp":
            return False
        if press.arg == "free":
            self.practise_freely()
        elif press.arg == "back" and self.state == "free":
            self.begin("")
        elif press.arg == "skip" and self.state == "practising":
            self.skip()
        elif press.arg == "hint" and self.state == "practising" and self.row.misses >= MISSES_BEFORE_HINT:
            self.ctx.say("spin_hint", [[self.ctx.button("spin_skip", "sp:skip")]], stage=self.stage)
        elif press.arg == "lesson" and self.state == "practising":
            self.teach()
        else:
            return False
        return True

    # --- where the rep is -----------------------------------------------------------

    @property
    def stage(self) -> str:
        stage = current_stage(self.ctx.session, self.ctx.user.id)
        assert stage is not None
        return stage

    @property
    def row(self) -> SpinStep:
        return step_of(self.ctx.session, self.ctx.user.id, self.stage)

    @property
    def lesson(self) -> Lesson:
        return lesson_for(self.ctx.knowledge.lessons.values(), self.stage)

    @property
    def practice(self) -> Practice:
        lesson, row = self.lesson, self.row
        practice_id = serve(self.ctx.session, row, [p.id for p in lesson.practice], self.ctx.user.id)
        return next(p for p in lesson.practice if p.id == practice_id)

    def step_number(self) -> int:
        return SPIN_STAGES.index(self.stage) + 1

    # --- teaching and asking --------------------------------------------------------

    def show_lesson(self, **_: Any) -> None:
        """The step's short lesson with one example (which one depends on the rep), then the task.
        The rep has read the lesson, so a learning path's step asking for it is met."""
        lesson, lang, row = self.lesson, self.ctx.lang, self.row
        record_lesson_read(self.ctx.session, self.ctx.user.id, lesson.id, self.ctx.now)
        self.ctx.studied = True
        example = lesson.examples[(self.ctx.user.id + row.served) % len(lesson.examples)] if lesson.examples else None
        self.ctx.say(
            "spin_lesson",
            step=self.step_number(),
            steps=len(SPIN_STAGES),
            title=lesson.title.get(lang),
            summary=lesson.summary.get(lang),
            body=lesson.sections[0].body.get(lang),
            example=example.text.get(lang) if example else "",
            note=example.note.get(lang) if example and example.note else "",
        )
        self.ask()

    def show_resume(self, **_: Any) -> None:
        """Welcome back: which step the rep is on, then the situation they were working on."""
        row = self.row
        buttons = [[self.ctx.button("spin_lesson", "sp:lesson"), self.ctx.button("spin_free", "sp:free")]]
        self.ctx.say(
            "spin_resume",
            buttons,
            step=self.step_number(),
            steps=len(SPIN_STAGES),
            stage=kind_name(self.stage, self.ctx.lang),
            done=row.rounds_done,
            rounds=ROUNDS_PER_STEP,
        )
        self.ask()

    def ask(self, **_: Any) -> None:
        """The customer situation of this round and the kind of question to write for it."""
        practice, row = self.practice, self.row
        self.ctx.say(
            "spin_prompt",
            [[self.ctx.button("spin_skip", "sp:skip")]],
            stage=kind_name(self.stage, self.ctx.lang),
            round=row.rounds_done + 1,
            rounds=ROUNDS_PER_STEP,
            situation=practice.situation.get(self.ctx.lang),
        )
        self.mark()

    def mark(self) -> None:
        """Record the turn in the dialog state, so buttons shown before this answer expire."""
        row = self.row
        self.data["turn"] = f"{row.stage}:{row.served}:{row.tries}"

    # --- answers --------------------------------------------------------------------

    def check(self, text: str) -> None:
        """Classifies the rep's question and says whether it is the asked type, why, and a stronger
        example; a miss puts the type into the rep's review queue."""
        stage, lang = self.stage, self.ctx.lang
        practice, lesson, row = self.practice, self.lesson, self.row
        result = classify(text)
        hit = result.is_question and result.spin == stage
        first = record_try(self.ctx.session, row, hit)
        verdict = verdict_data(result, lang)
        if hit:
            self.ctx.say("spin_feedback", hit=True, first=first, asked=kind_name(stage, lang), example=practice.strong_example.get(lang), note="", **verdict)
            finish_round(self.ctx.session, row, self.ctx.now, first_try=first)
            self.move_on(stage)
            return
        missed(self.ctx.session, self.ctx.user.id, SPIN, stage, "spin", self.ctx.now)
        example = lesson.examples[(self.ctx.user.id + row.served + row.tries) % len(lesson.examples)] if lesson.examples else None
        buttons = [[self.ctx.button("spin_skip", "sp:skip")]]
        if row.misses >= MISSES_BEFORE_HINT:
            buttons[0].insert(0, self.ctx.button("spin_hint", "sp:hint"))
        self.ctx.say(
            "spin_feedback",
            buttons,
            hit=False,
            first=first,
            asked=kind_name(stage, lang),
            example=example.text.get(lang) if example else practice.strong_example.get(lang),
            note=example.note.get(lang) if example and example.note else "",
            **verdict,
        )
        self.mark()

    def skip(self) -> None:
        """Skips this situation (it counts as not right first time) and shows a strong question for it."""
        stage, practice = self.stage, self.practice
        self.ctx.say("spin_skipped", asked=kind_name(stage, self.ctx.lang), example=practice.strong_example.get(self.ctx.lang))
        finish_round(self.ctx.session, self.row, self.ctx.now, first_try=False, skipped=True)
        self.move_on(stage)

    def move_on(self, stage: str) -> None:
        """The next situation, the next step's lesson, or the summary after the last step."""
        following = current_stage(self.ctx.session, self.ctx.user.id)
        if following is None:
            self.finish()
        elif following != stage:
            self.teach()
        else:
            self.next_round()

    # --- summary and free practice --------------------------------------------------

    def show_summary(self, **_: Any) -> None:
        """First-try accuracy per question type, and the news that role-plays are unlocked."""
        summary = summary_of(self.ctx.session, self.ctx.user.id)
        rows = [(kind_name(s.stage, self.ctx.lang), s.first_try, s.rounds_done, s.accuracy, s.skipped) for s in summary]
        done = sum(s.rounds_done for s in summary)
        overall = round(100 * sum(s.first_try for s in summary) / done) if done else 0
        buttons = [[self.ctx.button("menu_roleplay", "go:roleplay", is_global=True), self.ctx.button("spin_free", "sp:free")]]
        self.ctx.say("spin_summary", buttons, rows=rows, overall=overall)
        self.data.pop("turn", None)

    def invite_free(self, **_: Any) -> None:
        """Free practice: the rep types any question and gets it classified."""
        self.ctx.say("spin_free_intro", [[self.ctx.button("spin_back", "sp:back")]])

    def explain_free(self, text: str) -> None:
        """The classification of one free-practice question, with its explanation."""
        result = classify(text)
        self.ctx.say("spin_free_verdict", [[self.ctx.button("spin_back", "sp:back")]], text=text[:300], **verdict_data(result, self.ctx.lang))


def lesson_for(lessons: Iterable[Lesson], stage: str) -> Lesson:
    """The SPIN lesson that teaches `stage` and carries practice situations (lowest order first)."""
    fitting = [lesson for lesson in lessons if lesson.topic == "spin" and lesson.spin_stage == stage and lesson.practice]
    return min(fitting, key=lambda lesson: lesson.order)
