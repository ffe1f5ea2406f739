"""The fonts pictures are drawn in: a CJK font for Chinese (and Latin) text, DejaVu Sans for
the symbols it lacks. Without a CJK font drawing fails with a message saying what to install,
rather than drawing every Chinese character as an empty box."""

from __future__ import annotations

from functools import cache
from pathlib import Path

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts", Path.home() / ".fonts")
# Debian's fonts-noto-cjk first, then other packagings of the same design, then WenQuanYi.
CJK_FILES = (
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJK-Bold.ttc",
    "NotoSansCJKsc-Regular.otf",
    "NotoSansCJKsc-Bold.otf",
    "SourceHanSansSC-Regular.otf",
    "SourceHanSansSC-Bold.otf",
    "wqy-zenhei.ttc",
    "wqy-microhei.ttc",
)
CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei")
FALLBACK = "DejaVu Sans"
INSTALL_HINT = "no CJK font found for drawing Chinese labels (looked for {files} under {dirs}); install Debian's fonts-noto-cjk: apt-get install fonts-noto-cjk"


class MissingCjkFont(RuntimeError):
    """No font that draws Chinese is installed."""


def cjk_font_files(dirs: tuple[Path, ...] | None = None) -> list[Path]:
    """The CJK font files installed (under `dirs`, else the usual font folders), most preferred
    first; MissingCjkFont when there is none. Cheap: the Telegram bot checks it at start."""
    dirs = FONT_DIRS if dirs is None else dirs
    wanted = {name: rank for rank, name in enumerate(CJK_FILES)}
    found = [path for folder in dirs if folder.is_dir() for path in folder.rglob("*") if path.name in wanted]
    if not found:
        raise MissingCjkFont(INSTALL_HINT.format(files=", ".join(CJK_FILES), dirs=", ".join(map(str, dirs))))
    return sorted(found, key=lambda path: wanted[path.name])


@cache
def installed_cjk_fonts() -> tuple[Path, ...]:
    """`cjk_font_files` of the usual folders, looked up once per process (while there is none,
    each call looks again and raises MissingCjkFont). A reply with a picture checks this; the
    fonts are loaded only where the picture is drawn, when it is sent, off the engine's path."""
    return tuple(cjk_font_files())


@cache
def families() -> tuple[str, ...]:
    """Registers the CJK fonts with matplotlib (once per process) and returns the font family
    list to draw with: the CJK family first, DejaVu Sans for what it lacks."""
    from matplotlib import font_manager

    files = installed_cjk_fonts()
    for path in files:
        font_manager.fontManager.addfont(str(path))
    registered = {entry.name for entry in font_manager.fontManager.ttflist if Path(entry.fname) in files}
    cjk = next((name for name in CJK_FAMILIES if name in registered), min(registered))
    return (cjk, FALLBACK)


@cache
def _drawable_codes() -> frozenset[int]:
    from matplotlib import font_manager

    codes: set[int] = set()
    for family in families():
        path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        codes |= set(font_manager.get_font(path).get_charmap())
    return frozenset(codes)


def drawable(text: str) -> str:
    """One line of `text` without the characters no font here draws (emoji in a name, say),
    so a picture never shows an empty box."""
    codes = _drawable_codes()
    return " ".join("".join(c if ord(c) in codes else " " for c in text).split())
