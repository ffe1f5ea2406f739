"""A classifier verdict put into words for the rep: what kind of question it is, and why.

The cues (`class:rule_id(matched words)`) come from `dialogs.understanding.classifier`; the sentences that
explain each rule are data in `knowledge/understanding/explain.yaml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ruamel.yaml import YAML

from dialogs.understanding.classifier import RULES_DIR, Classification
from knowledge.copy import copy_text
from knowledge.schema import Text

EXPLAIN_FILE = RULES_DIR / "explain.yaml"
_CUE = re.compile(r"^(?P<cls>[a-z_]+):(?P<rule>[a-z0-9_]+)(?:\((?P<word>.*)\))?$")


@dataclass(frozen=True)
class Reason:
    """One cue in words: the class it voted for, why, and the words that matched."""

    kind: str
    why: str
    words: str


@lru_cache(maxsize=1)
def explanations() -> dict[str, Text]:
    """Rule id -> its explanation in zh and en, read once."""
    raw = YAML(typ="safe").load(EXPLAIN_FILE.read_text(encoding="utf-8"))
    return {rule: Text.model_validate(text) for rule, text in raw.items()}


def kind_name(kind: str, lang: str) -> str:
    """A class name for the rep: 封闭式 / closed, 暗示问题 / implication question, …"""
    return copy_text().label(f"kind_{kind}", lang)


def reasons(result: Classification, lang: str) -> list[Reason]:
    """The cues that decided the form and SPIN type (or that it is no question), in words."""
    wanted = {"open", "closed", "situation", "problem", "implication", "need_payoff", "none"} if result.is_question else {"statement"}
    out = []
    for cue in result.cues:
        found = _CUE.match(cue)
        if found is None or found["cls"] not in wanted:
            continue
        text = explanations().get(found["rule"])
        out.append(Reason(kind_name(found["cls"], lang), text.get(lang) if text else found["rule"], found["word"] or ""))
    return out


def verdict_data(result: Classification, lang: str) -> dict[str, Any]:
    """What the feedback templates need about one classified utterance."""
    return {
        "is_question": result.is_question,
        "form": kind_name(result.form, lang) if result.is_question else "",
        "spin": kind_name(result.spin, lang),
        "reasons": [(r.kind, r.why, r.words) for r in reasons(result, lang)],
    }
