"""Offline, explainable classifier for the questions a sales rep types (Chinese and English).

Every utterance gets four verdicts: its language, whether it is a question, whether the
question is open or closed, and its SPIN type (situation / problem / implication /
need_payoff, or none).  The decisions come from rules that trainers edit as data in
``knowledge/understanding/{zh,en}.yaml``; this module only loads, validates, compiles and
applies them, and reports which rules decided (the "cues") so a verdict can be explained.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from dialogs.understanding import tokens
from dialogs.understanding.acts import act_in, act_rules
from dialogs.understanding.learned import act_model, features, spin_model
from dialogs.understanding.text import detect_language, normalise, sentences

_CLAUSE_BREAK = re.compile(r"[,;:]")
RULES_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "understanding"
LANGUAGES: tuple[str, ...] = ("zh", "en")
QUESTION_CLASSES: tuple[str, ...] = ("question", "statement")
FORM_CLASSES: tuple[str, ...] = ("open", "closed")
SPIN_CLASSES: tuple[str, ...] = ("situation", "problem", "implication", "need_payoff", "none")
ALL_CLASSES: tuple[str, ...] = QUESTION_CLASSES + FORM_CLASSES + SPIN_CLASSES

Vote = Literal[
    "question",
    "statement",
    "open",
    "closed",
    "situation",
    "problem",
    "implication",
    "need_payoff",
    "none",
]


class RuleError(ValueError):
    """A rules file is missing, malformed, or contains a rule that cannot be used."""


@dataclass(frozen=True)
class Classification:
    """The verdict on one utterance, with the cues (rule ids + matched words) that decided it.

    A message of several sentences keeps each sentence's own verdict in `parts` (its text, its
    act), so readers that go sentence by sentence need not classify them again. `words` is the
    sentence the verdict is on as the act rules cut it into words (its `text` holds the normalised
    sentence), so the role-play customer, who checks her cues against the same sentence, need not
    cut it again (Chinese is cut by jieba, the dearest step of reading a line)."""

    text: str
    lang: str
    is_question: bool
    form: str
    spin: str
    cues: tuple[str, ...]
    acts: tuple[str, ...] = ()
    parts: tuple[Classification, ...] = field(default=(), compare=False)
    words: tokens.Words | None = field(default=None, compare=False, repr=False)

    @property
    def act(self) -> str:
        """The speech act of the main ask (the last question, else the last sentence)."""
        return self.acts[-1] if self.acts else "other"

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready mapping, e.g. for storing the verdict or rendering feedback."""
        return {
            "text": self.text,
            "lang": self.lang,
            "is_question": self.is_question,
            "form": self.form,
            "spin": self.spin,
            "cues": list(self.cues),
            "acts": list(self.acts),
        }


class RuleSpec(BaseModel):
    """One rule as written by a trainer: words and/or regex patterns voting for one class."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    votes: Vote
    weight: int = Field(ge=1, le=100)
    scope: Literal["all", "last_clause"] = "all"
    note: str = ""
    words: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _has_something_to_match(self) -> RuleSpec:
        if not self.words and not self.patterns:
            raise ValueError("a rule needs at least one entry in 'words' or 'patterns'")
        if any(not word.strip() for word in self.words):
            raise ValueError("'words' must not contain empty entries")
        return self


class SettingsSpec(BaseModel):
    """Per-language settings: word matching, the default form, and the tie-break order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    word_boundaries: bool
    default_form: Literal["open", "closed"]
    default_spin: Literal["situation", "problem", "implication", "need_payoff", "none"]
    priority: tuple[Vote, ...]
    model_confidence: float = Field(default=0.7, gt=0, le=1, description="the learned layer decides a question's SPIN type when it is at least this sure...")
    model_overrides: int = Field(default=2, ge=0, le=100, description="...and no SPIN rule stronger than this weight fired")

    @model_validator(mode="after")
    def _priority_lists_every_class_once(self) -> SettingsSpec:
        if sorted(self.priority) != sorted(ALL_CLASSES):
            raise ValueError(f"'priority' must list each of {list(ALL_CLASSES)} exactly once")
        return self


class RuleFileSpec(BaseModel):
    """The whole content of ``zh.yaml`` or ``en.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: Literal["zh", "en"]
    settings: SettingsSpec
    rules: tuple[RuleSpec, ...] = Field(min_length=1)


@dataclass(frozen=True)
class CompiledRule:
    """A validated rule with its regexes compiled once."""

    id: str
    votes: str
    weight: int
    last_clause_only: bool
    regexes: tuple[re.Pattern[str], ...]

    def first_match(self, text: str) -> str | None:
        """Return the text the rule matched in ``text`` (possibly empty), or None if it did not fire."""
        for regex in self.regexes:
            found = regex.search(text)
            if found is not None:
                return found.group(0).strip()
        return None


@dataclass(frozen=True)
class LanguageRules:
    """All compiled rules and settings for one language."""

    language: str
    default_form: str
    default_spin: str
    priority: Mapping[str, int]
    rules: tuple[CompiledRule, ...]
    model_confidence: float
    model_overrides: int


@dataclass(frozen=True)
class RuleBook:
    """The compiled rules for every supported language, as used by :func:`classify`."""

    languages: Mapping[str, LanguageRules]


@dataclass(frozen=True)
class _Hit:
    rule: CompiledRule
    matched: str

    @property
    def cue(self) -> str:
        detail = f"({self.matched})" if self.matched else ""
        return f"{self.rule.votes}:{self.rule.id}{detail}"


def load_rules(directory: Path | str | None = None) -> RuleBook:
    """Load, validate and compile the rule files once per directory (cached).

    Pass ``directory`` to use rules other than the packaged ones, e.g. a trainer's draft copy
    or a test fixture; a :class:`RuleError` names the file and the rule id on any problem.
    """
    return _load_rules_cached(Path(directory).resolve() if directory else RULES_DIR)


@lru_cache(maxsize=8)
def _load_rules_cached(directory: Path) -> RuleBook:
    return RuleBook({lang: _load_language(directory / f"{lang}.yaml", lang) for lang in LANGUAGES})


def _load_language(path: Path, language: str) -> LanguageRules:
    spec = _parse_rule_file(path, _read_yaml(path))
    if spec.language != language:
        raise RuleError(f"{path}: 'language' is {spec.language!r} but the file name says {language!r}")
    _check_unique_ids(path, spec.rules)
    settings = spec.settings
    compiled = tuple(_compile_rule(path, rule, settings.word_boundaries) for rule in spec.rules)
    priority: dict[str, int] = {name: rank for rank, name in enumerate(settings.priority)}
    return LanguageRules(language, settings.default_form, settings.default_spin, priority, compiled, settings.model_confidence, settings.model_overrides)


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return YAML(typ="safe").load(handle)
    except FileNotFoundError as exc:
        raise RuleError(f"{path}: rules file not found") from exc
    except YAMLError as exc:
        raise RuleError(f"{path}: not valid YAML: {exc}") from exc


def _parse_rule_file(path: Path, raw: Any) -> RuleFileSpec:
    try:
        return RuleFileSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe_error(raw, error) for error in exc.errors())
        raise RuleError(f"{path}: {problems}") from exc


def _describe_error(raw: Any, error: Mapping[str, Any]) -> str:
    location = tuple(error["loc"])
    message = error["msg"]
    if len(location) >= 2 and location[0] == "rules" and isinstance(location[1], int):
        rule_id = _raw_rule_id(raw, location[1])
        field = ".".join(str(part) for part in location[2:]) or "rule"
        return f"rule {rule_id!r} (rules[{location[1]}]) at {field!r}: {message}"
    return f"{'.'.join(str(part) for part in location) or 'file'}: {message}"


def _raw_rule_id(raw: Any, index: int) -> str:
    try:
        return str(raw["rules"][index].get("id", "<no id>"))
    except (KeyError, IndexError, TypeError, AttributeError):
        return "<no id>"


def _check_unique_ids(path: Path, rules: Sequence[RuleSpec]) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RuleError(f"{path}: rule {rule.id!r}: duplicate rule id")
        seen.add(rule.id)


def _compile_rule(path: Path, rule: RuleSpec, word_boundaries: bool) -> CompiledRule:
    sources = list(rule.patterns)
    if rule.words:
        sources.append(_words_pattern(rule.words, word_boundaries))
    regexes = []
    for source in sources:
        try:
            regexes.append(re.compile(source, re.IGNORECASE))
        except re.error as exc:
            raise RuleError(f"{path}: rule {rule.id!r}: pattern {source!r} does not compile: {exc}") from exc
    return CompiledRule(rule.id, rule.votes, rule.weight, rule.scope == "last_clause", tuple(regexes))


def _words_pattern(words: Iterable[str], word_boundaries: bool) -> str:
    """Turn a word list into one regex: literal words, longest first, spaces matching any whitespace."""
    ordered = sorted({normalise(word) for word in words}, key=len, reverse=True)
    body = "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in ordered)
    return rf"(?<!\w)(?:{body})(?!\w)" if word_boundaries else f"(?:{body})"


def warm() -> None:
    """Read the rule files and load the learned models and jieba now, at start: the first
    message of a running bot is then answered as fast as the others, and its transaction
    does not hold the database's write lock for a second while they load."""
    load_rules()
    act_rules()
    act_model()
    spin_model()
    tokens.warm()


def classify(text: str, *, rules: RuleBook | None = None) -> Classification:
    """Classify one message a rep typed: language, question or not, open/closed, and SPIN type.

    Each sentence is read on its own, in its own language, and the message's main ask is its last
    question, so a greeting, a lead-in or a thank-you in front of the question (谢谢。How's
    business?) does not decide the verdict.
    ``rules`` defaults to the packaged rule files; the returned cues name every rule that
    decided a verdict, in the form ``class:rule_id(matched words)``.
    """
    book = rules or load_rules()
    normalised = normalise(text)
    lang = detect_language(normalised)
    if not any(char.isalpha() for char in normalised):
        return Classification(text, lang, False, "none", "none", ("statement:no_words",))
    parts = [part for part in sentences(normalised) if any(char.isalpha() for char in part)] or [normalised]
    langs = [detect_language(part) if len(parts) > 1 else lang for part in parts]
    read = [tokens.words_of(part) for part in parts]
    verdicts = [_classify_sentence(text, part_lang, book.languages[part_lang], words) for words, part_lang in zip(read, langs, strict=True)]
    main = max((i for i, verdict in enumerate(verdicts) if verdict.is_question), default=len(verdicts) - 1)
    acts = [speech_act(words, part_lang, verdict.is_question) for words, part_lang, verdict in zip(read, langs, verdicts, strict=True)]
    each = tuple(replace(verdict, text=part, acts=(act,)) for part, verdict, act in zip(parts, verdicts, acts, strict=True)) if len(parts) > 1 else ()
    acts.append(acts.pop(main))
    return replace(verdicts[main], acts=tuple(acts), parts=each)


def speech_act(words: tokens.Words, lang: str, is_question: bool) -> str:
    """What one sentence (normalised, cut into words) does (greeting, pitch, closing, question, improper offer…).

    The act rules (knowledge/understanding/acts.yaml) decide when one of their cues is in the
    sentence; otherwise the learned act model does. A sentence the question rules read as a
    statement is never the act `question`.
    """
    by_rule = act_in(words)
    if by_rule is not None:
        return by_rule
    probabilities = act_model().scores(features(words.text, lang))
    return next(act for act in sorted(probabilities, key=probabilities.__getitem__, reverse=True) if is_question or act != "question")


def _classify_sentence(text: str, lang: str, language: LanguageRules, words: tokens.Words) -> Classification:
    normalised = words.text
    hits = _apply_rules(language.rules, normalised)
    question_class, question_hits = _decide(hits, QUESTION_CLASSES, language.priority)
    if question_class != "question":
        cues = [hit.cue for hit in question_hits] or ["statement:no_question_cue"]
        return Classification(text, lang, False, "none", "none", tuple(cues), words=words)
    form, form_hits = _decide(hits, FORM_CLASSES, language.priority)
    spin, spin_hits = _decide(hits, SPIN_CLASSES, language.priority)
    cues = [hit.cue for hit in question_hits]
    cues += [hit.cue for hit in form_hits] or [f"{language.default_form}:default_form"]
    strength = max((hit.rule.weight for hit in spin_hits), default=0)
    learned = _learned_spin(normalised, lang, language) if strength <= language.model_overrides else None
    if learned is not None:
        spin, spin_cues = learned
    elif spin is None:
        spin, spin_cues = language.default_spin, [f"{language.default_spin}:default_spin"]
    else:
        spin_cues = [hit.cue for hit in spin_hits]
    cues += spin_cues
    return Classification(text, lang, True, form or language.default_form, spin, tuple(cues), words=words)


def _learned_spin(normalised: str, lang: str, language: LanguageRules) -> tuple[str, list[str]] | None:
    """The learned layer's SPIN type when it is at least `model_confidence` sure, else None.

    Its cue names the n-grams that weighed most, e.g. ``implication:model(lose,custom)``.
    """
    model = spin_model()
    feats = features(normalised, lang)
    probabilities = model.scores(feats)
    best = max(probabilities, key=probabilities.__getitem__)
    if probabilities[best] >= language.model_confidence:
        return best, [f"{best}:model({','.join(model.heaviest(feats, best))})"]
    return None


def _apply_rules(rules: Sequence[CompiledRule], normalised: str) -> list[_Hit]:
    """Run every rule once; ``last_clause`` rules only see the text after the last comma/semicolon/colon."""
    last_clause = _CLAUSE_BREAK.split(normalised.rstrip(",;: "))[-1]
    hits = []
    for rule in rules:
        matched = rule.first_match(last_clause if rule.last_clause_only else normalised)
        if matched is not None:
            hits.append(_Hit(rule, matched))
    return hits


def _decide(hits: Sequence[_Hit], classes: Sequence[str], priority: Mapping[str, int]) -> tuple[str | None, list[_Hit]]:
    """Pick the winning class among ``classes``: strongest rule, then total weight, then priority order."""
    best: tuple[int, int, int] | None = None
    winner: str | None = None
    for name in classes:
        weights = [hit.rule.weight for hit in hits if hit.rule.votes == name]
        if not weights:
            continue
        key = (max(weights), sum(weights), -priority[name])
        if best is None or key > best:
            best, winner = key, name
    return winner, [hit for hit in hits if hit.rule.votes == winner]
