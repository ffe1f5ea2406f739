"""Users: created on first contact, language remembered."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import User, utcnow

# last_seen says whether someone still uses the bot, not what they did this second:
# refreshing it at most once a minute spares nearly every event an UPDATE.
LAST_SEEN_STALE = timedelta(minutes=1)


def ensure_user(session: Session, user_id: int, name: str, chat_id: int | None) -> User:
    """The user row for this id, created on first contact; name and chat kept current,
    last_seen when it is older than LAST_SEEN_STALE.

    On PostgreSQL the row stays locked (FOR UPDATE) until the transaction ends, so two
    events of one user in two processes are handled one after the other instead of
    racing each other into StaleState retries; other users are not held up.
    When a new user's first messages reach two bot processes at once, both try to create
    the row; the one that loses the race reads the row the other created and goes on.
    """
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        created = User(id=user_id, name=name[:200], chat_id=chat_id)
        try:
            with session.begin_nested():
                session.add(created)
            return created
        except IntegrityError:
            user = session.get(User, user_id, with_for_update=True)
            assert user is not None
    if name and user.name != name[:200]:
        user.name = name[:200]
    if chat_id is not None and user.chat_id != chat_id:
        user.chat_id = chat_id
    now = utcnow()
    if now - user.last_seen >= LAST_SEEN_STALE:
        user.last_seen = now
    return user


def preset_language(session: Session, user_id: int, name: str, lang: str) -> None:
    """Give a user a language before their first message (console --lang), unless they chose one."""
    user = ensure_user(session, user_id, name, user_id)
    if not user.lang:
        user.lang = lang
        session.add(user)
    session.commit()


def known_rep(session: Session, rep: str) -> bool:
    """Whether `rep` names someone as the needs filter rep:… reads it: a Telegram id, or a part of
    a name (any case)."""
    if rep.isdigit():
        return session.get(User, int(rep)) is not None
    return session.exec(select(User.id).where(col(User.name).icontains(rep, autoescape=True)).limit(1)).first() is not None
