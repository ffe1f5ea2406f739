"""Role-plays and their transcripts: started, played turn by turn, finished, exported."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import Table, bindparam, insert, select as core_select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.dialog_state import StaleState
from storage.exports import write_csv, write_jsonl
from storage.models import RolePlay, RolePlayTurn
from storage.prepared import Prepared
from storage.roleplay_tallies import line_values, missed_line, tally_finished, tally_unmatched

ROLEPLAY: Table = RolePlay.__table__  # type: ignore[attr-defined]
TURN: Table = RolePlayTurn.__table__  # type: ignore[attr-defined]
# Built once: role-play turns and scenes run these, and constructing a statement costs more than running it on SQLite.
_LOAD = Prepared(ROLEPLAY.select().where(ROLEPLAY.c.id == bindparam("roleplay_id")))
_START = insert(ROLEPLAY).returning(ROLEPLAY.c.id)
_KEEP = Prepared(update(ROLEPLAY).where(ROLEPLAY.c.id == bindparam("roleplay_id")))
_ADD_TURN = Prepared(insert(TURN))
PROGRESS = ("state", "turns", "strikes", "goodwill", "marks")
TURN_COLUMNS = ("roleplay_id", "number", "rep_text", "suggested", "verdict", "move", "customer_text", "at")
# PostgreSQL: the turn's row inserted in the statement that moves the role-play on (a data-changing
# WITH), one round trip instead of two; SQLite has no data-changing WITH and no round trips.
_KEEP_WITH_TURN = Prepared(
    update(ROLEPLAY)
    .where(ROLEPLAY.c.id == bindparam("roleplay_id"))
    .values({name: bindparam(name, type_=ROLEPLAY.c[name].type) for name in PROGRESS})
    .add_cte(insert(TURN).values({name: bindparam(name, type_=TURN.c[name].type) for name in TURN_COLUMNS}).cte("turn"))
    .add_cte(missed_line("postgresql"))
)
RESULT = ("outcome", "score", "finished_at", "facts_uncovered", "question_counts")


@dataclass(frozen=True)
class Scene:
    """Which role-play a turn belongs to: its id, its rep and its scenario (what a turn writes
    besides the customer's progress; the turn needs no more of the row, so it does not read it)."""

    id: int
    user_id: int
    scenario_id: str


# Role-plays are read and written here with SQLAlchemy Core on the session's connection, a
# turn's statements prepared (storage/prepared.py): a role-play turn writes the customer's
# progress back with a new turn (it has the progress from the dialog's state, not from the row),
# and the ORM's identity map and unit of work cost more on that path than they give. The RolePlay
# objects returned are not in the session; these functions write their changes.


def start_roleplay(session: Session, user_id: int, scenario_id: str, state: str, lang: str, at: datetime) -> RolePlay:
    """A new role-play, started `at` (the engine's time), with the customer in the scenario's first state."""
    roleplay = RolePlay(user_id=user_id, scenario_id=scenario_id, state=state, lang=lang, started_at=at)
    roleplay.id = session.connection().execute(_START, roleplay.model_dump(exclude={"id"})).scalar_one()
    return roleplay


def load_roleplay(session: Session, roleplay_id: int) -> RolePlay | None:
    """The stored role-play, as it stands."""
    row = _LOAD.run(session.connection(), {"roleplay_id": roleplay_id}).first_mapping()
    return RolePlay(**row) if row is not None else None


def record_turn(
    session: Session,
    scene: Scene,
    progress: Mapping[str, Any],
    *,
    number: int,
    rep_text: str,
    suggested: bool,
    verdict: dict[str, Any],
    move: str | None,
    customer_text: str,
    at: datetime,
) -> None:
    """Store one exchange (a RolePlayTurn row) together with where it left the customer
    (`progress`: the row's PROGRESS columns), and count a line the customer did not understand
    (no `move`) for /results: an UPDATE, an INSERT and that count, in one statement on PostgreSQL."""
    connection = session.connection()
    kept = {"roleplay_id": scene.id, **{name: progress[name] for name in PROGRESS}}
    turn = {
        "roleplay_id": scene.id,
        "number": number,
        "rep_text": rep_text,
        "suggested": suggested,
        "verdict": verdict,
        "move": move,
        "customer_text": customer_text,
        "at": at,
    }
    before = verdict.get("state") or ""
    try:
        if connection.dialect.name == "postgresql":
            _KEEP_WITH_TURN.run(connection, {**kept, **turn, **line_values(scene, rep_text, before, move is None)})
            return
        _KEEP.run(connection, kept)
        _ADD_TURN.run(connection, turn)
    except IntegrityError as exc:
        raise StaleState from exc  # another event of this rep's took the turn number first: play it again
    if move is None:
        tally_unmatched(session, scene, rep_text, before)


def turns_of(session: Session, roleplay_id: int) -> list[RolePlayTurn]:
    """The transcript of a role-play, in order."""
    query = select(RolePlayTurn).where(RolePlayTurn.roleplay_id == roleplay_id).order_by(col(RolePlayTurn.number))
    return list(session.exec(query).all())


def finish_roleplay(session: Session, roleplay: RolePlay, outcome: str, score: int, facts: list[str], counts: dict[str, int], at: datetime) -> None:
    """Record how a role-play ended `at` (the engine's time; on `roleplay` too), with where it left
    the customer, and count it for /results."""
    roleplay.outcome, roleplay.score, roleplay.finished_at = outcome, score, at
    roleplay.facts_uncovered, roleplay.question_counts = facts, counts
    _KEEP.run(session.connection(), {"roleplay_id": roleplay.id, **{name: getattr(roleplay, name) for name in (*PROGRESS, *RESULT)}})
    tally_finished(session, roleplay)


def attempts_at(session: Session, user_id: int, scenario_id: str) -> int:
    """How many role-plays of this scenario the rep has started."""
    query = select(RolePlay.id).where(RolePlay.user_id == user_id, RolePlay.scenario_id == scenario_id)
    return len(session.exec(query).all())


def finished_of(session: Session, user_id: int) -> list[RolePlay]:
    """A rep's finished role-plays, newest first."""
    query = select(RolePlay).where(RolePlay.user_id == user_id, col(RolePlay.finished_at).is_not(None))
    return list(session.exec(query.order_by(col(RolePlay.finished_at).desc())).all())


EXPORT_FIELDS = ("rep_id", "scenario", "lang", "outcome", "score", "facts_uncovered", "question_counts", "started_at", "finished_at", "transcript")


def export_records(session: Session, scenario_id: str | None = None, scope: set[int] | None = None, batch: int = 200) -> Iterator[dict[str, Any]]:
    """One record per finished role-play (of one scenario, by the reps in scope), oldest first, read in batches."""
    last_id = 0
    while True:
        query = select(RolePlay).where(col(RolePlay.finished_at).is_not(None), col(RolePlay.id) > last_id)
        if scenario_id is not None:
            query = query.where(RolePlay.scenario_id == scenario_id)
        page = list(session.exec(query.order_by(col(RolePlay.id)).limit(batch)).all())
        if not page:
            return
        last_id = page[-1].id or last_id
        rows = [r for r in page if scope is None or r.user_id in scope]
        turns: dict[int, list[RolePlayTurn]] = {}
        batch_turns = (
            select(RolePlayTurn)
            .where(col(RolePlayTurn.roleplay_id).in_([r.id for r in rows]))
            .order_by(col(RolePlayTurn.roleplay_id), col(RolePlayTurn.number))
        )
        for turn in session.exec(batch_turns).all():
            turns.setdefault(turn.roleplay_id, []).append(turn)
        for roleplay in rows:
            transcript = [
                {
                    "turn": t.number,
                    "rep": t.rep_text,
                    "suggested": t.suggested,
                    "form": t.verdict.get("form"),
                    "spin": t.verdict.get("spin"),
                    "move": t.move,
                    "customer": t.customer_text,
                }
                for t in turns.get(roleplay.id or 0, [])
            ]
            yield {
                "rep_id": roleplay.user_id,
                "scenario": roleplay.scenario_id,
                "lang": roleplay.lang,
                "outcome": roleplay.outcome,
                "score": roleplay.score,
                "facts_uncovered": list(roleplay.facts_uncovered),
                "question_counts": dict(roleplay.question_counts),
                "started_at": roleplay.started_at.isoformat(),
                "finished_at": roleplay.finished_at.isoformat() if roleplay.finished_at else None,
                "transcript": transcript,
            }
        session.expunge_all()


def write_roleplays(session: Session, fmt: str, handle: BinaryIO, scenario_id: str | None = None, scope: set[int] | None = None) -> int:
    """Stream every finished role-play to `handle` as JSON lines or CSV; returns how many were written.

    In CSV the nested fields (facts, counts, transcript) are JSON inside their cells.
    """
    return _write_records(handle, fmt, EXPORT_FIELDS, export_records(session, scenario_id, scope))


def _write_records(handle: BinaryIO, fmt: str, fields: Sequence[str], records: Iterable[dict[str, Any]]) -> int:
    """Stream records to `handle` as CSV (nested values as JSON in their cells) or JSON lines; how many were written."""
    written = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal written
        for record in records:
            written += 1
            yield record

    if fmt == "csv":
        rows = ([v if isinstance(v, (str, int)) or v is None else json.dumps(v, ensure_ascii=False) for v in r.values()] for r in counted())
        write_csv(handle, fields, rows)
    else:
        write_jsonl(handle, counted())
    return written


UNMATCHED_FIELDS = ("scenario", "state", "lang", "rep_text", "turn", "roleplay_id", "rep_id", "at")


def _unmatched(query: Any, scenario_id: str | None, scope: set[int] | None) -> Any:
    """`query` over the turns the customer did not understand (no move), joined to their role-play,
    of one scenario (None: all) by the reps in scope (None: everyone)."""
    query = query.select_from(RolePlayTurn).join(RolePlay, col(RolePlay.id) == col(RolePlayTurn.roleplay_id)).where(col(RolePlayTurn.move).is_(None))
    if scenario_id is not None:
        query = query.where(col(RolePlay.scenario_id) == scenario_id)
    if scope is not None:
        query = query.where(col(RolePlay.user_id).in_(scope or {-1}))
    return query


def _state_before() -> Any:
    """The customer's state before the turn, as stored in its verdict (None for turns stored before it was kept)."""
    return col(RolePlayTurn.verdict)["state"].as_string()


def unmatched_records(session: Session, scenario_id: str | None = None, scope: set[int] | None = None, batch: int = 500) -> Iterator[dict[str, Any]]:
    """Every rep line the customer did not understand, in any role-play (finished or not), oldest first, read in batches."""
    last_id = 0
    columns = (
        col(RolePlayTurn.id),
        col(RolePlay.scenario_id),
        _state_before(),
        col(RolePlay.lang),
        col(RolePlayTurn.rep_text),
        col(RolePlayTurn.number),
        col(RolePlayTurn.roleplay_id),
        col(RolePlay.user_id),
        col(RolePlayTurn.at),
    )
    while True:
        query = _unmatched(core_select(*columns), scenario_id, scope).where(col(RolePlayTurn.id) > last_id)
        page = session.execute(query.order_by(col(RolePlayTurn.id)).limit(batch)).all()
        if not page:
            return
        last_id = page[-1][0]
        for _, scenario, state, lang, text, number, roleplay_id, user_id, at in page:
            yield {
                "scenario": scenario,
                "state": state,
                "lang": lang,
                "rep_text": text,
                "turn": number,
                "roleplay_id": roleplay_id,
                "rep_id": user_id,
                "at": at.isoformat(),
            }


def write_unmatched(session: Session, fmt: str, handle: BinaryIO, scenario_id: str | None = None, scope: set[int] | None = None) -> int:
    """Stream every line the customer did not understand to `handle` as JSON lines or CSV; returns how many were written."""
    return _write_records(handle, fmt, UNMATCHED_FIELDS, unmatched_records(session, scenario_id, scope))
