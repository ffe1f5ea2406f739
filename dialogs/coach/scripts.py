"""/scripts: SPIN questioning scripts by industry, to read and to drill.

Reading shows a script's ordered S → P → I → N questions, what each is for, and the customer
answer that leads to the next. In a drill the bot plays the customer: the rep types each next
question, the classifier checks it is the script's stage, and the script's own question is
shown for comparison before the customer answers and the drill moves on.
"""

from __future__ import annotations

from typing import Any

from dialogs.coach.verdict import kind_name, verdict_data
from dialogs.core.base import Dialog, Trigger
from dialogs.core.callback import Press
from dialogs.core.events import Button, shorten
from dialogs.understanding.classifier import classify
from knowledge.schema import Script
from storage.learning import record_drill
from storage.reviews import SPIN, missed

ANY_STATE = ["listing", "reading", "drilling", "drilled"]


class Scripts(Dialog):
    """Lists the scripts, shows one, and drills the rep on it."""

    name = "scripts"
    command = "scripts"
    menu_label = "menu_scripts"
    states = ANY_STATE
    transitions = [
        {"trigger": "browse", "source": ANY_STATE, "dest": "listing", "after": "show_list"},
        {"trigger": "read", "source": ANY_STATE, "dest": "reading", "before": "choose", "after": "show_script"},
        {"trigger": "drill", "source": ["reading", "drilled"], "dest": "drilling", "before": "prepare_drill", "after": "prompt"},
        {"trigger": "advance", "source": "drilling", "dest": "drilling", "after": "prompt"},
        {"trigger": "finish", "source": "drilling", "dest": "drilled", "after": "show_drill_result"},
    ]
    browse: Trigger
    read: Trigger
    drill: Trigger
    advance: Trigger
    finish: Trigger
    initial = "listing"

    # --- entry points -------------------------------------------------------------

    def begin(self, args: str) -> None:
        """`/scripts` lists the industries; `/scripts ID` opens that script."""
        script_id = args.strip()
        if script_id in self.ctx.knowledge.scripts:
            self.read(script_id=script_id)
            return
        if script_id:
            self.ctx.say("scripts_unknown", script_id=script_id[:40])
        self.browse()

    def on_text(self, text: str) -> None:
        """In a drill the text is the rep's next question; elsewhere the rep is pointed to the buttons."""
        if self.state == "drilling":
            self.check(text)
        elif text.strip() in self.ctx.knowledge.scripts:
            self.read(script_id=text.strip())
        else:
            self.ctx.say("scripts_use_buttons")
            self.browse()

    def on_press(self, press: Press) -> bool:
        """Opens a script, starts (or restarts) a drill, or goes back to the list."""
        if press.verb == "sc" and press.arg in self.ctx.knowledge.scripts:
            self.read(script_id=press.arg)
        elif press.verb == "scd" and self.state in ("reading", "drilled") and "script_id" in self.data:
            self.drill()
        elif press.verb == "scl":
            self.browse()
        else:
            return False
        return True

    # --- browsing -------------------------------------------------------------------

    @property
    def script(self) -> Script:
        return self.ctx.knowledge.scripts[self.data["script_id"]]

    def choose(self, script_id: str) -> None:
        self.data.clear()
        self.data["script_id"] = script_id

    def show_list(self, **_: Any) -> None:
        """One button per industry."""
        scripts = self.ctx.knowledge.scripts
        lang = self.ctx.lang
        rows = [(scripts[s].industry.get(lang), len(scripts[s].steps)) for s in sorted(scripts)]
        buttons = [[Button(shorten(scripts[s].industry.get(lang), 60), f"sc:{s}")] for s in sorted(scripts)]
        self.data.clear()
        self.ctx.say("scripts_list", buttons, scripts=rows)

    def show_script(self, **_: Any) -> None:
        """The whole script: the customer, then each question with its purpose and the answer it gets."""
        script, lang = self.script, self.ctx.lang
        steps = [(kind_name(s.stage, lang), s.question.get(lang), s.purpose.get(lang), s.customer_answer.get(lang)) for s in script.steps]
        buttons = [[self.ctx.button("scripts_drill", "scd"), self.ctx.button("scripts_all", "scl")]]
        self.ctx.say("scripts_show", buttons, industry=script.industry.get(lang), customer=script.customer.get(lang), steps=steps)

    # --- drilling -------------------------------------------------------------------

    def prepare_drill(self) -> None:
        self.data.update(index=0, right=0)

    def prompt(self, **_: Any) -> None:
        """The customer's last answer (or who the customer is), and which stage the next question is."""
        script, lang, index = self.script, self.ctx.lang, self.data["index"]
        step = script.steps[index]
        self.ctx.say(
            "scripts_drill_prompt",
            industry=script.industry.get(lang),
            customer=script.customer.get(lang) if index == 0 else "",
            answer=script.steps[index - 1].customer_answer.get(lang) if index else "",
            number=index + 1,
            total=len(script.steps),
            stage=kind_name(step.stage, lang),
        )

    def check(self, text: str) -> None:
        """Says whether the rep's question is at the script's stage (a miss goes into the review
        queue), shows the script's question, moves on."""
        script, lang, index = self.script, self.ctx.lang, self.data["index"]
        step = script.steps[index]
        result = classify(text)
        hit = result.is_question and result.spin == step.stage
        self.data["right"] += int(hit)
        if not hit:
            missed(self.ctx.session, self.ctx.user.id, SPIN, step.stage, "scripts", self.ctx.now)
        self.ctx.say(
            "scripts_drill_feedback",
            hit=hit,
            asked=kind_name(step.stage, lang),
            question=step.question.get(lang),
            purpose=step.purpose.get(lang),
            **verdict_data(result, lang),
        )
        self.data["index"] = index + 1
        if self.data["index"] < len(script.steps):
            self.advance()
        else:
            self.finish()

    def show_drill_result(self, **_: Any) -> None:
        """The customer's last answer and how many questions were at the right stage (recorded: a path may ask for a drill)."""
        script, lang = self.script, self.ctx.lang
        record_drill(self.ctx.session, self.ctx.user.id, script.id, self.data["right"], self.ctx.now)
        self.ctx.studied = True
        buttons = [[self.ctx.button("scripts_again", "scd"), self.ctx.button("scripts_all", "scl")]]
        self.ctx.say(
            "scripts_drill_result",
            buttons,
            answer=script.steps[-1].customer_answer.get(lang),
            right=self.data["right"],
            total=len(script.steps),
        )
