"""Pictures: a certificate and each chart is a PNG of its size with something on it, its Chinese
drawn with real glyphs (never the missing-glyph box), and no CJK font means a clear error."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dialogs.pictures import certificate
from dialogs.pictures.certificate import render_certificate
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
    shown = {t.get_text() for t in fig.texts + fig.axes[0].texts}
    assert {"Certificate of Completion", "Ann Lee", "SPIN basics", "29 November 2026", "Verification code K7P2-9QXM", "Check it in SalesCoach: /verify K7P2-9QXM"} <= shown
    assert_picture(render_certificate("Ann Lee", "SPIN basics", date(2026, 11, 29), "K7P2-9QXM", "en"), certificate.SIZE)


def test_a_name_no_font_can_draw_loses_only_those_characters() -> None:
    assert drawable("王小明 🍑🍑 Ann ✔") == "王小明 Ann ✔"


def test_without_a_cjk_font_drawing_stops_and_says_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "DejaVuSans.ttf").write_bytes(b"")
    with pytest.raises(MissingCjkFont, match=r"no CJK font found .* install Debian's fonts-noto-cjk: apt-get install fonts-noto-cjk"):
        cjk_font_files((tmp_path,))
