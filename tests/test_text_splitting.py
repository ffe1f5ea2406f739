"""Long messages are split for Telegram, never truncated, and every part stays valid HTML."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given, strategies as st

from bot.text import plain_text, split_html


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag
        self.stack.pop()


def balanced(html: str) -> bool:
    parser = _Balance()
    parser.feed(html)
    return not parser.stack


def test_a_short_message_is_one_part() -> None:
    assert split_html("<b>hi</b>") == ["<b>hi</b>"]


def test_a_long_message_breaks_at_line_ends() -> None:
    text = "\n".join(f"line {i}: " + "字" * 50 for i in range(200))
    parts = split_html(text)
    assert len(parts) > 1
    assert all(len(p) <= 4096 for p in parts)
    assert "".join(parts) == text
    assert all(p.endswith("\n") for p in parts[:-1])


def test_a_tag_open_at_a_break_is_closed_and_reopened() -> None:
    text = "<b>" + "x" * 9000 + "</b>"
    parts = split_html(text)
    assert all(len(p) <= 4096 and balanced(p) for p in parts)
    assert plain_text("".join(parts)) == "x" * 9000


@given(st.lists(st.sampled_from(["<b>", "</b>", "a", "字", "\n", "&amp;", "<i>", "</i>", "🍑"]), max_size=3000))
def test_no_text_is_lost(tokens: list[str]) -> None:
    text = "".join(tokens)
    parts = split_html(text, limit=200)
    assert all(len(p) <= 200 for p in parts)
    assert plain_text("".join(parts)).replace("\n", "") == plain_text(text).replace("\n", "") or not text.strip()
