"""/results QUIZ_OR_SCENARIO: quiz completion, scores and the questions most people miss; role-play scores,
outcomes, the needs most reps miss and the lines the customer most often did not understand; plus exports."""

from __future__ import annotations

import io

from dialogs.core.base import Dialog, Trigger
from dialogs.core.callback import Press
from dialogs.core.events import Button, Document, shorten
from dialogs.pictures import charts
from dialogs.quiz.taking import option_label
from dialogs.roleplay.dialog import in_list_order
from dialogs.roleplay.scorecard import outcome_label
from storage.access import member_ids, teams_of
from storage.quiz_results import results_file, summarize
from storage.roleplay_tallies import roleplay_results, unmatched_lines
from storage.roleplays import write_roleplays

FORMATS = ("csv", "xlsx", "jsonl")
ROLEPLAY_FORMATS = ("csv", "jsonl")
TRUE_FALSE_MARKS = {"true": "✔", "false": "✘"}
MOST_MISSED = 5
REPS_SHOWN = 20
UNMATCHED_SHOWN = 10
UNMATCHED_WIDTH = 120  # characters of each line the customer did not understand; the export has them whole


class Results(Dialog):
    """Shows one quiz's or role-play's results for the people the viewer looks after; exports them as files."""

    name = "results"
    command = "results"
    states = ["viewing"]
    transitions = [{"trigger": "view", "source": "viewing", "dest": "viewing", "after": "show"}]
    view: Trigger
    initial = "viewing"

    def scope(self) -> set[int] | None:
        """Admins see everyone; trainers and managers see the members of their teams."""
        if "admin" in self.ctx.roles:
            return None
        return {uid for team in teams_of(self.ctx.session, self.ctx.user.id) for uid in member_ids(self.ctx.session, team.id or 0)}

    def begin(self, args: str) -> None:
        """With a quiz or scenario id shows its results; without, lists quizzes and role-plays to pick from."""
        wanted = args.strip()
        if wanted in self.ctx.knowledge.quizzes or wanted in self.ctx.knowledge.scenarios:
            self.pick("quiz_id" if wanted in self.ctx.knowledge.quizzes else "scenario_id", wanted)
            return
        if wanted:
            self.ctx.say("results_unknown", item_id=wanted[:40])
        lang = self.ctx.lang
        quizzes, scenarios = self.ctx.knowledge.quizzes, self.ctx.knowledge.scenarios
        buttons = [[Button("📝 " + shorten(quizzes[q].title.get(lang), 58), f"rq:{q}")] for q in sorted(quizzes)]
        buttons += [[Button("🎭 " + shorten(sc.title.get(lang), 58), f"rr:{sc.id}")] for sc in in_list_order(scenarios.values())]
        self.ctx.say("results_pick", buttons)

    def pick(self, key: str, item_id: str) -> None:
        self.data.clear()
        self.data[key] = item_id
        self.view()

    def on_text(self, text: str) -> None:
        """A typed quiz id shows that quiz's results."""
        self.begin(text)

    def on_press(self, press: Press) -> bool:
        """Pick a quiz or export its results (the router re-checks the role before every press)."""
        if press.verb not in ("rq", "rr", "rx"):
            return False
        if press.verb == "rq" and press.arg in self.ctx.knowledge.quizzes:
            self.pick("quiz_id", press.arg)
        elif press.verb == "rr" and press.arg in self.ctx.knowledge.scenarios:
            self.pick("scenario_id", press.arg)
        elif press.verb == "rx" and press.arg in FORMATS and "quiz_id" in self.data:
            self.export(press.arg)
        elif press.verb == "rx" and press.arg in ROLEPLAY_FORMATS and "scenario_id" in self.data:
            self.export_roleplays(press.arg)
        else:
            return False
        return True

    def show(self) -> None:
        if "scenario_id" in self.data:
            self.show_roleplays()
            return
        quiz = self.ctx.knowledge.quizzes[self.data["quiz_id"]]
        summary = summarize(self.ctx.session, quiz.id, self.scope())
        questions = {q.id: q for q in quiz.questions}
        missed = [
            (
                questions[qid].text.get(self.ctx.lang),
                count,
                ",".join(option_label(questions[qid], c, TRUE_FALSE_MARKS) for c in (choice or "").split(",") if c in questions[qid].option_ids()),
            )
            for qid, count, choice in summary.missed
            if qid in questions
        ]
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
        if summary.scores:
            bands = [band for band in charts.score_bands(summary.scores) if band[1]]
            self.ctx.show(
                "results_chart",
                f"{quiz.id}-scores.png",
                "quiz_scores",
                {"title": quiz.title.get(self.ctx.lang), "scores": list(summary.scores), "pass_mark": quiz.pass_mark, "lang": self.ctx.lang},
                finished=summary.finished,
                pass_mark=quiz.pass_mark,
                passed=summary.passed,
                bands=bands,
            )

    def export(self, fmt: str) -> None:
        """Sends the results of the quiz as a file (jsonl follows the xAPI statement shape)."""
        quiz_id = self.data["quiz_id"]
        content, _ = results_file(self.ctx.session, fmt, quiz_id, self.scope(), self.ctx.settings.xapi_base_url)
        self.ctx.say("results_export", quiz_id=quiz_id, fmt=fmt)
        self.ctx.replies[-1].document = Document(f"{quiz_id}-results.{fmt}", content)

    def show_roleplays(self) -> None:
        """A scenario's role-plays: who played, best scores, how they ended, the needs most reps missed and
        the lines the customer most often did not understand, with the states they were said in."""
        lang = self.ctx.lang
        sc = self.ctx.knowledge.scenarios[self.data["scenario_id"]]
        scope = self.scope()
        reps_in_scope = None if scope is None else scope - {self.ctx.user.id}
        results = roleplay_results(self.ctx.session, sc.id, reps_in_scope)
        unmatched = [
            (shorten(line.text, UNMATCHED_WIDTH), line.count, line.states.most_common())
            for line in unmatched_lines(self.ctx.session, sc.id, reps_in_scope, UNMATCHED_SHOWN)
        ]
        needs = [f for f in sc.facts if f.kind != "info"]
        missed = sorted(((f.label.get(lang), results.played - results.uncovered[f.id]) for f in needs), key=lambda m: -m[1])
        outcomes = [(outcome_label(sc, outcome, lang), count) for outcome, count in results.outcomes.most_common()]
        reps = sorted(((self.ctx.person(results.names[uid], uid), best) for uid, best in results.best.items()), key=lambda r: (-r[1], r[0]))
        buttons = [[self.ctx.button("export_csv", "rx:csv"), self.ctx.button("export_json_lines", "rx:jsonl")]]
        self.ctx.say(
            "results_roleplay",
            buttons,
            title=sc.title.get(lang),
            reps=results.reps,
            players=len(results.best),
            played=results.played,
            average=results.average,
            median=results.median,
            outcomes=outcomes,
            missed=[m for m in missed if m[1] > 0][:MOST_MISSED],
            best=reps[:REPS_SHOWN],
            more=max(0, len(reps) - REPS_SHOWN),
            unmatched=unmatched,
        )
        if results.best:
            best = list(results.best.values())
            bands = [band for band in charts.score_bands(best) if band[1]]
            self.ctx.show(
                "results_roleplay_chart",
                f"{sc.id}-roleplays.png",
                "roleplay_results",
                {"title": sc.title.get(lang), "outcomes": [list(outcome) for outcome in outcomes], "best": best, "lang": lang},
                outcomes=outcomes,
                players=len(best),
                bands=bands,
            )

    def export_roleplays(self, fmt: str) -> None:
        """Sends the scenario's finished role-plays, with their transcripts, as a file."""
        scenario_id = self.data["scenario_id"]
        out = io.BytesIO()
        write_roleplays(self.ctx.session, fmt, out, scenario_id, self.scope())
        self.ctx.say("results_export", quiz_id=scenario_id, fmt=fmt)
        self.ctx.replies[-1].document = Document(f"{scenario_id}-roleplays.{fmt}", out.getvalue())
