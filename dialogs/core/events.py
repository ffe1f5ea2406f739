"""What goes into the engine (Event) and what comes out (Reply): no transport in sight."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from storage.quiz_polls import PollTarget


@dataclass(frozen=True)
class PollVote:
    """A vote in a native quiz poll the bot sent: the poll's id and the positions of the options chosen."""

    poll_id: str
    option_ids: tuple[int, ...]


@dataclass(frozen=True)
class Event:
    """One thing a user did: typed text, sent a /command, pressed a button, or voted in a quiz poll.

    `update_id` is Telegram's id of the update it came in (None from the console).
    """

    user_id: int
    chat_id: int
    name: str = ""
    lang_hint: str = ""
    text: str | None = None
    command: str | None = None
    args: str = ""
    button: str | None = None
    vote: PollVote | None = None
    update_id: int | None = None


@dataclass
class Button:
    """A button under a message. `action` is stamped into callback data by the engine.

    Global buttons (menu entries) stay valid forever; the others expire as soon as the
    dialog that showed them moves on.
    """

    label: str
    action: str
    is_global: bool = False
    data: str = ""


def shorten(text: str, limit: int) -> str:
    """A label of at most `limit` characters: cut at the last space when there is one in the second
    half (whole words), else at a character (Chinese), and ending in "…" when anything was cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if text[limit - 1] != " " and space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:·-—，。；：、") + "…"


@dataclass(frozen=True)
class Document:
    """A file the bot sends (exports)."""

    filename: str
    content: bytes
    caption_key: str = ""


@dataclass(frozen=True)
class Poll:
    """A native quiz poll: the question, its options, the right one's position, the explanation
    shown after the vote, and what a vote in it answers (`target`)."""

    question: str
    options: tuple[str, ...]
    correct: int
    explanation: str
    target: PollTarget


@dataclass(frozen=True)
class Picture:
    """A PNG the bot sends as a photo (a chart, a certificate), kept as what to draw: `drawing` names
    one of dialogs/pictures/drawings.py's, `args` are its arguments, as JSON holds them; it is drawn
    when shown, after the event's transaction. The reply that carries it is its caption: the
    picture's text equivalent, for screen readers and the console."""

    filename: str
    drawing: str
    args: dict[str, Any]


@dataclass
class Reply:
    """A message to show: a template key and its data, with buttons.

    `notice` replies answer a button press in place (a toast on Telegram); `edit`
    replies replace the message whose button was pressed. A reply with `command_menu`
    shows nothing: it sets the Telegram command menu of chat `chat_id`. A reply with
    `progress_of` is the progress message of that push, edited as the push goes out. A reply
    with a `poll` is shown as that native quiz poll where the transport has them (Telegram),
    else as its text and buttons (the console).
    with a `picture` is shown as that photo, its text the caption.
    """

    key: str
    lang: str
    data: dict[str, Any] = field(default_factory=dict)
    buttons: list[list[Button]] = field(default_factory=list)
    notice: bool = False
    edit: bool = False
    chat_id: int | None = None
    document: Document | None = None
    picture: Picture | None = None
    command_menu: list[tuple[str, str]] | None = None
    progress_of: int | None = None
    poll: Poll | None = None
