"""/need: a rep logs a customer need, one field at a time, from the form in the knowledge base.

Every answer is saved to the rep's draft in the same transaction as their dialog state,
so a restart (or /cancel, or a quiz in between) loses nothing. Saving writes the need,
its first history entry and drops the draft in one transaction: a crash before the
commit leaves the draft, never half a need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dialogs.core.base import Dialog, Trigger
from dialogs.core.callback import Press
from dialogs.core.events import Button, shorten
from dialogs.needs.fields import Problem, display, is_skip, limit_of, parse_answer
from dialogs.needs.views import FORM_ID
from knowledge.schema import Form, FormField
from storage.needs import drop_draft, load_draft, record_need, save_draft

TIPS: list[tuple[str, Any]] = [
    ("no_implications", lambda v: v.get("problems") and not v.get("implications")),
    ("no_problems", lambda v: not v.get("problems")),
    ("no_latent", lambda v: not v.get("latent_needs")),
    ("no_budget_timeline", lambda v: v.get("budget") is None or not v.get("timeline")),
    ("no_role", lambda v: not v.get("contact_role")),
]


def coaching_tip(values: dict[str, Any]) -> str:
    """The one remark a rep gets on what they captured: the first gap, in SPIN order."""
    return next((key for key, missing in TIPS if missing(values)), "complete")


def summary_rows(form: Form, values: dict[str, Any], lang: str) -> list[tuple[str, str, bool]]:
    """Each field as (label, answer as shown, required) for summaries and full records."""
    return [(f.label.get(lang), display(f, values.get(f.id), lang), f.required) for f in form.fields]


def choice_buttons(fld: FormField, lang: str, verb: str) -> list[list[Button]]:
    """One button per choice of a choice field, two to a row."""
    buttons = [Button(c.label.get(lang), f"{verb}:{c.id}") for c in fld.choices]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def field_buttons(form: Form, lang: str, verb: str) -> list[list[Button]]:
    """One button per field of the form (to pick the one to change), two to a row."""
    buttons = [Button(shorten(f.label.get(lang), 40), f"{verb}:{f.id}") for f in form.fields]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def ask_data(form: Form, fld: FormField, lang: str, current: Any) -> dict[str, Any]:
    """What the question template needs to ask for one field."""
    return {
        "number": form.fields.index(fld) + 1,
        "total": len(form.fields),
        "label": fld.label.get(lang),
        "prompt": fld.prompt.get(lang),
        "required": fld.required,
        "kind": fld.kind,
        "limit": limit_of(fld),
        "current": display(fld, current, lang),
    }


class NeedForm(Dialog):
    """Asks the form's fields in order, then shows a summary to save, edit, keep or discard."""

    name = "need"
    command = "need"
    menu_label = "menu_need"
    states = ["starting", "resuming", "asking", "reviewing", "picking", "editing", "done"]
    transitions = [
        {"trigger": "offer_resume", "source": "*", "dest": "resuming", "after": "show_resume"},
        {"trigger": "ask_next", "source": "*", "dest": "asking", "after": "ask"},
        {"trigger": "review", "source": ["starting", "resuming", "asking", "reviewing", "picking", "editing"], "dest": "reviewing", "after": "show_summary"},
        {"trigger": "choose_field", "source": "reviewing", "dest": "picking", "after": "show_fields"},
        {"trigger": "edit_field", "source": ["picking", "reviewing"], "dest": "editing", "after": "ask"},
        {"trigger": "close", "source": "*", "dest": "done"},
    ]
    offer_resume: Trigger
    ask_next: Trigger
    review: Trigger
    choose_field: Trigger
    edit_field: Trigger
    close: Trigger
    initial = "starting"
    final = frozenset({"done"})

    # --- entry points -------------------------------------------------------------

    def begin(self, args: str) -> None:
        """Offers to continue an unfinished draft; otherwise introduces the form and asks the first field."""
        draft = load_draft(self.ctx.session, self.ctx.user.id)
        if draft is not None and draft.values:
            self.offer_resume()
            return
        save_draft(self.ctx.session, self.ctx.user.id, {}, self.ctx.now)
        self.ctx.say("need_intro", title=self.form.title.get(self.ctx.lang), intro=self.form.intro.get(self.ctx.lang))
        self.advance({})

    def on_text(self, text: str) -> None:
        """An answer to the field being asked; elsewhere the rep is pointed to the buttons."""
        if self.state in ("asking", "editing"):
            self.answer(text)
        else:
            self.ctx.say("need_use_buttons")
            self.show_again()

    def on_press(self, press: Press) -> bool:
        """Skip, choose, save, edit, keep for later or discard, depending on where the rep is."""
        handlers: dict[str, tuple[str, Callable[[], object]]] = {
            "nresume": ("resuming", lambda: self.advance(self.values)),
            "nrestart": ("resuming", self.restart),
            "nskip": ("asking editing", self.skip),
            "nchoice": ("asking editing", lambda: self.choose(press.arg)),
            "nlater": ("asking reviewing editing picking", self.later),
            "nsave": ("reviewing", self.save),
            "nedit": ("reviewing", self.choose_field),
            "nfield": ("picking", lambda: self.pick(press.arg)),
            "nback": ("picking editing", self.review),
            "ndiscard": ("reviewing", self.discard),
        }
        handler = handlers.get(press.verb)
        if handler is None or self.state not in handler[0].split():
            return False
        result = handler[1]()
        return result is not False

    # --- the form ------------------------------------------------------------------

    @property
    def form(self) -> Form:
        return self.ctx.knowledge.forms[FORM_ID]

    @property
    def values(self) -> dict[str, Any]:
        draft = load_draft(self.ctx.session, self.ctx.user.id)
        return dict(draft.values) if draft else {}

    @property
    def current(self) -> FormField:
        return next(f for f in self.form.fields if f.id == self.data["field"])

    def store(self, field_id: str, value: Any) -> dict[str, Any]:
        values = self.values
        values[field_id] = value
        save_draft(self.ctx.session, self.ctx.user.id, values, self.ctx.now)
        return values

    def advance(self, values: dict[str, Any]) -> None:
        """Asks the next field not yet answered or skipped, or shows the summary when none is left."""
        pending = [f.id for f in self.form.fields if f.id not in values]
        if not pending:
            self.review()
            return
        self.data["field"] = pending[0]
        self.ask_next()

    def after_answer(self, values: dict[str, Any]) -> None:
        if self.state == "editing":
            self.review()
        else:
            self.advance(values)

    def answer(self, text: str) -> None:
        """Stores a valid answer and moves on; a bad one is explained and the field asked again."""
        fld = self.current
        if is_skip(text):
            self.skip()
            return
        value = parse_answer(fld, text)
        if isinstance(value, Problem):
            self.ctx.say("need_invalid", label=fld.label.get(self.ctx.lang), reason=value.reason, kind=fld.kind, **value.details)
            self.ask()
            return
        self.after_answer(self.store(fld.id, value))

    def skip(self) -> None:
        """An optional field is left empty; a required one is asked again."""
        fld = self.current
        if fld.required:
            self.ctx.say("need_invalid", label=fld.label.get(self.ctx.lang), reason="required", kind=fld.kind)
            self.ask()
            return
        self.after_answer(self.store(fld.id, None))

    def choose(self, choice_id: str) -> bool:
        fld = self.current
        if fld.kind != "choice" or choice_id not in {c.id for c in fld.choices}:
            return False
        self.after_answer(self.store(fld.id, choice_id))
        return True

    def pick(self, field_id: str) -> bool:
        if field_id not in {f.id for f in self.form.fields}:
            return False
        self.data["field"] = field_id
        self.edit_field()
        return True

    def restart(self) -> None:
        save_draft(self.ctx.session, self.ctx.user.id, {}, self.ctx.now)
        self.ctx.say("need_intro", title=self.form.title.get(self.ctx.lang), intro=self.form.intro.get(self.ctx.lang))
        self.advance({})

    def save(self) -> None:
        """Writes the need in this event's transaction, drops the draft, and gives one coaching remark."""
        values = self.values
        missing = [f for f in self.form.fields if f.required and values.get(f.id) in (None, "", [])]
        if missing:
            self.ctx.say("need_invalid", label=missing[0].label.get(self.ctx.lang), reason="required", kind=missing[0].kind)
            self.data["field"] = missing[0].id
            self.edit_field()
            return
        need = record_need(self.ctx.session, rep_id=self.ctx.user.id, source="field", fields=values, lang=self.ctx.lang, at=self.ctx.now)
        drop_draft(self.ctx.session, self.ctx.user.id)
        self.close()
        self.ctx.say("need_saved", ref=need.ref, customer=need.customer)
        self.ctx.say(
            "need_coaching",
            [[self.ctx.button("menu_need", "go:need", is_global=True), self.ctx.button("menu_myneeds", "go:myneeds", is_global=True)]],
            tip=coaching_tip(values),
        )

    def later(self) -> None:
        """Leaves the form; the draft stays for /need to continue."""
        self.close()
        self.ctx.say("need_later")

    def discard(self) -> None:
        drop_draft(self.ctx.session, self.ctx.user.id)
        self.close()
        self.ctx.say("need_discarded")

    # --- what the rep sees -------------------------------------------------------------

    def ask(self, **_: Any) -> None:
        """The question for the current field, with choice, skip, back and keep-for-later buttons."""
        fld, lang = self.current, self.ctx.lang
        editing = self.state == "editing"
        buttons = choice_buttons(fld, lang, "nchoice") if fld.kind == "choice" else []
        row: list[Button] = []
        if not fld.required:
            row.append(self.ctx.button("need_clear" if editing else "need_skip", "nskip"))
        row.append(self.ctx.button("need_back" if editing else "need_later", "nback" if editing else "nlater"))
        buttons.append(row)
        current = self.values.get(fld.id) if editing else None
        self.ctx.say("need_ask", buttons, **ask_data(self.form, fld, lang, current), editing=editing)

    def show_resume(self, **_: Any) -> None:
        draft = load_draft(self.ctx.session, self.ctx.user.id)
        assert draft is not None
        answered = sum(1 for v in draft.values.values() if v not in (None, "", []))
        customer = str(draft.values.get("customer_company") or "")
        buttons = [[self.ctx.button("need_resume", "nresume"), self.ctx.button("need_restart", "nrestart")]]
        self.ctx.say("need_resume", buttons, answered=answered, customer=customer, since=draft.updated_at.strftime("%Y-%m-%d %H:%M"))

    def show_summary(self, **_: Any) -> None:
        """Every answer, with buttons to save, change a field, keep it for later or discard it."""
        buttons = [
            [self.ctx.button("need_save", "nsave"), self.ctx.button("need_edit", "nedit")],
            [self.ctx.button("need_later", "nlater"), self.ctx.button("need_discard", "ndiscard")],
        ]
        self.ctx.say("need_summary", buttons, title=self.form.title.get(self.ctx.lang), rows=summary_rows(self.form, self.values, self.ctx.lang))

    def show_fields(self, **_: Any) -> None:
        buttons = field_buttons(self.form, self.ctx.lang, "nfield")
        buttons.append([self.ctx.button("need_back", "nback")])
        self.ctx.say("need_pick_field", buttons)

    def show_again(self) -> None:
        if self.state == "resuming":
            self.show_resume()
        elif self.state == "picking":
            self.show_fields()
        else:
            self.show_summary()
