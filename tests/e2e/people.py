"""The people in end-to-end tests: Telegram users in a private chat with the bot, and what
they see of it. The bot is another process, so actions return at once and answers are
waited for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import Chat, User

if TYPE_CHECKING:
    from tests.e2e.emulator import Emulator

DEFAULT_WAIT = 15.0


@dataclass(frozen=True)
class Seen:
    """Something the bot showed a user: a message, an edit of one, a document, a photo, a quiz
    poll, or a notice (the text a button press was answered with). `text` is what the user reads
    (a document's or photo's caption, a poll's question; its `options` apart)."""

    kind: str
    text: str
    message_id: int | None = None
    buttons: tuple[tuple[str, ...], ...] = ()
    filename: str | None = None
    content: bytes | None = None
    options: tuple[str, ...] = ()

    def __str__(self) -> str:
        shown = self.text if len(self.text) <= 400 else self.text[:400] + "…"
        extra = f" [file {self.filename}]" if self.filename else ""
        keys = " ".join(f"[{label}]" for row in self.buttons for label in row) + "".join(f" ({option})" for option in self.options)
        return f"{self.kind}: {shown}{extra}{(' ' + keys) if keys else ''}"

    def matches(self, what: str | Callable[[Seen], bool]) -> bool:
        """`what` is in the text, a button label, a poll option or the file name (or `what(self)` holds)."""
        if callable(what):
            return bool(what(self))
        return (
            what in self.text
            or any(what in label for row in self.buttons for label in row)
            or any(what in option for option in self.options)
            or (self.filename is not None and what in self.filename)
        )


class TelegramUser:
    """A simulated person in a private chat with the bot. Actions return at once; read the
    bot's answers with `wait_for` (the bot is another process)."""

    def __init__(self, emulator: Emulator, user_id: int, name: str, lang: str) -> None:
        self.emulator, self.id, self.name, self.lang = emulator, user_id, name, lang
        self.blocked = False
        self.mark = 0

    def as_user(self) -> User:
        return User(self.id, self.name, False, language_code=self.lang or None)

    def as_chat(self) -> Chat:
        return Chat(self.id, Chat.PRIVATE, first_name=self.name)

    def send(self, text: str) -> None:
        """Types `text` and sends it; /commands carry bot_command entities as in Telegram."""
        if not text.strip() or len(text) > self.emulator.limits.text:
            raise ValueError(f"a Telegram client cannot send a message of {len(text)} characters")
        self.emulator.on_loop(self.emulator.user_message, self, text)

    def press(self, label: str, message: Seen | None = None) -> None:
        """Presses the inline button `label` on `message`, or on the newest bot message that has one."""
        self.emulator.on_loop(self.emulator.user_press, self, label, message.message_id if message else None)

    def vote(self, option: str, poll: Seen | None = None) -> None:
        """Answers the quiz poll `poll`, or the newest one that has `option`, with `option`."""
        self.emulator.on_loop(self.emulator.user_vote, self, option, poll.message_id if poll else None)

    def block(self) -> None:
        """The user blocks the bot: from now on sending to them is refused with 403."""
        self.blocked = True

    def messages(self) -> list[Seen]:
        """What the bot showed this user since their last message or press."""
        return self.emulator.on_loop(lambda: self.emulator.seen(self.id)[self.mark :])

    def transcript(self) -> list[Seen]:
        """Everything the bot showed this user."""
        return self.emulator.on_loop(self.emulator.seen, self.id)

    def wait_for(self, what: str | Callable[[Seen], bool], timeout: float = DEFAULT_WAIT) -> Seen:
        """The first thing the bot showed since the user's last action that contains `what`
        (in its text, a button label or a file name; or that satisfies `what`, given a
        function); waits for it to arrive."""
        return self.emulator.wait_for(self, what, timeout)

    def commands(self) -> list[tuple[str, str]]:
        """The command menu this user sees (their chat's, else the default, in their language)."""
        return self.emulator.on_loop(self.emulator.menu_for, self)

    def __repr__(self) -> str:
        return f"TelegramUser({self.id}, {self.name!r})"
