"""/roleplay: the bot plays a customer from the knowledge base, the rep plays the seller.

The rep types freely (zh or en) or taps a suggested move; every message is classified and
played against the scenario's customer machine (`dialogs.roleplay.customer`). /hint suggests a good
next move with the reason, /end stops early, and every role-play ends with a scorecard.
The customer's state lives in the `RolePlay` row, so a role-play survives restarts and may
continue in any bot process; each turn keeps a copy of it in the dialog's state, which the
next turn reads instead of the row.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from dialogs.core.base import Dialog, Trigger
from dialogs.core.callback import Press
from dialogs.core.context import Ctx
from dialogs.core.events import Button, shorten
from dialogs.roleplay.customer import Progress, applicable, end_early_outcome, opening_line, respond
from dialogs.roleplay.scorecard import SPIN_TYPES, Scorecard, score_roleplay
from dialogs.understanding.classifier import classify
from knowledge.schema import Scenario, Suggestion
from storage.models import RolePlay, RolePlayTurn
from storage.needs import record_need
from storage.reviews import ACT, REVIEWED_ACTS, SPIN, missed
from storage.roleplays import PROGRESS, Scene, attempts_at, finish_roleplay, finished_of, load_roleplay, record_turn, start_roleplay, turns_of
from storage.spin_progress import spin_completed

MAX_SUGGESTIONS = 3
UNHEARD = "~unheard"  # kept with the marks: turns in a row the customer did not understand (no fact or flag can be named so)
PUZZLED = "~puzzled"  # kept with the marks too: all the turns she did not understand


class RolePlayDialog(Dialog):
    """Lists the scenarios, plays the customer turn by turn, and ends with a scorecard."""

    name = "roleplay"
    command = "roleplay"
    menu_label = "menu_roleplay"
    states = ["choosing", "playing", "finished"]
    transitions = [
        {"trigger": "browse", "source": ["choosing", "playing", "finished"], "dest": "choosing", "after": "show_list"},
        {"trigger": "play", "source": ["choosing", "playing", "finished"], "dest": "playing", "before": "prepare", "after": "open_scene"},
        {"trigger": "conclude", "source": "playing", "dest": "finished", "after": "show_scorecard"},
    ]
    browse: Trigger
    play: Trigger
    conclude: Trigger
    initial = "choosing"
    # A turn of the scene: 1-2 ms; the scene's last turn about 5 ms (15 ms the first time after a
    # start), its turn chart drawn when sent, where matplotlib and the fonts load.
    quick_states = frozenset({"playing"})

    def __init__(self, ctx: Ctx) -> None:
        super().__init__(ctx)
        self._row: RolePlay | None = None

    @classmethod
    def in_menu(cls, ctx: Ctx) -> bool:
        """Reps find role-plays in the menu once they have finished the SPIN coach; /roleplay always works."""
        return ctx.roles != {"rep"} or spin_completed(ctx.session, ctx.user.id)

    # --- entry points -------------------------------------------------------------

    def begin(self, args: str) -> None:
        """`/roleplay` lists the scenarios; `/roleplay plum` starts that one."""
        scenario_id = args.strip()
        if scenario_id in self.ctx.knowledge.scenarios:
            self.play(scenario_id=scenario_id)
            return
        if scenario_id:
            self.ctx.say("roleplay_unknown", scenario_id=scenario_id[:40])
        if self.state == "playing":
            self.remind()
        else:
            self.browse()

    def on_text(self, text: str) -> None:
        """In a role-play the rep's message goes to the customer; otherwise it may name a scenario."""
        if self.state == "playing":
            self.take_turn(text, suggested=False)
        elif text.strip() in self.ctx.knowledge.scenarios:
            self.play(scenario_id=text.strip())
        else:
            self.ctx.say("roleplay_pick_with_buttons")
            self.browse()

    def on_press(self, press: Press) -> bool:
        """Picks a scenario, says a suggested move, shows ideas, ends, retries, or shows the model."""
        playing = self.state == "playing"
        if press.verb == "rpp" and press.arg in self.ctx.knowledge.scenarios:
            self.play(scenario_id=press.arg)
        elif press.verb == "rpi" and playing:
            self.show_ideas()
        elif press.verb == "rps" and playing and press.arg.isdigit():
            return self.say_suggestion(int(press.arg))
        elif press.verb == "rpe" and playing:
            self.on_end()
        elif press.verb == "rpa" and self.state == "finished":
            self.play(scenario_id=self.data["scenario_id"])
        elif press.verb == "rpm" and self.state == "finished":
            self.show_model()
        elif press.verb == "rpl":
            self.browse()
        else:
            return False
        return True

    def on_hint(self) -> None:
        """/hint: what the customer is waiting for here, a good next move, and why it works."""
        if self.state != "playing":
            self.ctx.say("roleplay_none")
            return
        ideas = self.suggestions()
        good = next((s for s in ideas if s.quality == "good"), None)
        tip = good.text.get(self.ctx.lang) if good else ""
        why = good.why.get(self.ctx.lang) if good else ""
        state = next(s for s in self.scenario.states if s.id == self.progress().state)
        waiting = state.waiting_for.get(self.ctx.lang) if state.waiting_for else ""
        buttons = [[Button("💬 " + _short(tip), f"rps:{ideas.index(good)}")]] if good else []
        self.ctx.say("roleplay_hint", buttons, text=tip, why=why, waiting=waiting)

    def on_end(self) -> None:
        """/end: the role-play stops here and is scored as it stands."""
        if self.state != "playing":
            self.ctx.say("roleplay_none")
            return
        self.conclude(outcome=end_early_outcome(self.scenario, self.progress().state), early=True)

    def on_cancel(self) -> None:
        """/cancel mid-role-play: it is stored as abandoned (the needs found so far still count)."""
        if self.state == "playing":
            self._finish(self.roleplay, self.scenario, "abandoned")

    # --- the scene -----------------------------------------------------------------

    @property
    def scenario(self) -> Scenario:
        return self.ctx.knowledge.scenarios[self.data["scenario_id"]]

    @property
    def roleplay(self) -> RolePlay:
        """The stored role-play in progress, read once per event."""
        if self._row is None:
            self._row = load_roleplay(self.ctx.session, self.data["roleplay_id"])
            assert self._row is not None
        return self._row

    def progress(self) -> Progress:
        """Where the customer stands. Each turn keeps it in the dialog's state as well as in the
        role-play's row (one transaction writes both), so a turn reads it with the state and not
        the row. The copy counts only while its turn number is the state's `turn`: a scene saved
        before the copy was kept has none, and a process still running that older code (a rolling
        deploy) moves `turn` on without the copy; either way the row is read."""
        kept = self.data.get("progress")
        if kept is not None and kept["turns"] == self.data.get("turn"):
            return unpacked(kept)
        return progress_of(self.roleplay)

    def prepare(self, scenario_id: str, **_: Any) -> None:
        if self.data.get("roleplay_id") and self.state == "playing":
            previous = self.roleplay
            self._finish(previous, self.ctx.knowledge.scenarios.get(previous.scenario_id), "abandoned")
        scenario = self.ctx.knowledge.scenarios[scenario_id]
        attempt = attempts_at(self.ctx.session, self.ctx.user.id, scenario_id)
        row = start_roleplay(self.ctx.session, self.ctx.user.id, scenario_id, scenario.initial, self.ctx.lang, self.ctx.now)
        self.data.clear()
        self.data.update(scenario_id=scenario_id, roleplay_id=row.id, attempt=attempt, progress=packed(progress_of(row)), turn=row.turns)
        self._row = row

    def open_scene(self, **_: Any) -> None:
        """The setting and the rep's goal, then the customer's first words."""
        sc, lang = self.scenario, self.ctx.lang
        self.ctx.say("roleplay_intro", title=sc.title.get(lang), setting=sc.setting.get(lang), customer=sc.persona.name.get(lang))
        self.ctx.say(
            "roleplay_customer",
            self.play_buttons(),
            customer=sc.persona.name.get(lang),
            lines=[opening_line(sc, lang, self.data["attempt"])],
            verdict=None,
            left=False,
        )

    def remind(self) -> None:
        """Back in a role-play in progress: what the customer said last."""
        sc, lang = self.scenario, self.ctx.lang
        turns = turns_of(self.ctx.session, self.data["roleplay_id"])
        last = turns[-1].customer_text if turns else opening_line(sc, lang, self.data["attempt"])
        self.ctx.say("roleplay_resume", title=sc.title.get(lang))
        self.ctx.say("roleplay_customer", self.play_buttons(), customer=sc.persona.name.get(lang), lines=[last], verdict=None, left=False)

    def play_buttons(self) -> list[list[Button]]:
        return [[self.ctx.button("roleplay_ideas", "rpi"), self.ctx.button("roleplay_end", "rpe")]]

    def take_turn(self, text: str, suggested: bool) -> None:
        """The customer answers the rep's message; an ended conversation goes to the scorecard.

        The turn is stored with its classification, the moves it counted as and the state the
        customer was in before it (`verdict["state"]`), so a line she did not understand can be
        shown to trainers where it was said."""
        sc, lang = self.scenario, self.ctx.lang
        verdict = classify(text)
        progress = self.progress()
        before = progress.state  # kept with the turn: trainers see where a line the customer missed was said
        response = respond(sc, progress, text, verdict, lang)
        kept = packed(progress)
        self.data["progress"], self.data["turn"] = kept, progress.turn  # a new version: older buttons expire and racing turns retry
        self._row = None  # the row is read again if the scene ends now: it has this turn's progress
        customer_text = "\n".join(response.lines)
        stored = {**verdict.as_dict(), "moves": list(response.moves), "state": before}
        record_turn(
            self.ctx.session,
            Scene(self.data["roleplay_id"], self.ctx.user.id, sc.id),
            kept,
            number=progress.turn,
            rep_text=text,
            suggested=suggested,
            verdict=stored,
            move=response.move,
            customer_text=customer_text,
            at=self.ctx.now,
        )
        buttons = [] if response.outcome else self.play_buttons()
        self.ctx.say(
            "roleplay_customer", buttons, customer=sc.persona.name.get(lang), lines=list(response.lines), verdict=verdict.as_dict(), left=response.left
        )
        if response.outcome:
            self.conclude(outcome=response.outcome, early=False)

    # --- suggested moves ------------------------------------------------------------

    def suggestions(self) -> list[Suggestion]:
        """Up to three moves that fit the moment: one good, the rest tempting but weak, in varied order."""
        progress = self.progress()
        fitting = [s for s in self.scenario.suggestions if applicable(s, progress)]
        good = [s for s in fitting if s.quality == "good"][:1]
        chosen = good + [s for s in fitting if s.quality == "weak"][: MAX_SUGGESTIONS - len(good)]
        shift = zlib.crc32(f"{self.data['roleplay_id']}:{progress.turn}".encode()) % max(len(chosen), 1)
        return chosen[shift:] + chosen[:shift]

    def show_ideas(self) -> None:
        """Numbered suggested moves, each a button the rep can tap to say it."""
        ideas = self.suggestions()
        lang = self.ctx.lang
        buttons = [[Button(f"💬 {i + 1}", f"rps:{i}") for i in range(len(ideas))], [self.ctx.button("roleplay_end", "rpe")]]
        self.ctx.say("roleplay_ideas", buttons, ideas=[s.text.get(lang) for s in ideas])

    def say_suggestion(self, index: int) -> bool:
        ideas = self.suggestions()
        if index >= len(ideas):
            return False
        self.take_turn(ideas[index].text.get(self.ctx.lang), suggested=True)
        return True

    # --- the end -----------------------------------------------------------------------

    def _finish(self, row: RolePlay, scenario: Scenario | None, outcome: str) -> Scorecard | None:
        self.ctx.studied = True
        if scenario is None:
            finish_roleplay(self.ctx.session, row, outcome, 0, [], {}, self.ctx.now)
            return None
        turns = turns_of(self.ctx.session, row.id or 0)
        card = score_roleplay(
            scenario, progress_of(row), outcome, [t.verdict for t in turns], [m for t in turns for m in t.verdict.get("moves", [t.move or ""])], self.ctx.lang
        )
        finish_roleplay(self.ctx.session, row, outcome, card.score, card.facts_uncovered, card.question_counts, self.ctx.now)
        self._log_needs(row, scenario, card, turns)
        return card

    def _log_needs(self, row: RolePlay, scenario: Scenario, card: Scorecard, turns: list[RolePlayTurn]) -> None:
        """Each need the rep uncovered goes to the shared needs store, with the turn that uncovered it."""
        lang = self.ctx.lang
        said = {t.number: t.rep_text for t in turns}
        for need in card.needs_found:
            field = "explicit_needs" if need.kind == "explicit" else "latent_needs"
            fields: dict[str, object] = {
                "customer_company": f"{scenario.persona.name.get(lang)} · {scenario.title.get(lang)}"[:100],
                field: need.label,
                "tags": [scenario.id],
            }
            evidence = f"{self.ctx.label('roleplay_turn').format(n=need.turn)}: {said.get(need.turn or 0, '')}"[:500]
            record_need(
                self.ctx.session, rep_id=self.ctx.user.id, source="roleplay", fields=fields, lang=lang, at=self.ctx.now, roleplay_id=row.id, evidence=evidence
            )

    def show_scorecard(self, outcome: str, early: bool, **_: Any) -> None:
        """Outcome, score, points with reasons and turns, needs found and missed, question mix, lesson, tip."""
        card = self._finish(self.roleplay, self.scenario, outcome)
        assert card is not None
        self._queue_reviews(card)
        buttons = [
            [self.ctx.button("roleplay_again", "rpa"), self.ctx.button("roleplay_model", "rpm")],
            [self.ctx.button("roleplay_others", "rpl")],
        ]
        if card.turn_kinds:
            self.show_turn_mix(card.turn_kinds)
        self.ctx.say("roleplay_scorecard", buttons, title=self.scenario.title.get(self.ctx.lang), card=card, early=early)

    def _queue_reviews(self, card: Scorecard) -> None:
        """What the rep got wrong goes into their review queue: the speech acts that cost points
        (leading questions among them), and the SPIN type the conversation lacked: an implication
        question once a problem was out, else a need-payoff question after the implications."""
        asking = card.asking
        acts = {incident.kind for incident in card.conduct if incident.kind in REVIEWED_ACTS}
        if asking is not None and asking.leading_turns:
            acts.add("leading")
        lacking = []
        if asking is not None and asking.problem_turn is not None and not asking.implication_turns:
            lacking.append("implication")
        elif asking is not None and asking.implication_turns and not asking.need_payoff_turns:
            lacking.append("need_payoff")
        for kind, ref in [(ACT, act) for act in sorted(acts)] + [(SPIN, stage) for stage in lacking]:
            missed(self.ctx.session, self.ctx.user.id, kind, ref, "roleplay", self.ctx.now)

    def show_turn_mix(self, kinds: list[str | None]) -> None:
        """The rep's questions turn by turn as a chart, captioned with the turns of each SPIN type."""
        lang = self.ctx.lang
        rows = [(self.ctx.label(f"kind_{kind}"), [n for n, k in enumerate(kinds, 1) if k == kind]) for kind in SPIN_TYPES]
        rows.append((self.ctx.label("chart_other"), [n for n, k in enumerate(kinds, 1) if k is None]))
        self.ctx.show("roleplay_turn_mix", f"{self.scenario.id}-turns.png", "turn_mix", {"kinds": kinds, "lang": lang}, rows=[row for row in rows if row[1]])

    def show_model(self) -> None:
        """The scenario's model conversation, turn by turn."""
        sc, lang = self.scenario, self.ctx.lang
        turns = [(t.rep.get(lang), t.customer.get(lang)) for t in sc.model_conversation]
        buttons = [[self.ctx.button("roleplay_again", "rpa"), self.ctx.button("roleplay_others", "rpl")]]
        self.ctx.say("roleplay_model_conversation", buttons, title=sc.title.get(lang), customer=sc.persona.name.get(lang), turns=turns)

    def show_list(self, **_: Any) -> None:
        """Every scenario in the knowledge base, with the rep's best score so far."""
        lang = self.ctx.lang
        scenarios = in_list_order(self.ctx.knowledge.scenarios.values())
        best = best_roleplay_scores(self.ctx)
        rows = [(sc.title.get(lang), sc.id, best.get(sc.id)) for sc in scenarios]
        buttons = [[Button(shorten(sc.title.get(lang), 60), f"rpp:{sc.id}")] for sc in scenarios]
        self.ctx.say("roleplay_list", buttons, scenarios=rows)


def in_list_order(scenarios: Iterable[Scenario]) -> list[Scenario]:
    """Scenarios as every list shows them: by their `order`, the plum case first."""
    return sorted(scenarios, key=lambda sc: (sc.order, sc.id))


def progress_of(row: RolePlay) -> Progress:
    """Where the customer of a stored role-play stands."""
    return unpacked({name: getattr(row, name) for name in PROGRESS})


def unpacked(kept: Mapping[str, Any]) -> Progress:
    """The customer's progress from the role-play's PROGRESS columns (as `packed` gives them)."""
    marks = dict(kept["marks"])
    unheard, puzzled = marks.pop(UNHEARD, 0), marks.pop(PUZZLED, 0)
    return Progress(state=kept["state"], turn=kept["turns"], strikes=kept["strikes"], goodwill=kept["goodwill"], marks=marks, unheard=unheard, puzzled=puzzled)


def packed(progress: Progress) -> dict[str, Any]:
    """The customer's progress as the role-play's PROGRESS columns hold it."""
    counters = {name: value for name, value in ((UNHEARD, progress.unheard), (PUZZLED, progress.puzzled)) if value}
    return {
        "state": progress.state,
        "turns": progress.turn,
        "strikes": progress.strikes,
        "goodwill": progress.goodwill,
        "marks": {**progress.marks, **counters},
    }


def best_roleplay_scores(ctx: Ctx) -> dict[str, int]:
    """The rep's best score per scenario."""
    best: dict[str, int] = {}
    for row in finished_of(ctx.session, ctx.user.id):
        best[row.scenario_id] = max(best.get(row.scenario_id, 0), row.score or 0)
    return best


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def hint(ctx: Ctx, args: str) -> None:
    """/hint outside a role-play says how to start one."""
    if ctx.snap.dialog == RolePlayDialog.name:
        RolePlayDialog.drive(ctx, "on_hint")
    else:
        ctx.say("roleplay_none")


def end(ctx: Ctx, args: str) -> None:
    """/end stops the role-play in progress and shows its scorecard."""
    if ctx.snap.dialog == RolePlayDialog.name:
        RolePlayDialog.drive(ctx, "on_end")
    else:
        ctx.say("roleplay_none")
