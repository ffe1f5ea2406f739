"""Native Telegram quiz polls: what a question looks like as one, and why a question cannot be one.

A question of a quiz marked `poll: true` is sent as a quiz poll when it has one right answer and
its texts fit Telegram's limits; otherwise it is asked with buttons. The bot (dialogs/quiz) and
`salescoach validate` (knowledge/checks.py) read the same rules here, so what the validator
warns about is exactly what the bot asks with buttons.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.copy import copy_text
from knowledge.schema import LANGS, Question

QUESTION_LIMIT = 300
OPTION_LIMIT = 100
EXPLANATION_LIMIT = 200
EXPLANATION_LINE_FEEDS = 2
MOST_OPTIONS = 10


def telegram_length(text: str) -> int:
    """A text's length as Telegram counts it (UTF-16 code units: an emoji outside the basic plane is two)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class PollText:
    """A question as a quiz poll shows it: "[2/8] question", the options, which one is right, and
    the explanation Telegram shows after the vote."""

    question: str
    options: tuple[str, ...]
    correct: int
    explanation: str


@dataclass(frozen=True)
class Misfit:
    """Why a question cannot be a poll, and which of its fields (a path under the question) says so."""

    field: tuple[str | int, ...]
    reason: str


def poll_text(question: Question, lang: str, number: int, total: int) -> PollText:
    """The poll for question `number` of `total` in `lang`; true/false options are named from copy.yaml."""
    labels = copy_text()
    if question.kind == "truefalse":
        options = tuple(labels.label(f"poll_{oid}", lang) for oid in question.option_ids())
    else:
        options = tuple(option.text.get(lang) for option in question.options)
    head = labels.label("quiz_poll_question", lang).format(number=number, total=total, text=question.text.get(lang))
    correct = question.option_ids().index(question.answer[0])
    return PollText(head, options, correct, question.explanation.get(lang))


def misfits(question: Question, total: int, langs: tuple[str, ...] = LANGS) -> list[Misfit]:
    """Why the question cannot be sent as a quiz poll in `langs` (nothing: it can). Its number is
    taken as `total`, the longest "[n/total]" it can carry."""
    if question.kind == "multiple":
        return [Misfit(("kind",), "it has several right answers, and a quiz poll takes one")]
    found: list[Misfit] = []
    if len(question.option_ids()) > MOST_OPTIONS:
        found.append(Misfit(("options",), f"it has {len(question.option_ids())} options; a poll has at most {MOST_OPTIONS}"))
    for lang in langs:
        poll = poll_text(question, lang, total, total)
        size = telegram_length(poll.question)
        if size > QUESTION_LIMIT:
            found.append(Misfit(("text",), f"its question ({lang}) is {size} characters with its number; a poll question has at most {QUESTION_LIMIT}"))
        for j, option in enumerate(poll.options):
            size = telegram_length(option)
            if size > OPTION_LIMIT:
                found.append(
                    Misfit(
                        ("options", j, "text"), f"option '{question.option_ids()[j]}' ({lang}) is {size} characters; a poll option has at most {OPTION_LIMIT}"
                    )
                )
        size = telegram_length(poll.explanation)
        if size > EXPLANATION_LIMIT:
            found.append(Misfit(("explanation",), f"its explanation ({lang}) is {size} characters; a poll explanation has at most {EXPLANATION_LIMIT}"))
        if poll.explanation.count("\n") > EXPLANATION_LINE_FEEDS:
            found.append(
                Misfit(
                    ("explanation",),
                    f"its explanation ({lang}) has {poll.explanation.count(chr(10))} line breaks; a poll explanation has at most {EXPLANATION_LINE_FEEDS}",
                )
            )
    return found
