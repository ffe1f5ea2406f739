"""Speech-act rules: the words that say what a sentence does, read from knowledge/understanding/acts.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ruamel.yaml import YAML

from dialogs.understanding.text import normalise, sentences
from dialogs.understanding.tokens import CueSet, Words, cue_form, cue_set, words_of

ACTS_FILE = Path(__file__).resolve().parents[2] / "knowledge" / "understanding" / "acts.yaml"


@dataclass(frozen=True)
class ActRule:
    """One act's cues, and whether they must begin the sentence."""

    act: str
    cues: CueSet
    at_start: bool

    def fires(self, words: Words) -> bool:
        """True if a cue is in the sentence (at its start, for an `at_start` act)."""
        return self.cues.starts(words) if self.at_start else self.cues.found_in(words)


@lru_cache(maxsize=1)
def act_rules() -> tuple[ActRule, ...]:
    """Each act with its compiled cues, in the file's order (the first act that fires wins)."""
    raw = YAML(typ="safe").load(ACTS_FILE.read_text(encoding="utf-8"))["acts"]
    return tuple(
        ActRule(act, cue_set(tuple(cue_form(w) for w in (*spec.get("zh", []), *spec.get("en", [])))), bool(spec.get("at_start"))) for act, spec in raw.items()
    )


@lru_cache(maxsize=1)
def _any_cue() -> CueSet:
    """Every cue of the acts that may be anywhere in a sentence, as one set: most sentences hold none
    of them, and one check of this set tells so instead of one check for each act."""
    return CueSet(tuple(cue for rule in act_rules() if not rule.at_start for cue in rule.cues.cues))


def act_by_rules(normalised: str) -> str | None:
    """The first act one of whose cues the (normalised) sentence holds, or None."""
    return act_in(words_of(normalised))


def act_in(words: Words) -> str | None:
    """The first act one of whose cues the sentence, already cut into words, holds, or None."""
    anywhere = _any_cue().found_in(words)
    return next((rule.act for rule in act_rules() if (anywhere or rule.at_start) and rule.fires(words)), None)


def ruled_acts(text: str) -> list[str]:
    """The speech acts that a cue in knowledge/understanding/acts.yaml names, sentence by sentence.

    Conduct costs points (and a review item is judged), so only these count: the learned act
    model's guesses (an ordinary budget question read as an improper offer) are too loose to
    charge a rep for.
    """
    return [act for sentence in sentences(normalise(text)) if (act := act_by_rules(sentence)) is not None]
