"""The certificate a rep gets when they finish a learning path: a PNG with their name, the
path, the date and a code a manager can check with /verify."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from dialogs.pictures.figures import figure, fit_width, png
from dialogs.pictures.fonts import drawable
from knowledge.copy import copy_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

SIZE = (1600, 1130)  # pixels: A4 landscape's proportions
INK = "#1f2a44"
GOLD = "#b8860b"
MUTED = "#5b6478"


def render_certificate(name: str, path_title: str, date: datetime.date, code: str, lang: str) -> bytes:
    """The certificate as PNG bytes, worded in `lang`; a name or title too long for a line is
    drawn smaller, and characters no installed font has (emoji) are left out."""
    return png(certificate(name, path_title, date, code, lang))


def certificate(name: str, path_title: str, date: datetime.date, code: str, lang: str) -> Figure:
    """The certificate as a figure (render_certificate draws it)."""
    copy = copy_text()
    width, height = SIZE
    fig = figure(width, height)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    for inset, line in ((0.025, 6), (0.04, 1.5)):
        ax.add_patch(_frame(inset, line))
    ax.text(0.5, 0.80, copy.label("certificate_title", lang), ha="center", va="center", fontsize=56, weight="bold", color=INK)
    ax.plot([0.35, 0.65], [0.725, 0.725], color=GOLD, linewidth=2)
    ax.text(0.5, 0.64, copy.label("certificate_awarded", lang), ha="center", va="center", fontsize=24, color=MUTED)
    fit_width(ax.text(0.5, 0.54, drawable(name), ha="center", va="center", fontsize=54, weight="bold", color=INK), 0.8 * width)
    ax.text(0.5, 0.44, copy.label("certificate_completed", lang), ha="center", va="center", fontsize=24, color=MUTED)
    fit_width(ax.text(0.5, 0.35, drawable(path_title), ha="center", va="center", fontsize=38, color=GOLD, weight="bold"), 0.8 * width)
    ax.text(0.12, 0.16, copy.label("certificate_date", lang).format(d=date), ha="left", va="center", fontsize=22, color=INK)
    ax.text(0.12, 0.11, copy.label("certificate_issuer", lang), ha="left", va="center", fontsize=18, color=MUTED)
    ax.text(0.88, 0.16, copy.label("certificate_code", lang).format(code=code), ha="right", va="center", fontsize=22, color=INK)
    ax.text(0.88, 0.11, copy.label("certificate_check", lang).format(code=code), ha="right", va="center", fontsize=18, color=MUTED)
    return fig


def _frame(inset: float, line: float) -> Rectangle:
    """A gold border `inset` from the edges (as a share of the width; the same in pixels at the top)."""
    from matplotlib.patches import Rectangle

    return Rectangle((inset, inset * 1.415), 1 - 2 * inset, 1 - 2 * inset * 1.415, fill=False, edgecolor=GOLD, linewidth=line)
