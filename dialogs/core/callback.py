"""Callback data for buttons: short, versioned, and decoded in this one place.

Format ``1|<stamp>|<action>``: ``1`` is the format version, the stamp is ``g`` for a
global button or the dialog-state version (hexadecimal, so no stamp can read as ``g``) at
the time the button was shown.
Telegram allows 64 bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FORMAT = "1"
GLOBAL = "g"
MAX_BYTES = 64
_ACTION = re.compile(r"^[a-z_]{1,16}(:[A-Za-z0-9_.\-]{0,40}){0,3}$")


@dataclass(frozen=True)
class Press:
    """A decoded button press; `stamp` is None for global buttons."""

    stamp: int | None
    action: str

    @property
    def verb(self) -> str:
        return self.action.split(":", 1)[0]

    @property
    def arg(self) -> str:
        return self.action.split(":", 1)[1] if ":" in self.action else ""


def encode(action: str, stamp: int | None) -> str:
    """Callback data for `action`; raises ValueError for an action that could not round-trip."""
    if not _ACTION.match(action):
        raise ValueError(f"bad button action {action!r}")
    data = f"{FORMAT}|{GLOBAL if stamp is None else f'{stamp:x}'}|{action}"
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str) -> Press | None:
    """The press behind callback data, or None for anything malformed or of another format."""
    parts = data.split("|")
    if len(parts) != 3 or parts[0] != FORMAT or len(data.encode()) > MAX_BYTES:
        return None
    _, stamp, action = parts
    if not _ACTION.match(action):
        return None
    if stamp == GLOBAL:
        return Press(None, action)
    try:
        return Press(int(stamp, 16), action)
    except ValueError:
        return None
