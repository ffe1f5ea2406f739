"""Reading and showing the answers of the need form, one field kind at a time.

A typed answer becomes a stored value (text, a number, an ISO date, a choice id or a
list of tags) or a Problem that says exactly what was wrong, in the rep's language.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from knowledge.schema import FormField

DEFAULT_TEXT_LIMIT = 1000
TAG_LIMIT = 30
MAX_TAGS = 10
YEARS = (2000, 2100)
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_NUMBER_NOISE = re.compile(r"[,，\s¥￥$]|元|yuan|rmb|cny", re.IGNORECASE)
_TAG_SPLIT = re.compile(r"[,，、;；\n]+")
SKIP_WORDS = frozenset({"skip", "跳过", "略过"})


@dataclass(frozen=True)
class Problem:
    """Why an answer was refused: a reason key the templates explain, and its details."""

    reason: str
    details: dict[str, Any] = field(default_factory=dict)


def limit_of(fld: FormField) -> int:
    return fld.max_length or DEFAULT_TEXT_LIMIT


def _text(fld: FormField, text: str) -> Any:
    if fld.kind == "text":
        text = " ".join(text.split())
    if len(text) > limit_of(fld):
        return Problem("too_long", {"length": len(text), "limit": limit_of(fld)})
    return text


def _number(fld: FormField, text: str) -> Any:
    cleaned = _NUMBER_NOISE.sub("", text).lower()
    factor = 1
    if cleaned.endswith("万"):
        cleaned, factor = cleaned[:-1], 10_000
    elif cleaned.endswith("k"):
        cleaned, factor = cleaned[:-1], 1_000
    try:
        number = float(cleaned) * factor
    except ValueError:
        return Problem("not_number")
    if not math.isfinite(number):
        return Problem("not_number")
    low = fld.min_value if fld.min_value is not None else -math.inf
    high = fld.max_value if fld.max_value is not None else math.inf
    if not low <= number <= high:
        return Problem("out_of_range", {"low": show_number(fld.min_value), "high": show_number(fld.max_value)})
    return int(number) if number.is_integer() else round(number, 2)


def _date(text: str) -> Any:
    match = _DATE.match(text.strip())
    if not match:
        return Problem("not_date")
    try:
        day = date(*(int(g) for g in match.groups()))
    except ValueError:
        return Problem("no_such_date")
    if not YEARS[0] <= day.year <= YEARS[1]:
        return Problem("date_out_of_range", {"low": YEARS[0], "high": YEARS[1]})
    return day.isoformat()


def _choice(fld: FormField, text: str) -> Any:
    wanted = text.strip().casefold()
    for number, choice in enumerate(fld.choices, start=1):
        if wanted in (choice.id, str(number), choice.label.zh.casefold(), choice.label.en.casefold()):
            return choice.id
    return Problem("not_choice")


def _tags(fld: FormField, text: str) -> Any:
    if fld.max_length and len(text) > fld.max_length:
        return Problem("too_long", {"length": len(text), "limit": fld.max_length})
    tags: list[str] = []
    for part in _TAG_SPLIT.split(text):
        tag = " ".join(part.split()).lower()
        if len(tag) > TAG_LIMIT:
            return Problem("tag_too_long", {"tag": tag[:TAG_LIMIT] + "…", "limit": TAG_LIMIT})
        if tag and tag not in tags:
            tags.append(tag)
    if not tags:
        return Problem("empty")
    if len(tags) > MAX_TAGS:
        return Problem("too_many_tags", {"count": len(tags), "limit": MAX_TAGS})
    return tags


def parse_answer(fld: FormField, text: str) -> Any:
    """The value to store for a typed answer, or a Problem saying what is wrong with it."""
    text = text.strip()
    if not text:
        return Problem("empty")
    if fld.kind in ("text", "longtext"):
        return _text(fld, text)
    if fld.kind == "number":
        return _number(fld, text)
    if fld.kind == "date":
        return _date(text)
    if fld.kind == "choice":
        return _choice(fld, text)
    return _tags(fld, text)


def is_skip(text: str) -> bool:
    """True if the rep typed a word meaning "skip this field"."""
    return text.strip().casefold() in SKIP_WORDS


def show_number(value: float | None) -> str:
    """A number as people write it: 1,000,000 or 12.5."""
    if value is None:
        return ""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def display(fld: FormField, value: Any, lang: str) -> str:
    """An answer as the rep and managers read it (choice labels, tags joined, numbers grouped)."""
    return displayer(fld, lang)(value)


def displayer(fld: FormField, lang: str) -> Callable[[Any], str]:
    """`display` for one field in one language, its choice labels looked up once: exports call it per need."""
    labels: dict[str, str] = {}
    for choice in fld.choices:
        labels.setdefault(choice.id, choice.label.get(lang))
    kind = fld.kind

    def show(value: Any) -> str:
        if value is None or value == "" or value == []:
            return ""
        if kind == "choice":
            return labels.get(value, str(value)) if isinstance(value, str) else str(value)
        if kind == "tags" and isinstance(value, list):
            return ", ".join(value)
        if kind == "number" and isinstance(value, (int, float)):
            return show_number(value)
        return str(value)

    return show
