"""Charts of results and progress, as figures (`figures.png` makes the PNG), labelled in zh or
en from knowledge/copy.yaml. Each message that carries one says in words what it shows."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dialogs.pictures.figures import figure, place, text_width
from dialogs.pictures.fonts import drawable
from knowledge.copy import copy_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure

SIZE = (1000, 600)
WIDE = (1400, 600)
SPIN_TYPES = ("situation", "problem", "implication", "need_payoff")
SPIN_COLORS = {"situation": "#4e79a7", "problem": "#f28e2b", "implication": "#e15759", "need_payoff": "#59a14f"}
BAR = "#4e79a7"
TEAM = "#bab0ac"
PASS = "#d62728"
MIN_SPAN = timedelta(days=1)
# The role-play results chart's layout, in pixels: room above the panels for the titles, below
# for the ticks and axis labels, beside the counts panel for its numbers and label.
MARGIN, MARGIN_TOP, MARGIN_BOTTOM, TICK_ROOM, COUNTS_ROOM = 20, 80, 60, 12, 80
OUTCOME_WRAP = {"zh": 14, "en": 26}  # characters per line of an outcome's label (Chinese ones are twice as wide)
BANDS = [(low, low + 9 if low < 90 else 100) for low in range(0, 100, 10)]


def _label(key: str, lang: str, **data: object) -> str:
    return copy_text().label(key, lang).format(**data)


def _whole_numbers(axis: Axis) -> None:
    """Ticks on whole numbers only (counts of reps, turn numbers)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _counts_axes(ax: Axes, ylabel: str) -> None:
    ax.set_ylabel(ylabel)
    _whole_numbers(ax.yaxis)
    ax.spines[["top", "right"]].set_visible(False)


def score_bands(scores: Sequence[int]) -> list[tuple[str, int]]:
    """How many scores fall in each band of ten (0–9 … 90–100), as the charts draw them."""
    return [(f"{low}–{high}", sum(1 for s in scores if low <= s <= high)) for low, high in BANDS]


def _score_bars(ax: Axes, scores: Sequence[int], lang: str) -> None:
    """Scores in bands of ten (90–100 the last), one bar each."""
    ax.bar([low + 5 for low, _ in BANDS], [count for _, count in score_bands(scores)], width=9, color=BAR)
    ax.set_xlim(0, 100)
    ax.set_xticks(range(0, 101, 10))
    ax.set_xlabel(_label("chart_score", lang))
    _counts_axes(ax, _label("chart_reps", lang))


def quiz_scores(title: str, scores: Sequence[int], pass_mark: int, lang: str) -> Figure:
    """How a quiz's finishers scored (each rep's latest attempt), with the pass mark as a line."""
    fig = figure(*SIZE)
    fig.set_layout_engine("constrained")
    ax = fig.add_subplot()
    _score_bars(ax, scores, lang)
    ax.axvline(pass_mark, color=PASS, linestyle="--", linewidth=2, label=_label("chart_pass_mark", lang, mark=pass_mark))
    ax.legend(loc="upper left")
    ax.set_title(drawable(_label("chart_scores", lang, title=title)), fontsize=16)
    return fig


def roleplay_results(title: str, outcomes: Sequence[tuple[str, int]], best: Sequence[int], lang: str) -> Figure:
    """A scenario's role-plays: how many ended each way, and each rep's best score.

    Laid out by hand, the outcomes' panel as wide as its longest label (wrapped) leaves room
    for: matplotlib's constrained layout measured every label twice, 40% of the drawing time
    of a chart that follows every /results of a scenario (bench/reports_bench.py)."""
    fig = figure(*WIDE)
    names = [textwrap.fill(drawable(name or _label("chart_ended_early", lang)), OUTCOME_WRAP[lang]) for name, _ in outcomes][::-1]
    widest = text_width(fig, [line for name in names for line in name.splitlines()], "medium")
    half, tall = WIDE[0] / 2, WIDE[1] - MARGIN_TOP - MARGIN_BOTTOM
    left = min(MARGIN + widest + TICK_ROOM, half / 2)  # the bars keep at least half their panel
    ended = place(fig, left, MARGIN_BOTTOM, half - left - MARGIN, tall)
    scored = place(fig, half + COUNTS_ROOM, MARGIN_BOTTOM, half - COUNTS_ROOM - MARGIN, tall)
    ended.barh(range(len(names)), [count for _, count in outcomes][::-1], color=BAR)
    ended.set_yticks(range(len(names)), names)
    ended.set_title(_label("chart_outcomes", lang))
    ended.set_xlabel(_label("chart_times", lang))
    _whole_numbers(ended.xaxis)
    ended.spines[["top", "right"]].set_visible(False)
    _score_bars(scored, best, lang)
    scored.set_title(_label("chart_best_scores", lang))
    fig.suptitle(drawable(title), fontsize=16)
    return fig


def progress(
    quizzes: Sequence[tuple[datetime, int]], roleplays: Sequence[tuple[datetime, int]], mine: dict[str, int], team: dict[str, int] | None, lang: str
) -> Figure:
    """A rep's record: quiz and role-play scores over time, and their SPIN question mix (share
    of each type among their SPIN questions) beside their team's when they have one."""
    fig = figure(*WIDE)
    fig.set_layout_engine("constrained")
    over_time, mix = fig.subplots(1, 2, width_ratios=(3, 2))
    for points, key, marker in ((quizzes, "chart_quizzes", "o"), (roleplays, "chart_roleplays", "s")):
        if points:
            over_time.plot([when for when, _ in points], [score for _, score in points], marker=marker, label=_label(key, lang))
    over_time.set_ylim(0, 105)
    over_time.set_ylabel(_label("chart_score", lang))
    over_time.set_title(_label("chart_over_time", lang))
    over_time.spines[["top", "right"]].set_visible(False)
    if quizzes or roleplays:
        over_time.legend(loc="lower right")
        _dates(over_time, [when for when, _ in [*quizzes, *roleplays]])
    groups = [(_label("chart_me", lang), mine, BAR)] + ([(_label("chart_team", lang), team, TEAM)] if team is not None else [])
    width = 0.8 / len(groups)
    for i, (name, counts, color) in enumerate(groups):
        shares = shares_of(counts)
        mix.bar(
            [x + (i - (len(groups) - 1) / 2) * width for x in range(len(SPIN_TYPES))], [shares[t] for t in SPIN_TYPES], width=width, color=color, label=name
        )
    mix.set_xticks(range(len(SPIN_TYPES)), ["S", "P", "I", "N"])
    mix.set_ylim(0, 100)
    mix.set_ylabel(_label("chart_share", lang))
    mix.set_title(_label("chart_spin_mix", lang))
    mix.spines[["top", "right"]].set_visible(False)
    mix.legend(loc="upper right")
    return fig


def _dates(ax: Axes, times: Sequence[datetime]) -> None:
    """Dates on the x axis, as short as they can be (the year once, then months and days),
    spanning at least a day (a rep's first scores often come within an hour)."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    first, last = min(times), max(times)
    margin = max((last - first) / 20, (MIN_SPAN - (last - first)) / 2)
    ax.set_xlim(first - margin, last + margin)  # type: ignore[arg-type]
    locator = AutoDateLocator(maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def shares_of(counts: dict[str, int]) -> dict[str, int]:
    """Each SPIN type's whole-number percentage of the SPIN questions counted (0s when there are none)."""
    total = sum(counts.get(t, 0) for t in SPIN_TYPES)
    return {t: round(100 * counts.get(t, 0) / total) if total else 0 for t in SPIN_TYPES}


def turn_mix(kinds: Sequence[str | None], lang: str) -> Figure:
    """A role-play turn by turn: which SPIN type each of the rep's messages asked (a row per
    type, a mark per turn; the bottom row for a turn that asked none)."""
    fig = figure(*SIZE)
    fig.set_layout_engine("constrained")
    ax = fig.add_subplot()
    rows = [None, *reversed(SPIN_TYPES)]
    for turn, kind in enumerate(kinds, start=1):
        ax.scatter([turn], [rows.index(kind if kind in SPIN_TYPES else None)], s=260, marker="s", color=SPIN_COLORS.get(kind or "", TEAM))
    ax.set_yticks(range(len(rows)), [_label("chart_other", lang), *(_label(f"kind_{t}", lang) for t in reversed(SPIN_TYPES))])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlim(0.3, max(len(kinds), 1) + 0.7)
    _whole_numbers(ax.xaxis)
    ax.set_xlabel(_label("chart_turn", lang))
    ax.set_title(_label("chart_turn_mix", lang), fontsize=16)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return fig
