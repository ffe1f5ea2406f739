"""The first steps of reading a rep's message: a canonical form, its language, its sentences.

Normalising drops zero-width characters and emoji, turns full-width punctuation into ASCII,
lower-cases, and converts traditional Chinese to simplified (OpenCC), so rules, cues and
examples are written once, in simplified Chinese and lower case.
"""

from __future__ import annotations

import re
import unicodedata

import opencc

_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\ufe00-\ufe0f]")
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U0001fc00-\U0001ffff\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2900-\u297f\u2b00-\u2bff\u3030\u303d\u3297\u3299\U000e0000-\U000e007f]"
)
_PUNCTUATION = str.maketrans(
    {
        "。": ".",
        "、": ",",
        "，": ",",
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "…": "...",
        "—": ",",
        "–": ",",
        "～": "~",
        "〜": "~",
        "「": '"',
        "」": '"',
    }
)
_TRAILING_NOISE = re.compile(r"[\s~^*_]+$")
_SPACES = re.compile(r"\s+")
_SENTENCE_BREAK = re.compile(r"(?<=[?!])\s*|(?<=[^\d]\.)\s*|(?<=\.)\s+")
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_T2S = opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    """Canonical form that rules match against: NFKC, ASCII punctuation, no emoji, lower case, simplified."""
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFKC", text).translate(_PUNCTUATION)
    text = _EMOJI.sub(" ", text)
    text = _SPACES.sub(" ", _TRAILING_NOISE.sub("", text)).strip().lower()
    return _T2S.convert(text) if _CJK.search(text) else text


def detect_language(normalised: str) -> str:
    """Pick "zh" or "en" for normalised text: CJK characters are weighed against Latin words.

    A CJK character carries about as much as an English word, so "你们用Salesforce吗" is zh
    and "Do you use 微信 for orders?" is en; text with neither (emoji, digits) counts as zh,
    the product's first language.
    """
    cjk = len(_CJK.findall(normalised))
    words = len(_LATIN_WORD.findall(normalised))
    return "zh" if cjk >= words else "en"


def sentences(normalised: str) -> list[str]:
    """The sentences of a normalised message: split after ? and ! and after a full stop (not inside 3.5)."""
    return [part for part in _SENTENCE_BREAK.split(normalised) if any(char.isalnum() for char in part)]
