"""Whole-word matching of cues: "who" never matches inside "whole", "worries" matches "worry".

English text and cues are cut into words and compared by their dictionary form (simplemma's
lemma, e.g. "worries" -> "worry", "sweetest" -> "sweet", while "useful" stays apart from "used";
a word simplemma does not know is compared by its Snowball stem), so a cue matches only a whole
word or a run of whole words. A cue word ending in `*` (`congrat*`)
deliberately matches every word that begins with it. "%" reads as the word "percent", so
"20% off" holds the cue "% off". Chinese has no spaces between words: jieba cuts the message
(with the shipped user dictionary), and a Chinese cue matches where its characters appear
without starting or ending inside a longer word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import snowballstemmer

from dialogs.understanding.text import normalise

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?\*?")
_SYMBOLS = str.maketrans({"%": " percent "})
_CJK = re.compile("[\u3400-\u9fff]")
_STEMMER = snowballstemmer.stemmer("english")
USER_DICT = Path(__file__).resolve().parents[2] / "knowledge" / "understanding" / "userdict.zh.txt"
STOPWORDS_FILE = USER_DICT.with_name("stopwords.yaml")
RUN = 4  # cues of up to this many whole words are found by looking up the message's runs of words (most cues are 1-4 words)


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    """jieba's tokenizer with the shipped user dictionary, loaded on the first Chinese message."""
    import jieba

    jieba.setLogLevel(60)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    with USER_DICT.open("rb") as handle:
        tokenizer.load_userdict(handle)
    return tokenizer


def warm() -> None:
    """Load jieba's dictionary and the stopwords now (about a second), so that no rep's message waits for them."""
    _segmenter()
    _stopwords()


def _inside_positions(text: str) -> frozenset[int]:
    """Offsets that fall strictly inside a Chinese word of two or more characters."""
    inside: set[int] = set()
    start = 0
    for token in _segmenter().lcut(text, HMM=False):
        end = start + len(token)
        if len(token) > 1 and _CJK.search(token):
            inside.update(range(start + 1, end))
        start = end
    return frozenset(inside)


@dataclass(frozen=True)
class Words:
    """A normalised message as the cue matcher sees it: its text and its English words' compared forms."""

    text: str
    stems: tuple[str, ...]
    raw: tuple[str, ...]
    inside: frozenset[int] = frozenset()

    def holds_chinese(self, cue: str) -> bool:
        """True if the Chinese cue occurs without starting or ending inside a longer word."""
        at = self.text.find(cue)
        while at != -1:
            if at not in self.inside and at + len(cue) not in self.inside:
                return True
            at = self.text.find(cue, at + 1)
        return False

    @cached_property
    def runs(self) -> frozenset[tuple[str, ...]]:
        """Every run of one to RUN consecutive words (their compared forms), made once per message,
        so a set of cues finds any of its cues of whole words in one set intersection instead of
        trying each cue at each word."""
        return frozenset(self.stems[start : start + length] for length in range(1, RUN + 1) for start in range(len(self.stems) - length + 1))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The form a word is compared by: its lemma when simplemma knows it, else its Snowball stem.

    Contractions stay as they are ("shouldn't" must not become "shall"). A plural the dictionary
    lists as a word of its own ("kiwis", "thanks") is compared as its singular.
    """
    import simplemma  # its dictionaries load on the first English word, not at start-up

    if "'" in word:
        return word
    if simplemma.is_known(word, lang="en"):
        lemma = str(simplemma.lemmatize(word, lang="en")).lower()
        if lemma == word and len(word) > 4 and word.endswith("s") and not word.endswith("ss") and simplemma.is_known(word[:-1], lang="en"):
            return word[:-1]  # plurals its dictionary keeps as words of their own: "kiwis", "thanks", "sales"
        return lemma
    return str(_STEMMER.stemWord(word))


def words_of(normalised: str) -> Words:
    """Cut a normalised message into words once, for every cue to be checked against."""
    raw = english_words(normalised)
    inside = _inside_positions(normalised) if _CJK.search(normalised) else frozenset()
    return Words(normalised, tuple(stem(w) for w in raw), raw, inside)


def english_words(normalised: str) -> tuple[str, ...]:
    """The words of a normalised text or cue, symbols that stand for a word ("%") read as that word."""
    return tuple(_WORD.findall(normalised.translate(_SYMBOLS)))


@dataclass(frozen=True)
class Cue:
    """A compiled cue: Chinese characters to find, or a run of English word stems (or prefixes)."""

    chinese: str | None
    parts: tuple[tuple[str, bool], ...]

    def found_in(self, words: Words) -> bool:
        """True if the cue occurs in the message as whole words (or as Chinese characters)."""
        if self.chinese is not None:
            return words.holds_chinese(self.chinese)
        return any(self._at(words, start) for start in range(len(words.stems) - len(self.parts) + 1))

    def starts(self, words: Words) -> bool:
        """True if the message begins with the cue."""
        if self.chinese is not None:
            return words.text.lstrip(" ,.!?'\"").startswith(self.chinese)
        return bool(words.raw) and words.text.lstrip(" ,.!?'\"")[:1].isascii() and self._at(words, 0)

    def _at(self, words: Words, start: int) -> bool:
        if start + len(self.parts) > len(words.stems):
            return False
        return all(words.raw[start + i].startswith(value) if prefix else words.stems[start + i] == value for i, (value, prefix) in enumerate(self.parts))


@lru_cache(maxsize=16384)
def cue_form(cue: str) -> str:
    """A cue as messages are matched: normalised like them, a trailing `*` (match word beginnings) kept."""
    return normalise(cue.rstrip("*")) + ("*" if cue.endswith("*") else "")


@lru_cache(maxsize=16384)
def compile_cue(normalised_cue: str) -> Cue:
    """A cue as written by a trainer (already normalised) ready to match."""
    if _CJK.search(normalised_cue):
        return Cue(normalised_cue, ())
    parts = tuple((w[:-1], True) if w.endswith("*") else (stem(w), False) for w in english_words(normalised_cue))
    return Cue(None, parts) if parts else Cue(normalised_cue, ())


class CueSet:
    """Many cues checked at once, each kind in the way that costs least and answers as checking
    them one by one would (a role-play turn checks a few dozen sets, each of up to a hundred cues):
    Chinese cues as one pattern; cues of up to RUN whole words as a set of runs of compared forms,
    held when the message has one of them among its runs (`Words.runs`); one-word prefix cues
    (`congrat*`) as one tuple of prefixes that `str.startswith` tries in a single call; the few
    longer cues and cues with a prefix after their first word indexed by their first word (or
    listed apart when that word is a prefix)."""

    def __init__(self, cues: tuple[Cue, ...]) -> None:
        self.cues = cues
        chinese = sorted({c.chinese for c in cues if c.chinese is not None}, key=len, reverse=True)
        self._chinese = re.compile("|".join(re.escape(c) for c in chinese)) if chinese else None
        self._chinese_cues = tuple(chinese)
        english = [cue for cue in cues if cue.chinese is None]
        runs = [cue for cue in english if len(cue.parts) <= RUN and not any(prefix for _, prefix in cue.parts)]
        self._runs = frozenset(tuple(value for value, _ in cue.parts) for cue in runs)
        self._prefixes = tuple(dict.fromkeys(cue.parts[0][0] for cue in english if len(cue.parts) == 1 and cue.parts[0][1]))
        self._by_first: dict[str, list[Cue]] = {}
        self._by_prefix: list[Cue] = []
        for cue in english:
            if cue not in runs and len(cue.parts) > 1:
                value, prefix = cue.parts[0]
                if prefix:
                    self._by_prefix.append(cue)
                else:
                    self._by_first.setdefault(value, []).append(cue)

    def found_in(self, words: Words) -> bool:
        """True if any cue occurs in the message as whole words (or Chinese characters)."""
        if self._chinese is not None and self._chinese.search(words.text) and any(words.holds_chinese(c) for c in self._chinese_cues):
            return True
        if not self._runs.isdisjoint(words.runs) or (self._prefixes and any(word.startswith(self._prefixes) for word in words.raw)):
            return True
        if not self._by_first.keys().isdisjoint(words.stems):
            for start, key in enumerate(words.stems):
                if any(cue._at(words, start) for cue in self._by_first.get(key, ())):
                    return True
        return any(cue.found_in(words) for cue in self._by_prefix)

    def starts(self, words: Words) -> bool:
        """True if the message begins with one of the cues."""
        text = words.text.lstrip(" ,.!?'\"")
        if self._chinese is not None and self._chinese.match(text):
            return True
        if not words.stems or not text[:1].isascii():
            return False
        return (
            any(words.stems[:length] in self._runs for length in range(1, RUN + 1))
            or words.raw[0].startswith(self._prefixes)
            or any(cue._at(words, 0) for cue in (*self._by_first.get(words.stems[0], ()), *self._by_prefix))
        )


@lru_cache(maxsize=4096)
def cue_set(normalised_cues: tuple[str, ...]) -> CueSet:
    """The compiled set for these (normalised) cues, built once."""
    return CueSet(tuple(compile_cue(c) for c in normalised_cues))


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from ruamel.yaml import YAML

    raw = YAML(typ="safe").load(STOPWORDS_FILE.read_text(encoding="utf-8"))
    return frozenset(stem(w) for w in raw["en"]) | frozenset(raw["zh"])


def content_words(text: str) -> frozenset[str]:
    """The words of a line that say what it is about: English words by dictionary form and
    Chinese words of two or more characters (jieba), without the common ones (stopwords.yaml)."""
    normalised = normalise(text)
    found = {stem(w) for w in english_words(normalised) if not w.isdigit()}
    if _CJK.search(normalised):
        found |= {w for w in _segmenter().lcut(normalised, HMM=False) if len(w) > 1 and _CJK.search(w)}
    return frozenset(found - _stopwords())
