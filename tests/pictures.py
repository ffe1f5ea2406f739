"""Looking at pictures the bot drew: their size, whether anything is on them, and whether text
was drawn with real glyphs or with the missing-glyph box."""

from __future__ import annotations

import io
import warnings

import numpy as np
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from PIL import Image

from dialogs.core.events import Reply
from dialogs.pictures.drawings import draw
from dialogs.pictures.figures import figure, png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A font without Chinese: matplotlib draws each Chinese character in it as the same missing-glyph
# box (Last Resort's 字 box), whatever the character.
NO_CJK = FontProperties(family="DejaVu Sans")


def pixels(picture: bytes) -> np.ndarray:
    """The picture's pixels as a height × width × channels array."""
    return np.asarray(Image.open(io.BytesIO(picture)).convert("RGB"), dtype=np.int16)


def assert_picture(picture: bytes, size: tuple[int, int]) -> None:
    """A PNG of `size` (width, height) pixels with something drawn on it."""
    assert picture.startswith(PNG_SIGNATURE)
    assert Image.open(io.BytesIO(picture)).size == size
    assert pixels(picture).std() > 10, "the picture is blank"


def the_picture(replies: list[Reply], size: tuple[int, int]) -> Reply:
    """The one reply that carries a picture, a PNG of `size` with something on it."""
    [pictured] = [r for r in replies if r.picture]
    assert pictured.picture is not None
    assert_picture(draw(pictured.picture), size)
    return pictured


def drawn(text: str, font: FontProperties | None = None) -> np.ndarray:
    """`text` drawn alone on a strip, in `font` (the picture fonts when None)."""
    fig = figure(900, 90)
    fig.text(0.01, 0.5, text, fontproperties=font, fontsize=28, va="center")
    return pixels(png(fig))


def chinese_of(text: str) -> str:
    """The Chinese characters of `text`."""
    return "".join(c for c in text if "\u4e00" <= c <= "\u9fff")


def unlike_boxes(text: str, font: FontProperties | None = None) -> int:
    """How many pixels tell the Chinese of `text`, drawn in `font`, apart from the missing-glyph
    boxes a font without Chinese draws instead: 0 when it was drawn as boxes."""
    chinese = chinese_of(text)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)  # the boxes are the point
        boxes = drawn(chinese, NO_CJK)
    return int((drawn(chinese, font) != boxes).any(axis=2).sum())


def chinese_texts(fig: Figure) -> list[tuple[str, FontProperties]]:
    """Every text on the figure that holds Chinese characters, with the font it is drawn in."""
    from matplotlib.text import Text

    found = [(t.get_text(), t.get_fontproperties()) for t in fig.findobj(Text)]
    return [(text, font) for text, font in found if chinese_of(text)]
