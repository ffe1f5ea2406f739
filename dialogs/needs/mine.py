"""/myneeds: a rep's own needs, newest first; each can be opened, edited or withdrawn.

Every edit and withdrawal is written to the need's history (who, what, when) in the
same transaction as the change.
"""

from __future__ import annotations

from typing import Any

from dialogs.core.base import Dialog, Trigger
from dialogs.core.callback import Press
from dialogs.needs.fields import Problem, is_skip, parse_answer
from dialogs.needs.form import ask_data, choice_buttons, field_buttons
from dialogs.needs.views import PER_PAGE, card, card_buttons, need_form, pages, paging, show_record
from knowledge.schema import FormField
from storage.models import Need
from storage.needs import change_field, own_needs, withdraw


class MyNeeds(Dialog):
    """Lists the rep's needs; opens one to edit a field or withdraw it."""

    name = "myneeds"
    command = "myneeds"
    menu_label = "menu_myneeds"
    states = ["listing", "viewing", "picking", "editing", "confirming"]
    transitions = [
        {"trigger": "list_page", "source": "*", "dest": "listing", "after": "show_list"},
        {"trigger": "open", "source": "*", "dest": "viewing", "after": "show"},
        {"trigger": "choose_field", "source": "viewing", "dest": "picking", "after": "show_fields"},
        {"trigger": "edit_field", "source": "picking", "dest": "editing", "after": "ask"},
        {"trigger": "confirm_withdraw", "source": "viewing", "dest": "confirming", "after": "ask_withdraw"},
    ]
    list_page: Trigger
    open: Trigger
    choose_field: Trigger
    edit_field: Trigger
    confirm_withdraw: Trigger
    initial = "listing"

    def begin(self, args: str) -> None:
        """Shows the first page of the rep's needs."""
        self.data["page"] = 0
        self.list_page()

    def on_text(self, text: str) -> None:
        """A new answer for the field being changed; elsewhere the list or record is shown again."""
        if self.state != "editing":
            self.ctx.say("need_use_buttons")
            if self.state == "listing":
                self.list_page()
            else:
                self.open()
            return
        fld = self.field
        value: Any = None if is_skip(text) else parse_answer(fld, text)
        if value is None and fld.required:
            value = Problem("required")
        if isinstance(value, Problem):
            self.ctx.say("need_invalid", label=fld.label.get(self.ctx.lang), reason=value.reason, kind=fld.kind, **value.details)
            self.ask()
            return
        self.apply(value)

    def on_press(self, press: Press) -> bool:
        """Open, page, edit, clear, withdraw or go back; only ever on the rep's own needs."""
        verb, arg = press.verb, press.arg
        if verb == "mp" and arg.isdigit():
            self.data["page"] = int(arg)
            self.list_page()
        elif verb == "mo" and arg.isdigit():
            if self.own(int(arg)) is None:
                return False
            self.data["need_id"] = int(arg)
            self.open()
        elif verb == "ml":
            self.list_page()
        elif verb == "mb" and self.state in ("picking", "editing", "confirming"):
            self.open()
        elif verb == "me" and self.state == "viewing" and self.editable():
            self.choose_field()
        elif verb == "mf" and self.state == "picking" and arg in {f.id for f in need_form(self.ctx).fields}:
            self.data["field"] = arg
            self.edit_field()
        elif verb == "mc" and self.state == "editing" and not self.field.required:
            self.apply(None)
        elif verb == "mch" and self.state == "editing" and arg in {c.id for c in self.field.choices}:
            self.apply(arg)
        elif verb == "mw" and self.state == "viewing" and self.editable():
            self.confirm_withdraw()
        elif verb == "my" and self.state == "confirming" and self.editable():
            withdraw(self.ctx.session, self.need, self.ctx.user.id, self.ctx.now)
            self.ctx.say("need_withdrawn", ref=self.need.ref)
            self.open()
        else:
            return False
        return True

    # --- the rep's needs -------------------------------------------------------------

    def own(self, need_id: int) -> Need | None:
        need = self.ctx.session.get(Need, need_id)
        return need if need is not None and need.rep_id == self.ctx.user.id else None

    @property
    def need(self) -> Need:
        need = self.own(self.data["need_id"])
        assert need is not None
        return need

    def editable(self) -> bool:
        return self.need.status == "active"

    @property
    def field(self) -> FormField:
        return next(f for f in need_form(self.ctx).fields if f.id == self.data["field"])

    def apply(self, value: Any) -> None:
        """Saves the change with its history entry and shows the record again."""
        fld = self.field
        changed = change_field(self.ctx.session, self.need, fld.id, value, self.ctx.user.id, self.ctx.now)
        self.ctx.say("need_changed", ref=self.need.ref, label=fld.label.get(self.ctx.lang), changed=changed)
        self.open()

    # --- what the rep sees ---------------------------------------------------------------

    def show_list(self, **_: Any) -> None:
        page = self.data.get("page", 0)
        needs, total = own_needs(self.ctx.session, self.ctx.user.id, page, PER_PAGE)
        if not needs and page > 0:
            self.data["page"] = page = 0
            needs, total = own_needs(self.ctx.session, self.ctx.user.id, 0, PER_PAGE)
        buttons = card_buttons(needs, "mo")
        nav = paging(self.ctx, page, total, "mp")
        if nav:
            buttons.append(nav)
        self.ctx.say("myneeds_list", buttons, cards=[card(self.ctx, n) for n in needs], total=total, page=page + 1, pages=pages(total))

    def show(self, **_: Any) -> None:
        buttons = [[self.ctx.button("need_edit", "me"), self.ctx.button("need_withdraw", "mw")]] if self.editable() else []
        buttons.append([self.ctx.button("need_list", "ml")])
        show_record(self.ctx, self.need, buttons)

    def show_fields(self, **_: Any) -> None:
        buttons = field_buttons(need_form(self.ctx), self.ctx.lang, "mf")
        buttons.append([self.ctx.button("need_back", "mb")])
        self.ctx.say("need_pick_field", buttons)

    def ask(self, **_: Any) -> None:
        fld, lang = self.field, self.ctx.lang
        buttons = choice_buttons(fld, lang, "mch") if fld.kind == "choice" else []
        row = [] if fld.required else [self.ctx.button("need_clear", "mc")]
        buttons.append([*row, self.ctx.button("need_back", "mb")])
        self.ctx.say("need_ask", buttons, **ask_data(need_form(self.ctx), fld, lang, self.need.fields.get(fld.id)), editing=True)

    def ask_withdraw(self, **_: Any) -> None:
        buttons = [[self.ctx.button("need_withdraw_yes", "my"), self.ctx.button("need_back", "mb")]]
        self.ctx.say("need_withdraw_confirm", buttons, ref=self.need.ref, customer=self.need.customer)
