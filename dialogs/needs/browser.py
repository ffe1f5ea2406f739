"""/needs and /export: managers read, filter and export the needs their teams captured.

Filters are picked with buttons or typed (`/needs tag:price priority:p1 from:2026-01-01`);
they combine, and are kept in the dialog state so /export sends what the list shows.
Managers see the members of their teams; admins see everyone.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from dialogs.core.base import Dialog, Trigger
from dialogs.core.callback import Press
from dialogs.core.context import Ctx
from dialogs.core.events import Button, Document, shorten
from dialogs.needs.export import export_needs
from dialogs.needs.filters import ALL_SOURCES, FilterError, parse_filters, split_words
from dialogs.needs.views import PER_PAGE, card, card_buttons, need_form, pages, paging, show_record
from storage.access import all_teams, member_ids, teams_of
from storage.models import Need
from storage.needs import NeedFilter, count_needs, page_of_needs, reps_with_needs, top_tags

CHAT_FORMATS = ("csv", "xlsx", "html")
# Other file formats people ask for: `/export pdf` is a wrong format, not a search for "pdf".
OTHER_FORMATS = frozenset({"pdf", "doc", "docx", "xls", "ods", "odt", "json", "jsonl", "txt", "tsv", "md", "ppt", "pptx", "png", "jpg", "zip"})
CHAT_EXPORT_LIMIT = 20_000
FILTER_KINDS = ("rep", "team", "tag", "priority", "source", "date", "text")
DATE_CHOICES = {"7d": 7, "30d": 30, "90d": 90}


def scope_of(ctx: Ctx) -> set[int] | None:
    """Admins see everyone's needs; managers those of the members of their teams."""
    if "admin" in ctx.roles:
        return None
    return {uid for team in teams_of(ctx.session, ctx.user.id) for uid in member_ids(ctx.session, team.id or 0)}


def send_export(ctx: Ctx, flt: NeedFilter, fmt: str) -> None:
    """Sends the filtered needs as a file, unless there are too many for a chat."""
    scope = scope_of(ctx)
    total = count_needs(ctx.session, flt, scope)
    if total > CHAT_EXPORT_LIMIT:
        ctx.say("needs_export_too_many", total=total, limit=CHAT_EXPORT_LIMIT)
        return
    out = io.BytesIO()
    export_needs(out, fmt, ctx.session, flt, scope, need_form(ctx), ctx.lang)
    stamp = ctx.now.strftime("%Y%m%d-%H%M")
    ctx.say("needs_export", total=total, fmt=fmt, filters=flt.active())
    ctx.replies[-1].document = Document(f"needs-{stamp}.{fmt}", out.getvalue())


def export(ctx: Ctx, args: str) -> None:
    """`/export [csv|xlsx|html] [filters]`: the needs /needs shows (or the typed filters) as a file.

    Without a format the manager picks one with buttons; another file format is answered with
    the formats there are.
    """
    words = split_or_say(ctx, args)
    if words is None:
        return
    if words and words[0].lower().lstrip(".") in OTHER_FORMATS:
        ctx.say("needs_export_formats", fmt=words[0], formats=CHAT_FORMATS)
        return
    fmt = words.pop(0).lower() if words and words[0].lower() in CHAT_FORMATS else ""
    base = NeedFilter.from_json(ctx.snap.data["filters"]) if ctx.snap.dialog == NeedsBrowser.name and "filters" in ctx.snap.data else NeedFilter()
    try:
        flt = parse_filters(words, need_form(ctx), None if words else base)
    except FilterError as exc:
        ctx.say("needs_filter_bad", reason=exc.reason, word=exc.word)
        return
    if fmt:
        send_export(ctx, flt, fmt)
    else:
        NeedsBrowser.drive(ctx, "offer_export", flt)


def split_or_say(ctx: Ctx, text: str) -> list[str] | None:
    """The typed words, or None after telling the user an unbalanced quote is unreadable."""
    try:
        return split_words(text)
    except FilterError as exc:
        ctx.say("needs_filter_bad", reason=exc.reason, word=exc.word)
        return None


class NeedsBrowser(Dialog):
    """Ten short cards a page, newest first; tap one for the full record; filter and export."""

    name = "needs"
    command = "needs"
    menu_label = "menu_needs"
    states = ["listing", "viewing", "filtering", "choosing", "searching", "exporting"]
    transitions = [
        {"trigger": "list_page", "source": "*", "dest": "listing", "after": "show_list"},
        {"trigger": "open", "source": "*", "dest": "viewing", "after": "show"},
        {"trigger": "filter_menu", "source": "*", "dest": "filtering", "after": "show_filter_menu"},
        {"trigger": "choose", "source": "filtering", "dest": "choosing", "after": "show_options"},
        {"trigger": "search", "source": "filtering", "dest": "searching", "after": "ask_text"},
        {"trigger": "formats", "source": "*", "dest": "exporting", "after": "show_formats"},
    ]
    list_page: Trigger
    open: Trigger
    filter_menu: Trigger
    choose: Trigger
    search: Trigger
    formats: Trigger
    initial = "listing"

    # --- entry points -------------------------------------------------------------

    def begin(self, args: str) -> None:
        """Lists the needs, filtered by any typed filters (field needs by default)."""
        self.data.update(filters=NeedFilter().to_json(), page=0)
        self.apply_typed(args)

    def offer_export(self, flt: NeedFilter) -> None:
        """/export without a format: keeps the filters and offers the formats as buttons."""
        self.data.update(filters=flt.to_json(), page=0)
        self.formats()

    def on_text(self, text: str) -> None:
        """Typed words narrow the list further (or, after Search, are the text searched for)."""
        if self.state == "searching":
            self.set_filter(text=text.strip()[:100])
        else:
            self.apply_typed(text, keep=True)

    def on_press(self, press: Press) -> bool:
        """Paging, opening a record, filters and exports (the router re-checks the role before every press)."""
        if press.verb not in ("vp", "vo", "vl", "vf", "vk", "vv", "vc", "vx"):
            return False
        verb, arg = press.verb, press.arg
        if verb == "vp" and arg.isdigit():
            self.data["page"] = int(arg)
            self.list_page()
        elif verb == "vo" and arg.isdigit() and self.visible(int(arg)):
            self.data["need_id"] = int(arg)
            self.open()
        elif verb == "vl":
            self.list_page()
        elif verb == "vf":
            self.filter_menu()
        elif verb == "vk" and arg in FILTER_KINDS:
            self.data["kind"] = arg
            if arg == "text":
                self.search()
            else:
                self.choose()
        elif verb == "vv" and self.state == "choosing":
            return self.pick_option(arg)
        elif verb == "vc":
            self.data["filters"] = NeedFilter().to_json()
            self.data["page"] = 0
            self.list_page()
        elif verb == "vx" and arg in CHAT_FORMATS:
            send_export(self.ctx, self.filter, arg)
        elif verb == "vx":
            self.formats()
        else:
            return False
        return True

    # --- filters ---------------------------------------------------------------------

    @property
    def filter(self) -> NeedFilter:
        return NeedFilter.from_json(self.data["filters"])

    def apply_typed(self, text: str, keep: bool = False) -> None:
        """Reads typed filters; a word it cannot read is explained and the list shown unchanged."""
        words = split_or_say(self.ctx, text)
        if words is not None:
            try:
                flt = parse_filters(words, need_form(self.ctx), self.filter if keep else None)
            except FilterError as exc:
                self.ctx.say("needs_filter_bad", reason=exc.reason, word=exc.word)
            else:
                self.data.update(filters=flt.to_json(), page=0)
        self.list_page()

    def set_filter(self, **changes: Any) -> None:
        self.data.update(filters=self.filter.with_(**changes).to_json(), page=0)
        self.list_page()

    def options(self, kind: str) -> list[tuple[str, str]]:
        """(value, button label) pairs offered for one kind of filter."""
        session, lang, scope = self.ctx.session, self.ctx.lang, scope_of(self.ctx)
        if kind == "rep":
            return [(str(rep_id), self.ctx.person(name, rep_id)) for rep_id, name in reps_with_needs(session, scope)]
        if kind == "team":
            teams = all_teams(session) if scope is None else teams_of(session, self.ctx.user.id)
            return [(t.name, t.name) for t in teams]
        if kind == "tag":
            return [(tag, tag) for tag in top_tags(session, self.filter, scope)]
        if kind == "priority":
            return [(c.id, c.label.get(lang)) for f in need_form(self.ctx).fields if f.id == "priority" for c in f.choices]
        if kind == "source":
            return [(s, self.ctx.label(f"source_{s}")) for s in ALL_SOURCES]
        return [(d, self.ctx.label(f"date_{d}")) for d in DATE_CHOICES]

    def pick_option(self, arg: str) -> bool:
        kind = self.data["kind"]
        values = self.data.get("options", [])
        if arg == "any":
            change: dict[str, Any] = {"date_from": None, "date_to": None} if kind == "date" else {kind: "" if kind != "source" else "all"}
        elif arg.isdigit() and int(arg) < len(values):
            value = values[int(arg)]
            change = {"date_from": (self.ctx.now - timedelta(days=DATE_CHOICES[value])).date(), "date_to": None} if kind == "date" else {kind: value}
        else:
            return False
        self.set_filter(**change)
        return True

    # --- what the manager sees ---------------------------------------------------------

    def visible(self, need_id: int) -> bool:
        need = self.ctx.session.get(Need, need_id)
        scope = scope_of(self.ctx)
        return need is not None and (scope is None or need.rep_id in scope)

    def show_list(self, **_: Any) -> None:
        flt, scope = self.filter, scope_of(self.ctx)
        total = count_needs(self.ctx.session, flt, scope)
        page = min(self.data.get("page", 0), pages(total) - 1)
        self.data["page"] = page
        needs = page_of_needs(self.ctx.session, flt, scope, page, PER_PAGE)
        buttons = card_buttons(needs, "vo")
        nav = paging(self.ctx, page, total, "vp")
        if nav:
            buttons.append(nav)
        buttons.append([self.ctx.button("need_filters", "vf"), self.ctx.button("need_export", "vx")])
        self.ctx.say("needs_list", buttons, cards=[card(self.ctx, n) for n in needs], total=total, page=page + 1, pages=pages(total), filters=flt.active())

    def show(self, **_: Any) -> None:
        need = self.ctx.session.get(Need, self.data["need_id"])
        assert need is not None
        show_record(self.ctx, need, [[self.ctx.button("need_list", "vl")]])

    def show_filter_menu(self, **_: Any) -> None:
        kinds = [self.ctx.button(f"filter_{k}", f"vk:{k}") for k in FILTER_KINDS]
        buttons = [kinds[i : i + 2] for i in range(0, len(kinds), 2)]
        buttons.append([self.ctx.button("filter_clear", "vc"), self.ctx.button("need_list", "vl")])
        self.ctx.say("needs_filter_menu", buttons, filters=self.filter.active())

    def show_options(self, **_: Any) -> None:
        kind = self.data["kind"]
        pairs = self.options(kind)
        self.data["options"] = [value for value, _ in pairs]
        choices = [Button(shorten(label, 40), f"vv:{i}") for i, (_, label) in enumerate(pairs)]
        buttons = [choices[i : i + 2] for i in range(0, len(choices), 2)]
        buttons.append([self.ctx.button("filter_any", "vv:any"), self.ctx.button("need_list", "vl")])
        self.ctx.say("needs_filter_options", buttons, kind=kind, empty=not pairs)

    def ask_text(self, **_: Any) -> None:
        self.ctx.say("needs_search_prompt", [[self.ctx.button("need_list", "vl")]])

    def show_formats(self, **_: Any) -> None:
        buttons = [[self.ctx.button(f"export_{f}", f"vx:{f}") for f in CHAT_FORMATS], [self.ctx.button("need_list", "vl")]]
        self.ctx.say("needs_export_pick", buttons, total=count_needs(self.ctx.session, self.filter, scope_of(self.ctx)), filters=self.filter.active())
