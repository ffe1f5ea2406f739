"""Captured needs: recording them, editing and withdrawing with history, drafts, and the
filtered queries managers list and export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, Table, delete, func, insert, tuple_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from storage.db import DIALECTS, tallied
from storage.models import Membership, Need, NeedChange, NeedDraft, NeedTag, NeedTally, Team, User

SOURCES = ("field", "roleplay")
NEED_TALLY: Table = NeedTally.__table__  # type: ignore[attr-defined]
BATCH = 500
TAG_LIMIT = 40
CUSTOMER_FIELDS = ("customer_company", "contact_name")


def _check_types(source: str, fields: dict[str, object]) -> None:
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    for key, value in fields.items():
        if not isinstance(key, str):
            raise TypeError(f"field ids are strings, not {key!r}")
        if key == "tags" and value is not None:
            if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
                raise TypeError("tags must be a list of strings")
        elif isinstance(value, bool) or not isinstance(value, (str, int, float, type(None))):
            raise TypeError(f"field {key!r} must be text or a number, not {type(value).__name__}")


def normal_tags(tags: list[str]) -> list[str]:
    """Tags as stored: trimmed, lower-case, no repeats, in the order given."""
    out: list[str] = []
    for tag in tags:
        clean = tag.strip().lower()[:TAG_LIMIT]
        if clean and clean not in out:
            out.append(clean)
    return out


def _search_text(fields: dict[str, Any]) -> str:
    """Every text answer, lower-cased, for the managers' free-text search."""
    return "\n".join(str(v) for k, v in fields.items() if isinstance(v, str) and k != "priority").casefold()


def _apply(need: Need, fields: dict[str, Any]) -> None:
    """Copies the answers into the need and its filter columns."""
    need.fields = dict(fields)
    need.customer = str(fields.get("customer_company") or "")[:200]
    need.priority = str(fields.get("priority") or "")[:20]
    need.search_text = _search_text(fields)


def _set_tags(session: Session, need_id: int, tags: list[str]) -> None:
    session.execute(delete(NeedTag).where(col(NeedTag.need_id) == need_id))
    for tag in tags:
        session.add(NeedTag(need_id=need_id, tag=tag))


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def record_need(
    session: Session,
    *,
    rep_id: int,
    source: str,
    fields: dict[str, object],
    lang: str,
    at: datetime,
    roleplay_id: int | None = None,
    evidence: str | None = None,
) -> Need:
    """Store a need captured `at` (the engine's time) with its first history entry and give it a
    reference number (`need.ref`).

    Checks only the types of what it is given; the caller's transaction commits.
    """
    _check_types(source, fields)
    clean: dict[str, Any] = {k: v for k, v in fields.items() if v is not None and v != "" and v != []}
    if "tags" in clean:
        clean["tags"] = normal_tags(clean["tags"])
    need = Need(rep_id=rep_id, source=source, lang=lang, roleplay_id=roleplay_id, evidence=evidence, created_at=at, updated_at=at)
    _apply(need, clean)
    session.add(need)
    session.flush()
    assert need.id is not None
    _set_tags(session, need.id, clean.get("tags", []))
    session.add(NeedChange(need_id=need.id, at=at, by=rep_id, action="created", new=need.ref))
    session.flush()
    _tally(session, rep_id, need.status, source, 1)
    return need


_TALLY = {dialect: tallied(dialect, NEED_TALLY, "count") for dialect in DIALECTS}


def _tally(session: Session, rep_id: int, status: str, source: str, by: int) -> None:
    """One rep's count of needs of this status and source moves `by` (NeedTally), in the caller's transaction."""
    session.connection().execute(_TALLY[session.get_bind().dialect.name], {"rep_id": rep_id, "status": status, "source": source, "by": by})


def recount(session: Session) -> None:
    """Every rep's counts made again from the needs themselves: for needs written past
    record_need and withdraw (a bulk load); the caller's transaction commits."""
    session.execute(delete(NeedTally))
    counted = select(Need.rep_id, Need.status, Need.source, func.count()).group_by(col(Need.rep_id), col(Need.status), col(Need.source))
    rows = [{"rep_id": rep, "status": status, "source": source, "count": count} for rep, status, source, count in session.execute(counted).all()]
    if rows:
        session.execute(insert(NeedTally), rows)


def change_field(session: Session, need: Need, field_id: str, value: object, by: int, at: datetime) -> bool:
    """Change one answer of a need `at` (the engine's time), keeping who changed what and when; False if nothing changed."""
    fields = dict(need.fields)
    old = fields.get(field_id)
    if field_id == "tags" and isinstance(value, list):
        value = normal_tags(value)
    if value in (None, "", []):
        fields.pop(field_id, None)
        value = None
    else:
        fields[field_id] = value
    if old == value:
        return False
    _apply(need, fields)
    need.updated_at = at
    session.add(need)
    if field_id == "tags":
        _set_tags(session, need.id or 0, fields.get("tags", []))
    session.add(NeedChange(need_id=need.id or 0, at=at, by=by, action="edited", field=field_id, old=_as_text(old), new=_as_text(value)))
    return True


def withdraw(session: Session, need: Need, by: int, at: datetime) -> bool:
    """Withdraw a need `at` (the engine's time; it stays in the history); False if it already was."""
    if need.status == "withdrawn":
        return False
    _tally(session, need.rep_id, need.status, need.source, -1)
    _tally(session, need.rep_id, "withdrawn", need.source, 1)
    need.status = "withdrawn"
    need.updated_at = at
    session.add(need)
    session.add(NeedChange(need_id=need.id or 0, at=at, by=by, action="withdrawn", old="active", new="withdrawn"))
    return True


def history(session: Session, need_id: int) -> list[tuple[NeedChange, str]]:
    """Every change of a need, oldest first, with the name of who made it ("" if they have none)."""
    query = select(NeedChange, User.name).join(User, col(User.id) == col(NeedChange.by), isouter=True).where(NeedChange.need_id == need_id)
    return [(change, name or "") for change, name in session.exec(query.order_by(col(NeedChange.id))).all()]


def own_needs(session: Session, rep_id: int, page: int, per_page: int) -> tuple[list[Need], int]:
    """A page of a rep's own needs, newest first, and how many there are."""
    query = select(Need).where(Need.rep_id == rep_id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Need.created_at).desc(), col(Need.id).desc()).offset(page * per_page).limit(per_page)).all()
    return list(rows), int(total)


# --- drafts -----------------------------------------------------------------------


def load_draft(session: Session, user_id: int) -> NeedDraft | None:
    return session.get(NeedDraft, user_id)


def save_draft(session: Session, user_id: int, values: dict[str, Any], at: datetime) -> None:
    """Keep the rep's answers so far, as of `at` (the engine's time); written in the same transaction as their dialog state."""
    draft = session.get(NeedDraft, user_id)
    if draft is None:
        draft = NeedDraft(user_id=user_id)
    draft.values = dict(values)
    draft.updated_at = at
    session.add(draft)


def drop_draft(session: Session, user_id: int) -> None:
    session.execute(delete(NeedDraft).where(col(NeedDraft.user_id) == user_id))


# --- managers' filters ------------------------------------------------------------


@dataclass(frozen=True)
class NeedFilter:
    """What a manager narrowed the list to; every condition given must hold."""

    rep: str = ""
    team: str = ""
    tag: str = ""
    priority: str = ""
    source: str = "field"
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""

    def to_json(self) -> dict[str, str]:
        """The filter as it is kept in the dialog state."""
        out = {k: v for k, v in self.__dict__.items() if isinstance(v, str)}
        out.update(date_from=self.date_from.isoformat() if self.date_from else "", date_to=self.date_to.isoformat() if self.date_to else "")
        return out

    @classmethod
    def from_json(cls, data: dict[str, str]) -> NeedFilter:
        fields: dict[str, Any] = dict(data)
        for key in ("date_from", "date_to"):
            fields[key] = date.fromisoformat(data[key]) if data.get(key) else None
        return cls(**fields)

    def with_(self, **changes: Any) -> NeedFilter:
        return replace(self, **changes)

    def active(self) -> list[tuple[str, str]]:
        """The conditions in force, as (name, value) pairs, for showing them back."""
        pairs = [(k, getattr(self, k)) for k in ("rep", "team", "tag", "priority", "source", "text")]
        shown = [(k, v) for k, v in pairs if v]
        if self.date_from:
            shown.append(("from", self.date_from.isoformat()))
        if self.date_to:
            shown.append(("to", self.date_to.isoformat()))
        return shown


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _filtered(session: Session, flt: NeedFilter, scope: set[int] | None) -> SelectOfScalar[Need]:
    query = select(Need).where(Need.status == "active")
    if flt.source in SOURCES:
        query = query.where(Need.source == flt.source)
    if scope is not None:
        query = query.where(col(Need.rep_id).in_(scope or {-1}))
    if flt.rep:
        if flt.rep.isdigit():
            query = query.where(Need.rep_id == int(flt.rep))
        else:
            query = query.where(col(Need.rep_id).in_(select(User.id).where(col(User.name).icontains(flt.rep, autoescape=True))))
    if flt.team:
        members = select(Membership.user_id).join(Team, col(Team.id) == col(Membership.team_id)).where(Team.name == flt.team)
        query = query.where(col(Need.rep_id).in_(members))
    if flt.tag:
        query = query.where(col(Need.id).in_(select(NeedTag.need_id).where(NeedTag.tag == flt.tag.strip().lower())))
    if flt.priority:
        query = query.where(Need.priority == flt.priority)
    if flt.date_from:
        query = query.where(col(Need.created_at) >= _start_of(flt.date_from))
    if flt.date_to:
        query = query.where(col(Need.created_at) < _start_of(flt.date_to + timedelta(days=1)))
    if flt.text:
        query = query.where(col(Need.search_text).contains(flt.text.casefold(), autoescape=True))
    return query


def count_needs(session: Session, flt: NeedFilter, scope: set[int] | None) -> int:
    """How many needs match. Narrowed by source and the manager's reps alone (the board as it
    opens), the reps' counts are added up (NeedTally); any other filter counts the needs."""
    if flt.with_(source="field") == NeedFilter():
        tallied = select(func.coalesce(func.sum(NeedTally.count), 0)).where(NeedTally.status == "active")
        if flt.source in SOURCES:
            tallied = tallied.where(NeedTally.source == flt.source)
        if scope is not None:
            tallied = tallied.where(col(NeedTally.rep_id).in_(scope or {-1}))
        return int(session.exec(tallied).one())
    query = _filtered(session, flt, scope).with_only_columns(func.count(), maintain_column_froms=True)
    return int(session.execute(query).scalar_one())


def page_of_needs(session: Session, flt: NeedFilter, scope: set[int] | None, page: int, per_page: int) -> list[Need]:
    """One page of the matching needs, newest first."""
    query = _filtered(session, flt, scope).order_by(col(Need.created_at).desc(), col(Need.id).desc())
    return list(session.exec(query.offset(page * per_page).limit(per_page)).all())


EXPORT_COLUMNS = (
    col(Need.id),
    col(Need.created_at),
    col(Need.rep_id),
    col(Need.source),
    col(Need.lang),
    col(Need.fields),
    col(Need.evidence),
    col(Need.roleplay_id),
)


def iter_needs(session: Session, flt: NeedFilter, scope: set[int] | None, batch: int = BATCH) -> Iterator[list[Row[Any]]]:
    """The matching needs newest first, `batch` rows at a time, so an export never holds them all.

    Each batch starts where the last one ended, (created_at, id) below its last row, so
    a batch is read straight off an index that ends in those columns and nothing is
    sorted again per batch. Rows are plain tuples of `EXPORT_COLUMNS` with those names:
    building a model object for each of 100,000 needs cost more than the export itself,
    and so does the ORM's handling of plain column rows: they are read on the connection.
    """
    newest_first = (col(Need.created_at).desc(), col(Need.id).desc())
    query = _filtered(session, flt, scope).with_only_columns(*EXPORT_COLUMNS).order_by(*newest_first).limit(batch)
    page = query
    while True:
        rows = list(session.connection().execute(page).all())
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        page = query.where(tuple_(col(Need.created_at), col(Need.id)) < (rows[-1].created_at, rows[-1].id))


def top_tags(session: Session, flt: NeedFilter, scope: set[int] | None, limit: int = 12) -> list[str]:
    """The most used tags among the matching needs (for filter buttons)."""
    ids = _filtered(session, flt.with_(tag=""), scope).with_only_columns(col(Need.id))
    query = (
        select(NeedTag.tag, func.count())
        .where(col(NeedTag.need_id).in_(ids))
        .group_by(col(NeedTag.tag))
        .order_by(func.count().desc(), col(NeedTag.tag))
        .limit(limit)
    )
    return [tag for tag, _ in session.exec(query).all()]


def reps_with_needs(session: Session, scope: set[int] | None, limit: int = 20) -> list[tuple[int, str]]:
    """Reps who have captured needs (for filter buttons), most needs first, with their names ("" if none)."""
    query = select(Need.rep_id, User.name, func.count()).join(User, col(User.id) == col(Need.rep_id), isouter=True).where(Need.status == "active")
    if scope is not None:
        query = query.where(col(Need.rep_id).in_(scope or {-1}))
    rows = session.exec(query.group_by(col(Need.rep_id), col(User.name)).order_by(func.count().desc(), col(Need.rep_id)).limit(limit)).all()
    return [(rep_id, name or "") for rep_id, name, _ in rows]
