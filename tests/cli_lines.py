"""The command line's lines as tests read them: said in Chinese, then in English."""

from __future__ import annotations

import re

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def in_english(line: str) -> str:
    """A `salescoach: 中文 / English` line as its English half, once its Chinese is seen to come first."""
    chinese, _, english = line.removeprefix("salescoach: ").partition(" / ")
    assert CHINESE.search(chinese) and english and not CHINESE.search(english), line
    return f"salescoach: {english}"
