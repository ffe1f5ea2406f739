"""/quiz: reps pick a quiz, answer one question at a time with buttons, and see their score.

In a quiz marked `poll: true`, a question that fits a native quiz poll (knowledge/polls.py) goes
out as one where the transport has them, and a vote in it is the answer. Answers are stored once
per question (the database refuses a second one), so pressing a button twice, or pressing an old
question's button or voting in its poll, never counts double.
"""

from __future__ import annotations

from typing import Any

from dialogs.core.base import Dialog, Trigger
from dialogs.core.callback import Press
from dialogs.core.events import Button, Poll, PollVote, shorten
from knowledge.polls import misfits, poll_text
from knowledge.schema import Question, Quiz
from storage.models import QuizAttempt
from storage.quiz_polls import PollTarget, poll_of
from storage.quizzes import answers_of, best_scores, finish_attempt, pushed_to, record_answer, start_attempt
from storage.reviews import QUIZ, missed, quiz_ref

LETTERS = "ABCDEFGHIJ"


def option_label(question: Question, option_id: str, true_false: dict[str, str]) -> str:
    """How an option is named to the rep: its letter, or True/False."""
    if question.kind == "truefalse":
        return true_false[option_id]
    return LETTERS[question.option_ids().index(option_id)]


class QuizDialog(Dialog):
    """Lists quizzes, asks their questions, explains each answer, and ends with a scorecard."""

    name = "quiz"
    command = "quiz"
    menu_label = "menu_quiz"
    states = ["choosing", "answering", "finished"]
    transitions = [
        {"trigger": "start_quiz", "source": ["choosing", "answering", "finished"], "dest": "answering", "before": "prepare", "after": "ask"},
        {"trigger": "advance", "source": "answering", "dest": "answering", "after": "ask"},
        {"trigger": "finish", "source": "answering", "dest": "finished", "after": "show_result"},
        {"trigger": "browse", "source": ["choosing", "finished"], "dest": "choosing", "after": "show_list"},
    ]
    start_quiz: Trigger
    advance: Trigger
    finish: Trigger
    browse: Trigger
    initial = "choosing"
    stale_notices = {"qa": "quiz_already_answered", "qt": "quiz_already_answered", "qs": "quiz_already_answered"}

    # --- entry points -------------------------------------------------------------

    def begin(self, args: str) -> None:
        """`/quiz` lists the quizzes (mid-quiz it shows the question the rep is on again);
        `/quiz ID` starts that quiz straight away."""
        quiz_id = args.strip()
        if quiz_id and quiz_id in self.ctx.knowledge.quizzes:
            self.start_quiz(quiz_id=quiz_id, mode="full")
            return
        if quiz_id:
            self.ctx.say("quiz_unknown", quiz_id=quiz_id[:40])
        if self.state == "answering":
            self.ctx.say("quiz_resume", title=self.quiz.title.get(self.ctx.lang))
            self.ask()
        else:
            self.browse()

    def on_text(self, text: str) -> None:
        """Typing mid-quiz changes nothing: the rep is shown the question again."""
        if self.state == "answering":
            self.ctx.say("quiz_use_buttons", poll=self.poll() is not None)
            self.ask()
        elif text.strip() in self.ctx.knowledge.quizzes:
            self.start_quiz(quiz_id=text.strip(), mode="full")
        else:
            self.ctx.say("quiz_pick_with_buttons")
            self.browse()

    def on_press(self, press: Press) -> bool:
        """Picks a quiz, answers, toggles and submits options, retakes or reviews mistakes."""
        if press.verb == "qp" and press.arg in self.ctx.knowledge.quizzes and self.state != "answering":
            self.start_quiz(quiz_id=press.arg, mode="full")
        elif press.verb == "qr" and self.state == "finished" and press.arg in ("full", "review"):
            self.start_quiz(quiz_id=self.data["quiz_id"], mode=press.arg)
        elif press.verb in ("qa", "qt", "qs") and self.state == "answering":
            return self.on_answer(press)
        else:
            return False
        return True

    # --- the quiz ----------------------------------------------------------------

    @property
    def quiz(self) -> Quiz:
        return self.ctx.knowledge.quizzes[self.data["quiz_id"]]

    @property
    def question(self) -> Question:
        qid = self.data["order"][self.data["index"]]
        return next(q for q in self.quiz.questions if q.id == qid)

    def prepare(self, quiz_id: str, mode: str) -> None:
        quiz = self.ctx.knowledge.quizzes[quiz_id]
        order = [q.id for q in quiz.questions]
        if mode == "review":
            order = [qid for qid in order if qid in self.data.get("missed", [])] or order
        attempt = start_attempt(self.ctx.session, self.ctx.user.id, quiz_id, order, mode, self.ctx.lang, self.ctx.now)
        self.data.clear()
        self.data.update(quiz_id=quiz_id, attempt_id=attempt.id, order=order, index=0, selected=[], mode=mode)

    def true_false(self) -> dict[str, str]:
        return {"true": self.ctx.label("quiz_true"), "false": self.ctx.label("quiz_false")}

    def poll(self) -> Poll | None:
        """The current question as a native quiz poll, if its quiz is marked `poll: true` and it fits one."""
        question, lang, total = self.question, self.ctx.lang, len(self.data["order"])
        if not self.quiz.poll or misfits(question, total, (lang,)):
            return None
        shown = poll_text(question, lang, self.data["index"] + 1, total)
        target = PollTarget(self.ctx.user.id, self.data["attempt_id"], self.quiz.id, question.id, tuple(question.option_ids()))
        return Poll(shown.question, shown.options, shown.correct, shown.explanation, target)

    def ask(self, edit: bool = False, **_: Any) -> None:
        """Shows the current question with one button per option (toggles for multiple choice);
        a question that can be a quiz poll goes out as one where the transport has them."""
        question, lang = self.question, self.ctx.lang
        tf = self.true_false()
        selected = self.data["selected"]
        buttons: list[list[Button]]
        if question.kind == "multiple":
            toggles = [Button(("✅ " if o.id in selected else "▫️ ") + LETTERS[i], f"qt:{question.id}:{o.id}") for i, o in enumerate(question.options)]
            buttons = [toggles, [Button(self.ctx.label("quiz_submit"), f"qs:{question.id}")]]
        else:
            buttons = [[Button(option_label(question, oid, tf), f"qa:{question.id}:{oid}") for oid in question.option_ids()]]
        options = [(LETTERS[i], o.text.get(lang)) for i, o in enumerate(question.options)]
        self.ctx.say(
            "quiz_question",
            buttons,
            title=self.quiz.title.get(lang),
            number=self.data["index"] + 1,
            total=len(self.data["order"]),
            kind=question.kind,
            text=question.text.get(lang),
            options=options,
            selected=[LETTERS[question.option_ids().index(o)] for o in selected],
        )
        self.ctx.replies[-1].poll = self.poll()
        if edit:
            self.ctx.replies[-1].edit = True

    def on_answer(self, press: Press) -> bool:
        qid, _, option = press.arg.partition(":")
        question = self.question
        if qid != question.id:
            return False
        if press.verb == "qt":
            if option not in question.option_ids():
                return False
            selected = self.data["selected"]
            self.data["selected"] = [o for o in selected if o != option] if option in selected else sorted([*selected, option])
            self.ask(edit=True)
            return True
        if press.verb == "qs":
            if not self.data["selected"]:
                self.ctx.notice("quiz_select_first")
                return True
            chosen = list(self.data["selected"])
        else:
            if option not in question.option_ids() or question.kind == "multiple":
                return False
            chosen = [option]
        self.answer(question, chosen)
        return True

    def on_vote(self, vote: PollVote) -> bool:
        """A vote in the current question's poll is the rep's answer (the poll itself has shown
        whether it was right, and the explanation); the next question follows."""
        poll = poll_of(self.ctx.session, vote.poll_id)
        if self.state != "answering" or poll is None or len(vote.option_ids) != 1:
            return False
        if (poll.user_id, poll.attempt_id, poll.question_id) != (self.ctx.user.id, self.data["attempt_id"], self.question.id):
            return False
        if not 0 <= vote.option_ids[0] < len(poll.option_ids):
            return False
        self.answer(self.question, [poll.option_ids[vote.option_ids[0]]], explain=False)
        return True

    def answer(self, question: Question, chosen: list[str], explain: bool = True) -> None:
        """Records the answer once (a wrong one also goes into the rep's review queue), explains it (unless a poll has), then moves on."""
        correct = sorted(chosen) == sorted(question.answer)
        if not record_answer(self.ctx.session, self.data["attempt_id"], question.id, chosen, correct, self.ctx.now):
            self.ctx.notice("quiz_already_answered")
            return
        if not correct:
            missed(self.ctx.session, self.ctx.user.id, QUIZ, quiz_ref(self.data["quiz_id"], question.id), "quiz", self.ctx.now)
        tf = self.true_false()
        lang = self.ctx.lang
        if explain:
            self.ctx.say(
                "quiz_feedback",
                correct=correct,
                answer=[(option_label(question, oid, tf), self.option_text(question, oid)) for oid in question.answer],
                explanation=question.explanation.get(lang),
            )
        self.data["selected"] = []
        if self.data["index"] + 1 < len(self.data["order"]):
            self.data["index"] += 1
            self.advance()
        else:
            self.finish()

    def option_text(self, question: Question, option_id: str) -> str:
        if question.kind == "truefalse":
            return ""
        return next(o.text.get(self.ctx.lang) for o in question.options if o.id == option_id)

    def show_result(self, **_: Any) -> None:
        """The scorecard: score, pass or fail, and every missed question with its explanation."""
        attempt = self.ctx.session.get(QuizAttempt, self.data["attempt_id"])
        assert attempt is not None
        finish_attempt(self.ctx.session, attempt, self.quiz.pass_mark, self.ctx.now)
        if attempt.mode == "full":
            self.ctx.studied = True
        wrong = {a.question_id for a in answers_of(self.ctx.session, attempt.id or 0) if not a.correct}
        lang, tf = self.ctx.lang, self.true_false()
        missed = [(q.text.get(lang), [option_label(q, oid, tf) for oid in q.answer], q.explanation.get(lang)) for q in self.quiz.questions if q.id in wrong]
        self.data["missed"] = [q.id for q in self.quiz.questions if q.id in wrong]
        buttons = [[self.ctx.button("quiz_retake", "qr:full")]]
        if missed:
            buttons[0].append(self.ctx.button("quiz_review", "qr:review"))
        buttons.append([self.ctx.button("menu_quizzes", "go:quiz", is_global=True)])
        self.ctx.say(
            "quiz_result",
            buttons,
            title=self.quiz.title.get(lang),
            score=attempt.score,
            correct=attempt.correct,
            total=len(attempt.question_ids),
            passed=attempt.passed,
            pass_mark=self.quiz.pass_mark,
            missed=missed,
            review=self.data["mode"] == "review",
        )

    def show_list(self, **_: Any) -> None:
        """Pushed quizzes first (with deadlines), then the open library, each with the best score."""
        session, lang = self.ctx.session, self.ctx.lang
        best = best_scores(session, self.ctx.user.id)
        quizzes = self.ctx.knowledge.quizzes
        pushed: dict[str, Any] = {}
        for assignment in pushed_to(session, self.ctx.user.id):
            if assignment.quiz_id in quizzes and assignment.quiz_id not in pushed:
                pushed[assignment.quiz_id] = assignment.deadline.strftime("%Y-%m-%d %H:%M") if assignment.deadline else ""
        ordered = list(pushed) + [q for q in sorted(quizzes) if q not in pushed]
        rows = [(quizzes[q].title.get(lang), len(quizzes[q].questions), best.get(q), q in pushed, pushed.get(q, "")) for q in ordered]
        buttons = [[Button(shorten(quizzes[q].title.get(lang), 60), f"qp:{q}")] for q in ordered]
        self.ctx.say("quiz_list", buttons, quizzes=rows)
