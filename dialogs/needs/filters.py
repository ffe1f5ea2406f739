"""Typed filters for the managers' list and exports: `tag:price priority:p1 from:2026-01-01`.

The same words work after /needs and /export, as text typed while browsing, and (one
option each) on the command line. Words without a `name:` are searched for as text.
"""

from __future__ import annotations

import shlex
from datetime import date

from dialogs.needs.fields import parse_answer
from knowledge.schema import Form, FormField
from storage.needs import SOURCES, NeedFilter

KEYS = {
    "rep": "rep",
    "销售": "rep",
    "代表": "rep",
    "team": "team",
    "团队": "team",
    "tag": "tag",
    "标签": "tag",
    "priority": "priority",
    "优先级": "priority",
    "source": "source",
    "来源": "source",
    "from": "date_from",
    "从": "date_from",
    "起": "date_from",
    "to": "date_to",
    "到": "date_to",
    "止": "date_to",
    "q": "text",
    "text": "text",
    "search": "text",
    "搜索": "text",
}
ALL_SOURCES = (*SOURCES, "all")
_DATE_FIELD = FormField.model_validate(
    {"id": "day", "kind": "date", "required": True, "label": {"zh": "日期", "en": "date"}, "prompt": {"zh": "日期", "en": "date"}, "group": "deal"}
)


class FilterError(Exception):
    """A typed filter that could not be read: why, and the word at fault."""

    def __init__(self, reason: str, word: str = "") -> None:
        super().__init__(reason, word)
        self.reason = reason
        self.word = word


def split_words(text: str) -> list[str]:
    """Words as a shell would split them, so `q:"sour plums"` is one word."""
    try:
        return shlex.split(text.replace("：", ":").replace("“", '"').replace("”", '"'))
    except ValueError as exc:
        raise FilterError("quote", text[:40]) from exc


def _day(word: str, value: str) -> date:
    parsed = parse_answer(_DATE_FIELD, value)
    if not isinstance(parsed, str):
        raise FilterError("date", word[:40])
    return date.fromisoformat(parsed)


def parse_filters(words: list[str], form: Form, base: NeedFilter | None = None) -> NeedFilter:
    """The filter the words describe, on top of `base`; raises FilterError on a word it cannot read."""
    changes: dict[str, object] = {}
    free: list[str] = []
    priorities = {c.id for f in form.fields if f.id == "priority" for c in f.choices}
    for word in words:
        name, sep, value = word.partition(":")
        key = KEYS.get(name.lower()) if sep else None
        if key is None:
            if sep and name.isascii() and name.isalpha() and value:
                raise FilterError("key", word[:40])
            free.append(word)
            continue
        value = value.strip()
        if key == "priority" and value and value.lower() not in priorities:
            raise FilterError("priority", word[:40])
        if key == "source" and value.lower() not in ALL_SOURCES:
            raise FilterError("source", word[:40])
        if key in ("date_from", "date_to"):
            changes[key] = _day(word, value) if value else None
        else:
            changes[key] = value.lower() if key in ("priority", "source", "tag") else value
    if free:
        changes["text"] = " ".join([str(changes.get("text") or ""), *free]).strip()
    result = (base or NeedFilter()).with_(**changes)
    if result.date_from and result.date_to and result.date_from > result.date_to:
        raise FilterError("dates", f"{result.date_from} > {result.date_to}")
    return result
