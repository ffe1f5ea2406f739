"""Exports of the filtered needs: CSV (Excel-safe), XLSX, JSON lines and an HTML report.

Everything streams: needs are read a batch at a time and written as they come, so
100,000 needs export in bounded memory (see bench/needs_export_bench.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any, TypeVar

from sqlalchemy import Row
from sqlmodel import Session, col, select

from dialogs.needs.fields import displayer
from knowledge.schema import Form
from knowledge.templates import environment
from storage.exports import write_csv, write_jsonl, write_xlsx
from storage.models import Membership, Team, User, need_ref, utcnow
from storage.needs import BATCH, NeedFilter, iter_needs

FORMATS = ("csv", "xlsx", "html", "jsonl")
FIXED_HEADER = ("reference", "created_at", "rep_id", "rep", "teams", "source")
TAIL_HEADER = ("evidence", "roleplay_id")
T = TypeVar("T")


class People:
    """Names and teams of the reps met so far in an export (one small query per new batch)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.known: dict[int, tuple[str, str]] = {}

    def learn(self, needs: list[Row[Any]]) -> None:
        missing = {n.rep_id for n in needs} - set(self.known)
        if not missing:
            return
        names = dict(self.session.exec(select(User.id, User.name).where(col(User.id).in_(missing))).all())
        teams: dict[int, list[str]] = {}
        query = select(Membership.user_id, Team.name).join(Team, col(Team.id) == col(Membership.team_id)).where(col(Membership.user_id).in_(missing))
        for user_id, team in self.session.exec(query.order_by(col(Team.name))).all():
            teams.setdefault(user_id, []).append(team)
        for rep_id in missing:
            self.known[rep_id] = (names.get(rep_id) or str(rep_id), ", ".join(teams.get(rep_id, [])))

    def name(self, rep_id: int) -> str:
        return self.known[rep_id][0]

    def teams(self, rep_id: int) -> str:
        return self.known[rep_id][1]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _needs(session: Session, flt: NeedFilter, scope: set[int] | None, people: People, batch: int) -> Iterator[Row[Any]]:
    for needs in iter_needs(session, flt, scope, batch):
        people.learn(needs)
        yield from needs


def header(form: Form) -> list[str]:
    """Column names: stable ids, the same whatever the language."""
    return [*FIXED_HEADER, *(f.id for f in form.fields), *TAIL_HEADER]


def table_rows(session: Session, flt: NeedFilter, scope: set[int] | None, form: Form, lang: str, batch: int = BATCH) -> Iterator[list[Any]]:
    """One row per need, newest first; answers as people read them (choice labels, tags joined)."""
    people = People(session)
    cells = [(f.id, None if f.kind == "number" else displayer(f, lang)) for f in form.fields]  # numbers stay numbers
    for need in _needs(session, flt, scope, people, batch):
        given = need.fields.get  # read once: a row's attribute costs more than a dict's lookup
        answers = [given(field_id) if show is None else show(given(field_id)) for field_id, show in cells]
        yield [
            need_ref(need.id),
            _stamp(need.created_at),
            need.rep_id,
            people.name(need.rep_id),
            people.teams(need.rep_id),
            need.source,
            *answers,
            need.evidence or "",
            need.roleplay_id,
        ]


def json_records(session: Session, flt: NeedFilter, scope: set[int] | None, batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """One JSON object per need with the stored values (choice ids, tag lists)."""
    people = People(session)
    for need in _needs(session, flt, scope, people, batch):
        yield {
            "reference": need_ref(need.id),
            "created_at": need.created_at.isoformat(),
            "rep_id": need.rep_id,
            "rep": people.name(need.rep_id),
            "source": need.source,
            "lang": need.lang,
            "fields": need.fields,
            "evidence": need.evidence,
            "roleplay_id": need.roleplay_id,
        }


def report_summary(session: Session, flt: NeedFilter, scope: set[int] | None, batch: int = BATCH) -> dict[str, Any]:
    """Counts by tag, by rep and by ISO week, from one streaming pass."""
    people = People(session)
    tags: Counter[str] = Counter()
    reps: Counter[str] = Counter()
    weeks: Counter[str] = Counter()
    total = 0
    for need in _needs(session, flt, scope, people, batch):
        total += 1
        tags.update(need.fields.get("tags") or [])
        reps[people.name(need.rep_id)] += 1
        year, week, _ = need.created_at.isocalendar()
        weeks[f"{year}-W{week:02d}"] += 1
    return {"total": total, "by_tag": tags.most_common(), "by_rep": reps.most_common(), "by_week": sorted(weeks.items(), reverse=True)}


def report_records(session: Session, flt: NeedFilter, scope: set[int] | None, form: Form, lang: str, batch: int = BATCH) -> Iterator[dict[str, Any]]:
    people = People(session)
    cells = [(f.id, f.label.get(lang), displayer(f, lang)) for f in form.fields]
    for need in _needs(session, flt, scope, people, batch):
        rows = [(label, show(need.fields.get(field_id))) for field_id, label, show in cells]
        yield {
            "ref": need_ref(need.id),
            "created": _stamp(need.created_at),
            "rep": people.name(need.rep_id),
            "teams": people.teams(need.rep_id),
            "source": need.source,
            "rows": [(label, value) for label, value in rows if value],
            "evidence": need.evidence or "",
        }


def write_report(out: IO[bytes], session: Session, flt: NeedFilter, scope: set[int] | None, form: Form, lang: str, batch: int = BATCH) -> int:
    """The HTML report (autoescaped jinja2): the summary at the top, then every record; returns how many."""
    template = environment().get_template(f"{lang if lang in ('zh', 'en') else 'zh'}/needs_report.j2")
    summary = report_summary(session, flt, scope, batch)
    chunks = template.generate(
        lang=lang,
        generated=_stamp(utcnow()),
        filters=flt.active(),
        records=report_records(session, flt, scope, form, lang, batch),
        **summary,
    )
    for chunk in chunks:
        out.write(chunk.encode("utf-8"))
    return int(summary["total"])


def export_needs(out: IO[bytes], fmt: str, session: Session, flt: NeedFilter, scope: set[int] | None, form: Form, lang: str, batch: int = BATCH) -> int:
    """Writes the matching needs to `out` as csv, xlsx, html or jsonl; returns how many."""
    if fmt == "html":
        return write_report(out, session, flt, scope, form, lang, batch)
    written = 0

    def counted(records: Iterator[T]) -> Iterator[T]:
        nonlocal written
        for record in records:
            written += 1
            yield record

    if fmt == "csv":
        write_csv(out, header(form), counted(table_rows(session, flt, scope, form, lang, batch)))
    elif fmt == "xlsx":
        write_xlsx(out, header(form), counted(table_rows(session, flt, scope, form, lang, batch)), "needs")
    elif fmt == "jsonl":
        write_jsonl(out, counted(json_records(session, flt, scope, batch)))
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return written
