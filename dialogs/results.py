"""/results QUIZ_ID: completion, scores and the questions most people miss, plus exports."""

from __future__ import annotations

from dialogs.base import Dialog
from dialogs.callback import Press
from dialogs.events import Button, Document
from storage.access import member_ids, teams_of
from storage.quiz_results import results_file, summarize

FORMATS = ("csv", "xlsx", "jsonl")


class Results(Dialog):
    """Shows one quiz's results for the people the viewer looks after; exports them as files."""

    name = "results"
    command = "results"
    states = ["viewing"]
    transitions = [{"trigger": "view", "source": "viewing", "dest": "viewing", "after": "show"}]
    initial = "viewing"

    def scope(self) -> set[int] | None:
        """Admins see everyone; trainers and managers see the members of their teams."""
        if "admin" in self.ctx.roles:
            return None
        return {uid for team in teams_of(self.ctx.session, self.ctx.user.id) for uid in member_ids(self.ctx.session, team.id or 0)}

    def begin(self, args: str) -> None:
        """With a quiz id shows its results; without, lists the quizzes to pick from."""
        quiz_id = args.strip()
        if quiz_id in self.ctx.knowledge.quizzes:
            self.data["quiz_id"] = quiz_id
            self.view()
            return
        if quiz_id:
            self.ctx.say("quiz_unknown", quiz_id=quiz_id[:40])
        quizzes = self.ctx.knowledge.quizzes
        self.ctx.say("results_pick", [[Button(quizzes[q].title.get(self.ctx.lang)[:60], f"rq:{q}")] for q in sorted(quizzes)])

    def on_text(self, text: str) -> None:
        """A typed quiz id shows that quiz's results."""
        self.begin(text)

    def on_press(self, press: Press) -> bool:
        """Pick a quiz or export its results; the role is checked again on every press."""
        if press.verb not in ("rq", "rx"):
            return False
        if not self.ctx.allowed("/results", "trainer", "manager", "admin"):
            return True
        if press.verb == "rq" and press.arg in self.ctx.knowledge.quizzes:
            self.data["quiz_id"] = press.arg
            self.view()
        elif press.verb == "rx" and press.arg in FORMATS and "quiz_id" in self.data:
            self.export(press.arg)
        else:
            return False
        return True

    def show(self) -> None:
        quiz = self.ctx.knowledge.quizzes[self.data["quiz_id"]]
        summary = summarize(self.ctx.session, quiz.id, self.scope())
        texts = {q.id: q.text.get(self.ctx.lang) for q in quiz.questions}
        letters = {q.id: {o.id: chr(65 + i) for i, o in enumerate(q.options)} | {"true": "✔", "false": "✘"} for q in quiz.questions}
        missed = [(texts.get(qid, qid), count, ",".join(letters.get(qid, {}).get(c, c) for c in (choice or "").split(","))) for qid, count, choice in summary.missed]
        buttons = [[self.ctx.button(f"export_{f}", f"rx:{f}") for f in FORMATS]]
        self.ctx.say(
            "results",
            buttons,
            title=quiz.title.get(self.ctx.lang),
            population=summary.population,
            started=summary.started,
            finished=summary.finished,
            not_started=summary.population - summary.started,
            average=summary.average,
            median=summary.median,
            pass_rate=summary.pass_rate,
            distribution=summary.distribution(),
            missed=missed,
        )

    def export(self, fmt: str) -> None:
        """Sends the results of the quiz as a file (jsonl follows the xAPI statement shape)."""
        quiz_id = self.data["quiz_id"]
        content = results_file(self.ctx.session, fmt, quiz_id, self.scope())
        self.ctx.say("results_export", quiz_id=quiz_id, fmt=fmt)
        self.ctx.replies[-1].document = Document(f"{quiz_id}-results.{fmt}", content)
