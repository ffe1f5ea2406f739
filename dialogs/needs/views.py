"""How a captured need is shown: a short card in a list, or the full record with its history."""

from __future__ import annotations

from typing import Any

from dialogs.core.context import Ctx
from dialogs.core.events import Button, shorten
from dialogs.needs.fields import display
from knowledge.schema import Form
from storage.models import Need, User
from storage.needs import history

FORM_ID = "need"
PER_PAGE = 10
EXCERPT = 60


def need_form(ctx: Ctx) -> Form:
    return ctx.knowledge.forms[FORM_ID]


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def card(ctx: Ctx, need: Need) -> dict[str, Any]:
    """A need in one line: reference, date, priority, customer, rep and the start of the stated need."""
    form = need_form(ctx)
    priority = next((display(f, need.priority, ctx.lang) for f in form.fields if f.id == "priority"), need.priority) if need.priority else ""
    rep = ctx.session.get(User, need.rep_id)
    return {
        "ref": need.ref,
        "date": need.created_at.strftime("%Y-%m-%d"),
        "priority": priority,
        "customer": need.customer,
        "rep": ctx.person(rep.name if rep else "", need.rep_id),
        "need": _excerpt(str(need.fields.get("explicit_needs") or "")),
        "source": need.source,
        "withdrawn": need.status == "withdrawn",
    }


def card_buttons(needs: list[Need], verb: str) -> list[list[Button]]:
    """One button per card, to open the full record."""
    return [[Button(shorten(f"{n.ref} {n.customer}", 40), f"{verb}:{n.id}")] for n in needs]


def paging(ctx: Ctx, page: int, total: int, verb: str) -> list[Button]:
    """Previous / next buttons when there is more than one page."""
    row: list[Button] = []
    if page > 0:
        row.append(ctx.button("need_prev", f"{verb}:{page - 1}"))
    if (page + 1) * PER_PAGE < total:
        row.append(ctx.button("need_next", f"{verb}:{page + 1}"))
    return row


def pages(total: int) -> int:
    return max(1, -(-total // PER_PAGE))


def _history_value(form: Form, field_id: str, text: str, lang: str) -> str:
    fld = next((f for f in form.fields if f.id == field_id), None)
    if fld is not None and fld.kind == "choice":
        return display(fld, text, lang)
    return text


def show_record(ctx: Ctx, need: Need, buttons: list[list[Button]]) -> None:
    """The full record: every answer, where it came from, and who changed what, when."""
    form, lang = need_form(ctx), ctx.lang
    labels = {f.id: f.label.get(lang) for f in form.fields}
    changes = [
        (
            change.at.strftime("%Y-%m-%d %H:%M"),
            ctx.person(who, change.by),
            change.action,
            labels.get(change.field, change.field),
            _history_value(form, change.field, change.old, lang),
            _history_value(form, change.field, change.new, lang),
        )
        for change, who in history(ctx.session, need.id or 0)
    ]
    rows = [(f.label.get(lang), display(f, need.fields.get(f.id), lang)) for f in form.fields]
    rep = ctx.session.get(User, need.rep_id)
    ctx.say(
        "need_record",
        buttons,
        ref=need.ref,
        created=need.created_at.strftime("%Y-%m-%d %H:%M"),
        rep=ctx.person(rep.name if rep else "", need.rep_id),
        source=need.source,
        withdrawn=need.status == "withdrawn",
        rows=rows,
        evidence=need.evidence or "",
        changes=changes,
    )
