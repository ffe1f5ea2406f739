"""Role-plays and their transcripts: started, played turn by turn, finished, exported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from sqlmodel import Session, col, select

from storage.exports import write_csv, write_jsonl
from storage.models import RolePlay, RolePlayTurn, utcnow


def start_roleplay(session: Session, user_id: int, scenario_id: str, state: str, lang: str) -> RolePlay:
    """A new role-play with the customer in the scenario's first state."""
    roleplay = RolePlay(user_id=user_id, scenario_id=scenario_id, state=state, lang=lang)
    session.add(roleplay)
    session.flush()
    return roleplay


def record_turn(session: Session, roleplay: RolePlay, turn: RolePlayTurn) -> None:
    """Store one exchange together with where it left the customer (already set on `roleplay`)."""
    session.add(roleplay)
    session.add(turn)
    session.flush()


def turns_of(session: Session, roleplay_id: int) -> list[RolePlayTurn]:
    """The transcript of a role-play, in order."""
    query = select(RolePlayTurn).where(RolePlayTurn.roleplay_id == roleplay_id).order_by(col(RolePlayTurn.number))
    return list(session.exec(query).all())


def finish_roleplay(session: Session, roleplay: RolePlay, outcome: str, score: int, facts: list[str], counts: dict[str, int]) -> None:
    """Record how a role-play ended."""
    roleplay.outcome, roleplay.score, roleplay.finished_at = outcome, score, utcnow()
    roleplay.facts_uncovered, roleplay.question_counts = facts, counts
    session.add(roleplay)
    session.flush()


def attempts_at(session: Session, user_id: int, scenario_id: str) -> int:
    """How many role-plays of this scenario the rep has started."""
    query = select(RolePlay.id).where(RolePlay.user_id == user_id, RolePlay.scenario_id == scenario_id)
    return len(session.exec(query).all())


def finished_of(session: Session, user_id: int) -> list[RolePlay]:
    """A rep's finished role-plays, newest first."""
    query = select(RolePlay).where(RolePlay.user_id == user_id, col(RolePlay.finished_at).is_not(None))
    return list(session.exec(query.order_by(col(RolePlay.finished_at).desc())).all())


EXPORT_FIELDS = ("rep_id", "scenario", "lang", "outcome", "score", "facts_uncovered", "question_counts", "started_at", "finished_at", "transcript")


def export_records(session: Session, batch: int = 200) -> Iterator[dict[str, Any]]:
    """One record per finished role-play, oldest first, read in batches so memory stays flat."""
    last_id = 0
    while True:
        query = select(RolePlay).where(col(RolePlay.finished_at).is_not(None), col(RolePlay.id) > last_id).order_by(col(RolePlay.id)).limit(batch)
        rows = list(session.exec(query).all())
        if not rows:
            return
        for roleplay in rows:
            transcript = [
                {"turn": t.number, "rep": t.rep_text, "suggested": t.suggested, "form": t.verdict.get("form"), "spin": t.verdict.get("spin"), "move": t.move, "customer": t.customer_text}
                for t in turns_of(session, roleplay.id or 0)
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
        last_id = rows[-1].id or last_id
        session.expunge_all()


def write_roleplays(session: Session, fmt: str, handle: BinaryIO) -> int:
    """Stream every finished role-play to `handle` as JSON lines or CSV; returns how many were written.

    In CSV the nested fields (facts, counts, transcript) are JSON inside their cells.
    """
    written = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal written
        for record in export_records(session):
            written += 1
            yield record

    if fmt == "csv":
        rows = ([v if isinstance(v, (str, int)) or v is None else json.dumps(v, ensure_ascii=False) for v in r.values()] for r in counted())
        write_csv(handle, EXPORT_FIELDS, rows)
    else:
        write_jsonl(handle, counted())
    return written
