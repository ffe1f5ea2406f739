"""A matplotlib figure of an exact size in pixels, drawn in the picture fonts, and its PNG.

Figures are made without pyplot (no global figure registry), so several threads can draw at once.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from dialogs.pictures.fonts import families

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text

DPI = 100


def figure(width: int, height: int) -> Figure:
    """A blank white figure `width` × `height` pixels whose text is drawn in the CJK font."""
    import matplotlib

    matplotlib.rcParams["font.family"] = list(families())
    matplotlib.rcParams["axes.unicode_minus"] = False
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def text_width(fig: Figure, lines: Sequence[str], size: str | float) -> float:
    """How wide, in pixels, the widest of `lines` is drawn on `fig` in the picture fonts at `size`."""
    from matplotlib.font_manager import FontProperties

    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    font = FontProperties(size=size)
    return max((renderer.get_text_width_height_descent(line, font, ismath=False)[0] for line in lines), default=0.0)


def place(fig: Figure, left: float, bottom: float, width: float, height: float) -> Axes:
    """New axes on `fig` at a box given in pixels from its bottom left corner."""
    across, up = fig.bbox.width, fig.bbox.height
    return fig.add_axes((left / across, bottom / up, width / across, height / up))


def fit_width(text: Text, width: float) -> None:
    """Shrinks `text` until it is at most `width` pixels wide (a long name on a certificate)."""
    renderer = text.get_figure(root=True).canvas.get_renderer()  # type: ignore[union-attr]
    drawn = text.get_window_extent(renderer).width
    if drawn > width:
        text.set_fontsize(float(text.get_fontsize()) * width / drawn)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes, at exactly its size in pixels."""
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, facecolor=fig.get_facecolor())
    return out.getvalue()
