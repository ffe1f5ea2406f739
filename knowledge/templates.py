"""Rendering replies from jinja2 templates, one per message kind and language.

Templates emit Telegram's HTML subset; autoescape makes anything a user typed safe.
"""

from __future__ import annotations

from functools import lru_cache
from gettext import ngettext
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from knowledge.copy import copy_text

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
LANGS = ("zh", "en")


@lru_cache(maxsize=1)
def environment() -> Environment:
    """One jinja2 environment for the process; strict so a missing value is an error.

    Counted words use jinja2's i18n extension: `ngettext("%(num)d need", "%(num)d needs", n)` in
    the English templates (Chinese ones need no plural), never "need(s)".
    """
    env = Environment(
        extensions=["jinja2.ext.i18n"],
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.globals["tr"] = lambda text, lang: text.get(lang) if text is not None else ""
    env.globals["label"] = lambda key, lang: copy_text().label(key, lang)
    return env


def render(lang: str, key: str, data: dict[str, Any]) -> str:
    """The message text for template `key` in `lang` (falls back to zh)."""
    lang = lang if lang in LANGS else "zh"
    env = environment()
    try:
        template = env.get_template(f"{lang}/{key}.j2")
    except TemplateNotFound:
        template = env.get_template(f"zh/{key}.j2")
    return template.render(lang=lang, **data).strip()


def template_keys(lang: str) -> set[str]:
    """Every message kind that has a template in `lang` (used by tests to check parity)."""
    return {p.stem for p in (TEMPLATE_DIR / lang).glob("*.j2")}


def counted(count: int, singular: str, plural: str = "") -> str:
    """`1 form`, `2 forms`: a count with its English word in the right number (gettext's plural
    rule), for lines built outside templates such as the command line's."""
    return f"{count} {ngettext(singular, plural or singular + 's', count)}"
