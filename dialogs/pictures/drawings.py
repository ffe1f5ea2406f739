"""Pictures kept as what to draw: a drawing's name and its arguments (strings, numbers and lists,
as JSON holds them), drawn into a PNG only when the picture is shown.

A reply carries its picture this way so that the event's transaction, and with it SQLite's writer
lock, does not wait for matplotlib (60-110 ms a chart): the reply's words go out first and the
photo follows once drawn (bot/outbox.py draws it in a thread as it sends it); a photo still in
the outbox after a crash is drawn when it is sent. The console draws at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from dialogs.core.events import Picture
from dialogs.pictures import charts
from dialogs.pictures.certificate import render_certificate
from dialogs.pictures.figures import png


def _dated(points: Sequence[Sequence[Any]]) -> list[tuple[datetime, int]]:
    """[ISO time, score] pairs as the progress chart plots them."""
    return [(datetime.fromisoformat(when), score) for when, score in points]


def _progress(quizzes: list[list[Any]], roleplays: list[list[Any]], mine: dict[str, int], team: dict[str, int] | None, lang: str) -> bytes:
    return png(charts.progress(_dated(quizzes), _dated(roleplays), mine, team, lang))


def _certificate(name: str, title: str, day: str, code: str, lang: str) -> bytes:
    return render_certificate(name, title, date.fromisoformat(day), code, lang)


DRAWINGS: dict[str, Callable[..., bytes]] = {
    "quiz_scores": lambda title, scores, pass_mark, lang: png(charts.quiz_scores(title, scores, pass_mark, lang)),
    "roleplay_results": lambda title, outcomes, best, lang: png(charts.roleplay_results(title, outcomes, best, lang)),
    "turn_mix": lambda kinds, lang: png(charts.turn_mix(kinds, lang)),
    "progress": _progress,
    "certificate": _certificate,
}


def draw(picture: Picture) -> bytes:
    """The picture as PNG bytes (MissingCjkFont where no font draws Chinese)."""
    return DRAWINGS[picture.drawing](**picture.args)


def dated(points: Sequence[tuple[datetime, int]]) -> list[list[Any]]:
    """(time, score) points as the progress drawing takes them."""
    return [[when.isoformat(), score] for when, score in points]
