"""Users: created on first contact, language remembered (chosen, and their Telegram client's)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Table, bindparam, select as core_select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from storage.db import DIALECTS, upsert
from storage.dialog_state import STATE, STATE_COLUMNS, Snapshot, load_state, snapshot
from storage.models import User, utcnow
from storage.prepared import Prepared

# last_seen says whether someone still uses the bot, not what they did this second:
# refreshing it at most once a minute spares nearly every event an UPDATE.
LAST_SEEN_STALE = timedelta(minutes=1)
DEFAULT_LANG = "zh"
USER: Table = User.__table__  # type: ignore[attr-defined]
# Every event runs these (storage/prepared.py): a user's row and their dialog state are read in
# one statement (every event needs both). On PostgreSQL it locks both rows (FOR UPDATE OF both), so
# that after waiting for another event of the user's it reads the state as that event left it: a
# joined row that is not locked is not read again after the wait (tests/test_scale_out.py caught
# that). A locked row cannot be on an outer join's empty side, so a user with no state yet (their
# first event) is read on their own, and their state (none) after it. Only the engine writes a
# dialog state, always holding its user's row first, so locking both never deadlocks.
_WITH_STATE = core_select(*USER.c, *(STATE.c[name] for name in STATE_COLUMNS)).where(USER.c.id == bindparam("id"))
_FIND_EACH = {
    "sqlite": Prepared(_WITH_STATE.select_from(USER.outerjoin(STATE, STATE.c.user_id == USER.c.id))),
    "postgresql": Prepared(_WITH_STATE.select_from(USER.join(STATE, STATE.c.user_id == USER.c.id)).with_for_update(of=[USER, STATE])),
}
_FIND_ALONE = Prepared(USER.select().where(USER.c.id == bindparam("id")).with_for_update())  # PostgreSQL, a user with no state
_CREATE = {dialect: Prepared(upsert(dialect, USER).on_conflict_do_nothing()) for dialect in DIALECTS}
_CHANGE = Prepared(update(USER).where(USER.c.id == bindparam("user_id")))


def _find(connection: Connection, user_id: int) -> dict[str, Any] | None:
    found = _FIND_EACH[connection.dialect.name].run(connection, {"id": user_id}).first_mapping()
    if found is None and connection.dialect.name == "postgresql":
        return _FIND_ALONE.run(connection, {"id": user_id}).first_mapping()
    return found


def meet(session: Session, user_id: int, name: str, chat_id: int | None, lang_hint: str = "") -> tuple[User, Snapshot]:
    """`ensure_user`'s user, with their dialog state as `load_state` reads it (one statement)."""
    user, snap = _ensure(session, user_id, name, chat_id, lang_hint)
    return user, snap if snap is not None else load_state(session, user_id)


def guess_lang(hint: str) -> str:
    """The language for someone who has not chosen one: English if their client is, else Chinese."""
    return "en" if hint.lower().startswith("en") else DEFAULT_LANG


def language_of(user: User) -> str:
    """The language to write to a user in, in a reply or unasked: the one they chose, else
    their Telegram client's as last seen (guess_lang)."""
    return user.lang or guess_lang(user.lang_hint)


def ensure_user(session: Session, user_id: int, name: str, chat_id: int | None, lang_hint: str = "") -> User:
    """The user row for this id, created on first contact; name, chat and client language
    (`lang_hint`, when the event has one) kept current, last_seen when it is older than LAST_SEEN_STALE.

    Read (and written, when something changed) with prepared statements (storage/prepared.py):
    every event does this, and the ORM's identity map costs more here than it gives. The User returned is
    not in the session; `set_language` changes it.
    On PostgreSQL the row stays locked (FOR UPDATE) until the transaction ends, so two
    events of one user in two processes are handled one after the other instead of
    racing each other into StaleState retries; other users are not held up.
    When a new user's first messages reach two bot processes at once, both try to create
    the row; the one that loses the race inserts nothing, reads the row the other created and goes on.
    """
    return _ensure(session, user_id, name, chat_id, lang_hint)[0]


def _ensure(session: Session, user_id: int, name: str, chat_id: int | None, lang_hint: str) -> tuple[User, Snapshot | None]:
    """The user (see `ensure_user`) and, where it was read with them or is known (a new
    user), their dialog state."""
    connection = session.connection()
    name = name[:200]
    values = _find(connection, user_id)
    if values is None:
        now = utcnow()
        created: dict[str, Any] = {
            "id": user_id,
            "name": name,
            "lang": "",
            "lang_hint": lang_hint,
            "chat_id": chat_id,
            "created_at": now,
            "last_seen": now,
            "on_leaderboard": False,
            "nickname": "",
        }
        if _CREATE[connection.dialect.name].run(connection, created).rowcount == 1:
            return User(**created), Snapshot(user_id=user_id)  # nobody new has a state yet
        values = _find(connection, user_id)
        assert values is not None  # the row another process just created
    changed: dict[str, Any] = {}
    if name and values["name"] != name:
        changed["name"] = name
    if chat_id is not None and values["chat_id"] != chat_id:
        changed["chat_id"] = chat_id
    if lang_hint and values["lang_hint"] != lang_hint:
        changed["lang_hint"] = lang_hint
    now = utcnow()
    if now - values["last_seen"] >= LAST_SEEN_STALE:
        changed["last_seen"] = now
    if changed:
        _CHANGE.run(connection, {"user_id": user_id, **changed})
    state = {key: values.pop(key) for key in STATE_COLUMNS} if "version" in values else None
    return User(**(values | changed)), None if state is None else snapshot(user_id, state)


def set_language(session: Session, user: User, lang: str) -> None:
    """Remember the language a user chose (on `user` too)."""
    session.connection().execute(update(USER).where(USER.c.id == user.id).values(lang=lang))
    user.lang = lang


def preset_language(session: Session, user_id: int, name: str, lang: str) -> None:
    """Give a user a language before their first message (console --lang), unless they chose one."""
    user = ensure_user(session, user_id, name, user_id)
    if not user.lang:
        set_language(session, user, lang)
    session.commit()


def known_rep(session: Session, rep: str) -> bool:
    """Whether `rep` names someone as the needs filter rep:… reads it: a Telegram id, or a part of
    a name (any case)."""
    if rep.isdigit():
        return session.get(User, int(rep)) is not None
    return session.exec(select(User.id).where(col(User.name).icontains(rep, autoescape=True)).limit(1)).first() is not None
