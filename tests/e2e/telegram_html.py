"""Telegram's parse_mode HTML, as the Bot API reads it: text plus entities, or the error it answers.

Only Telegram's tags are allowed, every tag must be closed in order, and a bare `<` is an
error. Entity offsets and lengths count UTF-16 code units, as Telegram's do.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from html.parser import HTMLParser

from telegram import MessageEntity

SIMPLE_TAGS = {
    "b": MessageEntity.BOLD,
    "strong": MessageEntity.BOLD,
    "i": MessageEntity.ITALIC,
    "em": MessageEntity.ITALIC,
    "u": MessageEntity.UNDERLINE,
    "ins": MessageEntity.UNDERLINE,
    "s": MessageEntity.STRIKETHROUGH,
    "strike": MessageEntity.STRIKETHROUGH,
    "del": MessageEntity.STRIKETHROUGH,
    "tg-spoiler": MessageEntity.SPOILER,
    "code": MessageEntity.CODE,
    "pre": MessageEntity.PRE,
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class HtmlError(ValueError):
    """What Telegram says after "Bad Request: can't parse entities: "."""


def utf16_len(text: str) -> int:
    """The length Telegram gives a piece of text (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    start: int
    kind: str
    extra: dict[str, str] = field(default_factory=dict)


class _Parser(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.parts: list[str] = []
        self.stack: list[_Open] = []
        self.entities: list[MessageEntity] = []
        self.length = 0

    def _offset(self) -> int:
        line, column = self.getpos()
        lines = self.source.split("\n")
        before = "\n".join(lines[: line - 1]) + ("\n" if line > 1 else "") + lines[line - 1][:column]
        return len(before.encode())

    def _text(self, text: str) -> None:
        self.parts.append(text)
        self.length += utf16_len(text)

    def handle_data(self, data: str) -> None:
        if "<" in data:
            raise HtmlError(f'Unsupported start tag "" at byte offset {self._offset() + len(data[: data.index("<")].encode())}')
        self._text(data)

    def handle_entityref(self, name: str) -> None:
        self._text(NAMED_ENTITIES.get(name, f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self._text(html.unescape(f"&#{name};"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in SIMPLE_TAGS:
            opened = _Open(tag, self.length, SIMPLE_TAGS[tag])
        elif tag == "a":
            opened = _Open(tag, self.length, MessageEntity.TEXT_LINK, {"url": values.get("href") or ""})
        elif tag == "span" and values.get("class") == "tg-spoiler":
            opened = _Open(tag, self.length, MessageEntity.SPOILER)
        elif tag == "span":
            raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {self._offset()}')
        elif tag == "blockquote":
            opened = _Open(tag, self.length, MessageEntity.EXPANDABLE_BLOCKQUOTE if "expandable" in values else MessageEntity.BLOCKQUOTE)
        elif tag == "tg-emoji":
            opened = _Open(tag, self.length, MessageEntity.CUSTOM_EMOJI, {"custom_emoji_id": values.get("emoji-id") or ""})
        else:
            raise HtmlError(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
        self.stack.append(opened)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise HtmlError(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise HtmlError(f"Unexpected end tag at byte offset {self._offset()}")
        opened = self.stack.pop()
        if opened.tag != tag:
            raise HtmlError(f'Unmatched end tag at byte offset {self._offset()}, expected "</{opened.tag}>", found "</{tag}>"')
        if self.length > opened.start:
            self.entities.append(MessageEntity(opened.kind, opened.start, self.length - opened.start, **opened.extra))

    def handle_comment(self, data: str) -> None:
        raise HtmlError(f'Unsupported start tag "!--" at byte offset {self._offset()}')

    def handle_decl(self, decl: str) -> None:
        raise HtmlError(f'Unsupported start tag "!" at byte offset {self._offset()}')

    def handle_pi(self, data: str) -> None:
        raise HtmlError(f'Unsupported start tag "?" at byte offset {self._offset()}')

    def unknown_decl(self, data: str) -> None:
        raise HtmlError(f'Unsupported start tag "![" at byte offset {self._offset()}')


def parse_html(source: str) -> tuple[str, list[MessageEntity]]:
    """The text a user sees and its entities; raises HtmlError where Telegram would refuse."""
    parser = _Parser(source)
    parser.feed(source)
    parser.close()
    if parser.rawdata:
        raise HtmlError(f'Unsupported start tag "" at byte offset {len(source.encode()) - len(parser.rawdata.encode())}')
    if parser.stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{parser.stack[-1].tag}"')
    return "".join(parser.parts), sorted(parser.entities, key=lambda e: (e.offset, -e.length))
