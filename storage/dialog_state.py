"""Per-user dialog state, read and written with optimistic locking."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.models import DialogState, utcnow
from storage.prepared import Prepared

STATE: Table = DialogState.__table__  # type: ignore[attr-defined]
# Every event runs these (storage/prepared.py); a user's first state is created once.
STATE_COLUMNS = ("dialog", "state", "data", "version")
_LOAD = Prepared(select(*(STATE.c[name] for name in STATE_COLUMNS)).where(STATE.c.user_id == bindparam("user_id")))
_CREATE = insert(STATE)
_SAVE = Prepared(update(STATE).where(STATE.c.user_id == bindparam("of_user"), STATE.c.version == bindparam("loaded")))


class StaleState(Exception):
    """Another process changed this user's state (or recorded this update) first; the event must be handled again."""


@dataclass
class Snapshot:
    """A user's dialog state as loaded; dialogs change `dialog`, `state` and `data`."""

    user_id: int
    dialog: str = ""
    state: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    exists: bool = False
    original: tuple[str, str, dict[str, Any]] = ("", "", {})

    def changed(self) -> bool:
        return (self.dialog, self.state, self.data) != self.original

    def clear(self) -> None:
        """Leave whatever dialog the user was in."""
        self.dialog, self.state, self.data = "", "", {}


def load_state(session: Session, user_id: int) -> Snapshot:
    """The user's current dialog state (empty if they are in none).

    Read and written with prepared statements on the session's connection (storage/prepared.py):
    every event does both, and the ORM's identity map and unit of work cost more here than they give.
    """
    return snapshot(user_id, _LOAD.run(session.connection(), {"user_id": user_id}).first_mapping())


def snapshot(user_id: int, row: dict[str, Any] | None) -> Snapshot:
    """The state as read (`STATE_COLUMNS`), or the empty state of a user who has none yet (no
    row, or an outer join's empty one)."""
    if row is None or row["version"] is None:
        return Snapshot(user_id=user_id)
    data = row["data"] or {}  # decoded for this read alone: the dialogs may change it in place
    return Snapshot(user_id, row["dialog"], row["state"], data, row["version"], True, (row["dialog"], row["state"], copy.deepcopy(data)))


def save_state(session: Session, snap: Snapshot) -> int:
    """Write the state if it changed and return the version now current.

    Raises StaleState when another process wrote first, so nothing is silently overwritten.
    """
    if not snap.changed():
        return snap.version
    connection = session.connection()
    if not snap.exists:
        try:
            with session.begin_nested():
                connection.execute(
                    _CREATE, {"user_id": snap.user_id, "dialog": snap.dialog, "state": snap.state, "data": snap.data, "version": 1, "updated_at": utcnow()}
                )
        except IntegrityError as exc:
            raise StaleState from exc
        return 1
    result = _SAVE.run(
        connection,
        {
            "of_user": snap.user_id,
            "loaded": snap.version,
            "dialog": snap.dialog,
            "state": snap.state,
            "data": snap.data,
            "version": snap.version + 1,
            "updated_at": utcnow(),
        },
    )
    if result.rowcount != 1:
        raise StaleState
    return snap.version + 1
