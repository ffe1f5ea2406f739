"""What /results shows of a scenario's role-plays, counted as they happen: each rep's outcomes and
best score, the facts they uncovered, the lines the customer did not understand.

Counting 100,000 role-plays at each /results took a third of a second; these tallies hold a row
per rep (and outcome, fact or line), kept in the transaction that finishes a role-play or stores
an unmatched turn, and /results adds up the rows of the reps in scope. `recount` makes them again
from the role-plays themselves, for rows written past storage/roleplays.py (a bulk load, a test).
"""

from __future__ import annotations

import hashlib
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import CTE, Boolean, Table, bindparam, delete, func, insert, literal, select, true
from sqlmodel import Session, col

from storage.db import DIALECTS, tallied, upsert
from storage.models import FactTally, RolePlay, RolePlayTally, RolePlayTurn, UnmatchedTally, User

ROLEPLAYS: Table = RolePlayTally.__table__  # type: ignore[attr-defined]
FACTS: Table = FactTally.__table__  # type: ignore[attr-defined]
UNMATCHED: Table = UnmatchedTally.__table__  # type: ignore[attr-defined]
ABANDONED = "abandoned"  # how a role-play finished without an outcome is counted
RECOUNT_BATCH = 2_000


_ENDED = {d: tallied(d, ROLEPLAYS, "played", highest="best") for d in DIALECTS}
_FACT = {d: tallied(d, FACTS, "count") for d in DIALECTS}
_MISSED = {d: tallied(d, UNMATCHED, "count") for d in DIALECTS}


class Played(Protocol):
    """Whose line it was: a rep's role-play of a scenario (a RolePlay row, or a turn's
    storage/roleplays.Scene)."""

    @property
    def scenario_id(self) -> str: ...

    @property
    def user_id(self) -> int: ...


def missed_line(dialect: str) -> CTE:
    """PostgreSQL: the counting of `tally_unmatched` as a part of another statement (a role-play
    turn's, storage/roleplays.py), so a line the customer missed costs no round trip of its own.
    It counts only when the bound `missed` is true, by one; its values are bound as `line_<column>`
    (storage/db.tallied builds the same count for a statement of its own)."""
    names = ("scenario_id", "digest", "user_id", "state", "text")
    values = select(*(bindparam(f"line_{name}", type_=UNMATCHED.c[name].type) for name in names), literal(1)).where(bindparam("missed", type_=Boolean()))
    statement = upsert(dialect, UNMATCHED).from_select([*names, "count"], values)
    counted = statement.on_conflict_do_update(index_elements=list(UNMATCHED.primary_key.columns.keys()), set_={"count": UNMATCHED.c.count + 1})
    return counted.cte("missed_line")


def line_values(roleplay: Played, said: str, state: str, missed: bool) -> dict[str, Any]:
    """The values `missed_line` binds (the line is keyed only when it was missed)."""
    text, digest = line_key(said) if missed else ("", "")
    return {"missed": missed, **{f"line_{name}": value for name, value in _line(roleplay, state, text, digest).items()}}


def _line(roleplay: Played, state: str, text: str, digest: str) -> dict[str, Any]:
    """An unmatched line's key columns and text, as its tally row holds them."""
    return {"scenario_id": roleplay.scenario_id, "digest": digest, "user_id": roleplay.user_id, "state": state, "text": text}


def line_key(said: str) -> tuple[str, str]:
    """A line as /results groups it (stripped, lower case) and the digest that keys it."""
    text = said.strip().lower()
    return text, hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def tally_finished(session: Session, roleplay: RolePlay) -> None:
    """Count a role-play that has just finished (its outcome, score and facts set), in the caller's transaction."""
    connection = session.connection()
    dialect = connection.dialect.name
    who = {"scenario_id": roleplay.scenario_id, "user_id": roleplay.user_id, "by": 1}
    connection.execute(_ENDED[dialect], {**who, "outcome": roleplay.outcome or ABANDONED, "best": roleplay.score or 0})
    if roleplay.facts_uncovered:
        connection.execute(_FACT[dialect], [{**who, "fact": fact} for fact in roleplay.facts_uncovered])


def tally_unmatched(session: Session, roleplay: Played, said: str, state: str) -> None:
    """Count a line the customer did not understand, said in `state`, in the caller's transaction."""
    connection = session.connection()
    connection.execute(_MISSED[connection.dialect.name], {**_line(roleplay, state, *line_key(said)), "by": 1})


def _list_items(session: Session, column: Any) -> Any:
    """A JSON list column as a table of its items (`value`), joined to its row in FROM."""
    name = "json_array_elements_text" if session.get_bind().dialect.name == "postgresql" else "json_each"
    return getattr(func, name)(column).table_valued("value")


def recount(session: Session) -> None:
    """Every tally made again from the role-plays and turns themselves; the caller's transaction commits."""
    for table in (ROLEPLAYS, FACTS, UNMATCHED):
        session.execute(delete(table))
    finished = col(RolePlay.finished_at).is_not(None)
    outcome = func.coalesce(RolePlay.outcome, ABANDONED)
    ended = select(col(RolePlay.scenario_id), col(RolePlay.user_id), outcome, func.count(), func.max(func.coalesce(RolePlay.score, 0))).where(finished)
    session.execute(
        insert(ROLEPLAYS).from_select(
            ["scenario_id", "user_id", "outcome", "played", "best"], ended.group_by(col(RolePlay.scenario_id), col(RolePlay.user_id), outcome)
        )
    )
    items = _list_items(session, RolePlay.facts_uncovered)
    facts = select(col(RolePlay.scenario_id), col(RolePlay.user_id), items.c.value, func.count()).select_from(RolePlay).join(items, true()).where(finished)
    session.execute(
        insert(FACTS).from_select(["scenario_id", "user_id", "fact", "count"], facts.group_by(col(RolePlay.scenario_id), col(RolePlay.user_id), items.c.value))
    )
    state = func.coalesce(col(RolePlayTurn.verdict)["state"].as_string(), "")
    turns = select(col(RolePlay.scenario_id), col(RolePlay.user_id), state, col(RolePlayTurn.rep_text)).join(
        RolePlay, col(RolePlay.id) == col(RolePlayTurn.roleplay_id)
    )
    counted: Counter[tuple[str, int, str, str]] = Counter()
    texts: dict[str, str] = {}
    for scenario_id, user_id, before, said in session.execute(turns.where(col(RolePlayTurn.move).is_(None))):
        text, digest = line_key(said)
        texts[digest] = text
        counted[scenario_id, user_id, before, digest] += 1
    rows = [{"scenario_id": s, "user_id": u, "state": st, "digest": d, "text": texts[d], "count": n} for (s, u, st, d), n in counted.items()]
    for start in range(0, len(rows), RECOUNT_BATCH):
        session.execute(insert(UNMATCHED), rows[start : start + RECOUNT_BATCH])


@dataclass
class UnmatchedLine:
    """One line (stripped, in lower case) the customer did not understand: how often it was said, and in which states."""

    text: str
    count: int = 0
    states: Counter[str] = field(default_factory=Counter)  # "" for turns stored before the state was kept


def _in_scope(query: Any, table: Table, scenario_id: str, scope: set[int] | None) -> Any:
    """`query` over `table`'s rows of one scenario by the reps in scope (None: everyone)."""
    query = query.where(table.c.scenario_id == scenario_id)
    return query if scope is None else query.where(table.c.user_id.in_(scope or {-1}))


def unmatched_lines(session: Session, scenario_id: str, scope: set[int] | None, top: int = 10) -> list[UnmatchedLine]:
    """The `top` most frequent lines of a scenario the customer did not understand, by the reps in scope
    (None: everyone), in any role-play, finished or not; ties in text order. Two reads of the
    tally: the top lines, then the states they were said in."""
    total = func.sum(UNMATCHED.c.count).label("total")
    text = func.min(UNMATCHED.c.text)
    in_text_order = text.collate("C") if session.get_bind().dialect.name == "postgresql" else text  # Python's order: by code point
    ranked = _in_scope(select(UNMATCHED.c.digest, text, total), UNMATCHED, scenario_id, scope).group_by(UNMATCHED.c.digest)
    lines = {digest: UnmatchedLine(said, count) for digest, said, count in session.execute(ranked.order_by(total.desc(), in_text_order).limit(top))}
    if not lines:
        return []
    states = _in_scope(select(UNMATCHED.c.digest, UNMATCHED.c.state, func.sum(UNMATCHED.c.count)), UNMATCHED, scenario_id, scope)
    for digest, state, count in session.execute(states.where(UNMATCHED.c.digest.in_(lines)).group_by(UNMATCHED.c.digest, UNMATCHED.c.state)):
        lines[digest].states[state] += count
    return list(lines.values())


@dataclass
class RolePlayResults:
    """What trainers and managers see for one scenario over the reps in their scope."""

    reps: int = 0
    played: int = 0
    best: dict[int, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)
    uncovered: Counter[str] = field(default_factory=Counter)

    @property
    def average(self) -> float | None:
        """The average of each rep's best score."""
        return round(float(statistics.mean(self.best.values())), 1) if self.best else None

    @property
    def median(self) -> float | None:
        """The median of each rep's best score."""
        return float(statistics.median(self.best.values())) if self.best else None


def roleplay_results(session: Session, scenario_id: str, scope: set[int] | None) -> RolePlayResults:
    """Finished role-plays of a scenario by the reps in scope (None: everyone), added up from the
    tallies: a row per rep and outcome, and one per fact uncovered."""
    per_rep = select(ROLEPLAYS.c.user_id, col(User.name), ROLEPLAYS.c.outcome, ROLEPLAYS.c.best, ROLEPLAYS.c.played)
    per_rep = per_rep.join(User, col(User.id) == ROLEPLAYS.c.user_id, isouter=True).order_by(ROLEPLAYS.c.user_id, ROLEPLAYS.c.outcome)
    results = RolePlayResults()
    for user_id, name, ended, best, played in session.execute(_in_scope(per_rep, ROLEPLAYS, scenario_id, scope)).all():
        results.best[user_id] = max(results.best.get(user_id, 0), best)
        results.names[user_id] = name or ""
        results.outcomes[ended] += played
        results.played += played
    uncovered = _in_scope(select(FACTS.c.fact, func.sum(FACTS.c.count)), FACTS, scenario_id, scope).group_by(FACTS.c.fact)
    results.uncovered.update(dict(session.execute(uncovered).all()))
    results.reps = len(scope) if scope is not None else len(results.best)
    return results
