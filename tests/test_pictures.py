"""Pictures: a certificate and each chart is a PNG of its size with something on it, its Chinese
drawn with real glyphs (never the missing-glyph box), and no CJK font means a clear error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from dialogs.pictures import certificate, charts
from dialogs.pictures.certificate import render_certificate
from dialogs.pictures.figures import png
from dialogs.pictures.fonts import MissingCjkFont, cjk_font_files, drawable
from tests.pictures import NO_CJK, assert_picture, chinese_texts, drawn, unlike_boxes


def test_the_comparison_sees_chinese_drawn_as_boxes() -> None:
    with pytest.warns(UserWarning, match="missing from font"):
        assert (drawn("成绩分布", NO_CJK) == drawn("王小明甲", NO_CJK)).all(), "any four missing characters look the same"
        assert unlike_boxes("成绩分布", NO_CJK) == 0
    assert unlike_boxes("成绩分布") > 500


def test_a_certificate_is_a_png_with_the_chinese_drawn() -> None:
    fig = certificate.certificate("王小明", "SPIN 基础", date(2026, 11, 29), "K7P2-9QXM", "zh")
    texts = dict(chinese_texts(fig))
    assert {"结业证书", "王小明", "SPIN 基础", "2026年11月29日", "验证码 K7P2-9QXM"} <= set(texts)
    assert [text for text, font in texts.items() if unlike_boxes(text, font) < 100] == []
    assert_picture(render_certificate("王小明", "SPIN 基础", date(2026, 11, 29), "K7P2-9QXM", "zh"), certificate.SIZE)


def test_an_english_certificate_says_who_what_when_and_how_to_check_it() -> None:
    fig = certificate.certificate("Ann 🍑 Lee", "SPIN basics", date(2026, 11, 29), "K7P2-9QXM", "en")
    assert {
        "Certificate of Completion",
        "Ann Lee",
        "SPIN basics",
        "29 November 2026",
        "Verification code K7P2-9QXM",
        "Check it in SalesCoach: /verify K7P2-9QXM",
    } <= texts_on(fig)
    assert_picture(render_certificate("Ann Lee", "SPIN basics", date(2026, 11, 29), "K7P2-9QXM", "en"), certificate.SIZE)


def test_a_name_no_font_can_draw_loses_only_those_characters() -> None:
    assert drawable("王小明 🍑🍑 Ann ✔") == "王小明 Ann ✔"


def test_without_a_cjk_font_drawing_stops_and_says_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "DejaVuSans.ttf").write_bytes(b"")
    with pytest.raises(MissingCjkFont, match=r"no CJK font found .* install Debian's fonts-noto-cjk: apt-get install fonts-noto-cjk"):
        cjk_font_files((tmp_path,))


DAY = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
MIX = {"situation": 6, "problem": 3, "implication": 1, "need_payoff": 0}
# Each chart: how to draw it in a language, its size, and labels it shows in zh and in en.
CHARTS: dict[str, tuple[Callable[[str], Figure], tuple[int, int], set[str], set[str]]] = {
    "quiz scores": (
        lambda lang: charts.quiz_scores("李子案例", [45, 72, 75, 88, 100], 70, lang),
        charts.SIZE,
        {"成绩分布：李子案例", "及格线 70", "分数", "人数"},
        {"Scores: 李子案例", "Pass mark 70", "Score", "Reps"},
    ),
    "role-play results": (
        lambda lang: charts.roleplay_results("卖李子的老太太", [("买了酸李子", 3), ("", 1)], [35, 80, 95], lang),
        charts.WIDE,
        {"卖李子的老太太", "结局", "买了酸李子", "提前结束", "每位销售的最高分"},
        {"How they ended", "ended early", "Best score per rep", "Role-plays"},
    ),
    "progress": (
        lambda lang: charts.progress([(DAY, 60), (DAY + timedelta(days=3), 90)], [(DAY + timedelta(days=1), 55)], MIX, {"situation": 10, "problem": 10}, lang),
        charts.WIDE,
        {"成绩变化", "测验", "角色扮演", "SPIN 提问构成", "我", "团队"},
        {"Scores over time", "Quizzes", "Role-plays", "SPIN question mix", "Me", "Team"},
    ),
    "turn mix": (
        lambda lang: charts.turn_mix(["situation", None, "problem", "implication", "need_payoff"], lang),
        charts.SIZE,
        {"逐轮提问类型", "轮次", "暗示问题（I）", "非 SPIN 提问或陈述"},
        {"Question type turn by turn", "Turn", "implication question (I)", "No SPIN question"},
    ),
}


def texts_on(fig: Figure) -> set[str]:
    """Every text drawn on the figure."""
    from matplotlib.text import Text

    return {t.get_text() for t in fig.findobj(Text)}


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_each_chart_is_a_png_of_its_size_with_its_chinese_drawn(name: str) -> None:
    draw, size, labels, _ = CHARTS[name]
    fig = draw("zh")
    texts = dict(chinese_texts(fig))
    assert labels <= set(texts)
    assert [text for text, font in texts.items() if unlike_boxes(text, font) < 100] == []
    assert_picture(png(fig), size)


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_each_chart_is_labelled_in_english_too(name: str) -> None:
    draw, size, _, labels = CHARTS[name]
    fig = draw("en")
    assert labels <= texts_on(fig)
    assert_picture(png(fig), size)


@pytest.mark.parametrize(
    ("lang", "ended"),
    [
        ("zh", ["李主任一口回绝了私下的好处，谈话到此为止", "“资料放这儿吧”——被打发了", ""]),
        ("en", ["Director Li refused the personal benefit and ended the talk", "Trial listing, with the wedding edition added", ""]),
    ],
)
def test_the_longest_outcomes_fit_beside_their_bars_and_every_label_inside_the_picture(lang: str, ended: list[str]) -> None:
    """The results chart is laid out by hand (charts.roleplay_results): the longest outcome labels of
    the scenarios are wrapped, drawn whole, left of the bars, and nothing runs off the picture."""
    fig = charts.roleplay_results("电信集团客户", [(name, 3000 - n) for n, name in enumerate(ended)], [35, 80, 95], lang)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    outcomes_panel = fig.axes[0]
    labels = [label for label in outcomes_panel.get_yticklabels() if label.get_text()]
    assert len(labels) == 3 and max(len(line) for label in labels for line in label.get_text().splitlines()) <= charts.OUTCOME_WRAP[lang]
    assert all(label.get_window_extent(renderer).x1 < outcomes_panel.get_window_extent(renderer).x0 for label in labels)
    drawn = fig.get_tightbbox(renderer)  # everything drawn, in inches
    width, height = fig.get_size_inches()
    assert drawn.x0 >= 0 and drawn.y0 >= 0 and drawn.x1 <= width and drawn.y1 <= height


def test_a_rep_with_nothing_yet_gets_an_empty_progress_chart_not_an_error() -> None:
    assert_picture(png(charts.progress([], [], {}, None, "en")), charts.WIDE)


def test_the_spin_mix_is_each_types_share_of_the_spin_questions() -> None:
    assert charts.shares_of(MIX) == {"situation": 60, "problem": 30, "implication": 10, "need_payoff": 0}
    assert charts.shares_of({}) == {"situation": 0, "problem": 0, "implication": 0, "need_payoff": 0}
