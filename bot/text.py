"""Turning rendered HTML into what each transport can show."""

from __future__ import annotations

import html
import re

TELEGRAM_LIMIT = 4096
_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|[^<&]+|[<&]")
_TAG = re.compile(r"^<(/?)([a-zA-Z-]+)")


def _pieces(token: str, room: int) -> list[str]:
    """Text split at line ends, and lines longer than `room` split into slices."""
    if token.startswith(("<", "&")):
        return [token]
    out: list[str] = []
    for line in re.split(r"(?<=\n)", token):
        out.extend(line[i : i + room] for i in range(0, len(line), room) if line[i : i + room])
    return out


def split_html(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split Telegram HTML into messages of at most `limit` characters, never dropping text.

    Breaks fall at line ends where possible; tags open at a break are closed at the end
    of one part and opened again at the start of the next, so every part is valid HTML.
    """
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    stack: list[tuple[str, str]] = []
    current = ""
    for token in _TOKEN.findall(text):
        reopen = "".join(tag for _, tag in stack)
        closing = "".join(f"</{name}>" for name, _ in reversed(stack))
        for piece in _pieces(token, max(1, limit // 2 - len(reopen) - len(closing))):
            closing = "".join(f"</{name}>" for name, _ in reversed(stack))
            if len(current) + len(piece) + len(closing) > limit and current.strip():
                chunks.append(current + closing)
                current = "".join(tag for _, tag in stack)
            current += piece
            match = _TAG.match(piece)
            if match and match.group(1):
                if stack and stack[-1][0] == match.group(2):
                    stack.pop()
            elif match:
                stack.append((match.group(2), piece))
    if current.strip():
        chunks.append(current)
    return chunks


def plain_text(text: str) -> str:
    """Telegram HTML as terminal text: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))
