"""The per-event context a dialog works with: who, where they are, and what to say."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from dialogs.core.catalogue import Catalogue
from dialogs.core.events import Button, Event, Picture, Reply
from dialogs.pictures.fonts import MissingCjkFont, installed_cjk_fonts
from knowledge.copy import copy_text
from knowledge.loader import Knowledge
from storage.access import roles_of
from storage.dialog_state import Snapshot
from storage.models import User, utcnow
from storage.users import language_of

log = logging.getLogger(__name__)


@cache
def _warn_once(problem: str) -> None:
    log.warning("pictures are sent as their words alone: %s", problem)


@dataclass(frozen=True)
class Settings:
    """What the engine needs to know about its deployment."""

    admin_ids: frozenset[int] = frozenset()
    bot_username: str = ""
    xapi_base_url: str = "https://salescoach.example"
    timezone: str = "Asia/Shanghai"

    @property
    def zone(self) -> ZoneInfo:
        """The deployment's timezone: the days, reminder times and quiet hours reps see are in it."""
        return ZoneInfo(self.timezone)


@dataclass
class Ctx:
    """Everything one event's handling touches; replies collect in `replies`; `now` is when the
    engine handles it (its clock: tests set one)."""

    session: Session
    user: User
    snap: Snapshot
    knowledge: Knowledge
    event: Event
    settings: Settings
    catalogue: Catalogue
    replies: list[Reply] = field(default_factory=list)
    # Set by a feature when the rep finished something a learning path may count (a lesson read, a
    # quiz, a drill, a role-play): the router then checks whether a certificate is due.
    studied: bool = False
    _roles: set[str] | None = None
    now: datetime = field(default_factory=utcnow)

    @property
    def roles(self) -> set[str]:
        """The user's roles, read once per event."""
        if self._roles is None:
            self._roles = roles_of(self.session, self.user.id, self.settings.admin_ids)
        return self._roles

    def forget_roles(self) -> None:
        """Roles changed during this event; read them again when next asked."""
        self._roles = None

    @property
    def lang(self) -> str:
        """The user's language: chosen, else guessed from their Telegram client, else zh."""
        return language_of(self.user)

    def say(self, key: str, buttons: list[list[Button]] | None = None, **data: Any) -> None:
        """Queue a message rendered from template `key`."""
        self.replies.append(Reply(key, self.lang, data, buttons or []))

    def show(self, key: str, filename: str, drawing: str, args: dict[str, Any], buttons: list[list[Button]] | None = None, **data: Any) -> None:
        """Queue a photo (a chart, a certificate), the drawing `drawing` of `args` (drawn when it is
        shown: dialogs/pictures/drawings.py), captioned from template `key`: what the picture shows,
        in words, for screen readers and the console. Where no font draws Chinese (a console on a
        machine without fonts-noto-cjk; the Telegram bot refuses to start there) the rep gets the
        caption alone, and the log says once what to install."""
        try:
            installed_cjk_fonts()  # not `families()`: loading the fonts takes 100-200 ms, left to the drawing
            picture: Picture | None = Picture(filename, drawing, args)
        except MissingCjkFont as exc:
            _warn_once(str(exc))
            picture = None
        self.replies.append(Reply(key, self.lang, data, buttons or [], picture=picture))

    def notice(self, key: str, **data: Any) -> None:
        """Queue a short notice that answers a button press in place."""
        self.replies.append(Reply(key, self.lang, data, notice=True))

    def label(self, key: str) -> str:
        """A button label in the user's language."""
        return copy_text().label(key, self.lang)

    def person(self, name: str | None, user_id: int) -> str:
        """How a user is shown in lists: their name, or "Rep 1234" (销售 1234) when they have none."""
        return name or self.label("rep_unnamed").format(id=user_id)

    def button(self, label_key: str, action: str, *, is_global: bool = False) -> Button:
        """A button whose label comes from the copy catalogue."""
        return Button(self.label(label_key), action, is_global)
