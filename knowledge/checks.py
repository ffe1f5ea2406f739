"""Checks across the parts of content files that a schema alone cannot express.

Each check yields `Problem`s pointing at the line of the offending value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, get_args

from knowledge.loader import Knowledge, Loc, Problem, Source
from knowledge.polls import misfits
from knowledge.schema import LANGS, Conduct, Form, Lesson, Move, Quiz, Scenario, Script, Text
from knowledge.schema_paths import LearningPath

MESSAGE_LIMIT = 4096
BUTTON_LABEL_LIMIT = 64


def _too_long(src: Source, loc: tuple[Any, ...], text: Text, limit: int, what: str) -> Iterator[Problem]:
    for lang in LANGS:
        size = len(text.get(lang))
        if size > limit:
            yield Problem(str(src.path), src.line(loc), f"{what} ({lang}) is {size} characters; the limit is {limit}", "shorten it")


def check_quiz(quiz: Quiz, src: Source, seen_questions: dict[str, str]) -> Iterator[Problem]:
    """Answers must be options, and kinds must fit their answers."""
    for i, q in enumerate(quiz.questions):
        loc = ("questions", i)
        where = f"{src.path}"
        if q.id in seen_questions:
            yield Problem(
                where, src.line(loc + ("id",)), f"question id '{q.id}' is used twice (also in {seen_questions[q.id]})", "give each question its own id"
            )
        seen_questions[q.id] = where
        ids = [o.id for o in q.options]
        if len(ids) != len(set(ids)):
            yield Problem(where, src.line(loc + ("options",)), f"question '{q.id}' repeats an option id")
        if q.kind == "truefalse" and q.options:
            yield Problem(
                where, src.line(loc + ("options",)), f"true/false question '{q.id}' must not list options", 'remove options; answer is "true" or "false"'
            )
        if q.kind != "truefalse" and len(q.options) < 2:
            yield Problem(where, src.line(loc), f"question '{q.id}' needs at least two options")
        for answer in q.answer:
            if answer not in q.option_ids():
                yield Problem(where, src.line(loc + ("answer",)), f"answer '{answer}' of question '{q.id}' is not one of its options {q.option_ids()}")
        if q.kind in ("single", "truefalse") and len(q.answer) != 1:
            yield Problem(where, src.line(loc + ("answer",)), f"{q.kind} question '{q.id}' needs exactly one answer", "use kind: multiple for several")
        if q.kind == "multiple" and len(q.answer) < 2:
            yield Problem(where, src.line(loc + ("answer",)), f"multiple-choice question '{q.id}' needs two or more answers", "use kind: single for one")


def check_polls(knowledge: Knowledge) -> list[Problem]:
    """Warnings, not errors: each question of a quiz marked `poll: true` that the bot asks with
    buttons instead of a native quiz poll, and why (knowledge/polls.py), at the line that says so."""
    warnings = []
    for (kind, item_id), src in knowledge.sources.items():
        quiz = knowledge.items[kind][item_id]
        if kind != "quizzes" or not quiz.poll:
            continue
        for i, question in enumerate(quiz.questions):
            for misfit in misfits(question, len(quiz.questions)):
                message = f"question '{question.id}' is asked with buttons, not as a poll: {misfit.reason}"
                warnings.append(Problem(str(src.path), src.line(("questions", i, *misfit.field)), message, warning=True))
    return sorted(warnings)


def check_lesson(lesson: Lesson, src: Source) -> Iterator[Problem]:
    """A lesson is sent as one message, so it must fit Telegram's message limit."""
    for lang in LANGS:
        parts = [lesson.title, lesson.summary] + [s.heading for s in lesson.sections] + [s.body for s in lesson.sections]
        parts += [e.text for e in lesson.examples] + [e.note for e in lesson.examples if e.note] + list(lesson.mistakes)
        size = sum(len(t.get(lang)) + 2 for t in parts)
        if size > MESSAGE_LIMIT - 200:
            yield Problem(
                str(src.path),
                src.line(),
                f"lesson '{lesson.id}' ({lang}) is {size} characters; it must fit one message ({MESSAGE_LIMIT - 200})",
                "shorten sections or split the lesson",
            )


def _names(scenario: Scenario, left_out: frozenset[str]) -> tuple[set[str], set[str], set[str], set[str]]:
    """The scenario's states, facts, flags and triggers, each with the names in parts left out for
    their structure problems (reported already)."""
    states = {s.id for s in scenario.states} | left_out
    facts = {f.id for f in scenario.facts} | left_out
    flags = {flag for m in scenario.moves for flag in m.flags} | left_out
    triggers = {t.trigger for t in scenario.transitions} | {"leave"} | left_out
    return states, facts, flags, triggers


def check_scenario(sc: Scenario, src: Source, authoring: bool = False) -> Iterator[Problem]:
    """Every reference resolves, every fact can be revealed, every outcome can be reached; with
    `authoring` (salescoach validate) also that every English cue word is a whole word."""
    path = str(src.path)
    states, facts, flags, triggers = _names(sc, src.left_out)
    known = facts | flags
    outcomes = {s.outcome for s in sc.states if s.outcome} | {s.end_outcome for s in sc.states if s.end_outcome} | {"abandoned"} | src.left_out
    for kind, ids in (("state", [s.id for s in sc.states]), ("fact", [f.id for f in sc.facts]), ("move", [m.id for m in sc.moves])):
        dupes = {i for i in ids if ids.count(i) > 1}
        for dupe in sorted(dupes):
            yield Problem(path, src.line(), f"{kind} id '{dupe}' is used twice")
    if sc.initial not in states:
        yield Problem(path, src.line(("initial",)), f"initial state '{sc.initial}' is not a state", f"one of {sorted(states)}")
    if not any(t.trigger == "leave" for t in sc.transitions) and "leave" not in src.left_out:
        yield Problem(path, src.line(("transitions",)), "no 'leave' transition", "add {trigger: leave, source: '*', dest: walked_away}")
    for i, t in enumerate(sc.transitions):
        sources = [t.source] if isinstance(t.source, str) else t.source
        for name in sources + [t.dest]:
            if name != "*" and name not in states:
                yield Problem(path, src.line(("transitions", i)), f"transition '{t.trigger}' names unknown state '{name}'")
    for i, state in enumerate(sc.states):
        if state.outcome and state.label is None:
            yield Problem(
                path, src.line(("states", i)), f"end state '{state.id}' has no label", "add label: {zh: ..., en: ...}: the outcome as the scorecard shows it"
            )
        if state.unmatched_trigger and state.unmatched_trigger not in triggers:
            yield Problem(path, src.line(("states", i, "unmatched_trigger")), f"unknown trigger '{state.unmatched_trigger}'")
        if state.moves_on and state.moves_on.trigger and state.moves_on.trigger not in triggers:
            yield Problem(path, src.line(("states", i, "moves_on")), f"unknown trigger '{state.moves_on.trigger}'")
    revealed = {fact for m in sc.moves for fact in m.reveal} | src.left_out
    for i, fact in enumerate(sc.facts):
        if fact.id not in revealed:
            yield Problem(path, src.line(("facts", i)), f"fact '{fact.id}' can never be unlocked: no move reveals it", "add it to a move's reveal list")
    for i, move in enumerate(sc.moves):
        loc = ("moves", i)
        for name in move.states:
            if name not in states:
                yield Problem(path, src.line(loc + ("states",)), f"move '{move.id}' names unknown state '{name}'")
        for name in move.requires + move.unless:
            if name not in known:
                yield Problem(path, src.line(loc), f"move '{move.id}' refers to '{name}', which is neither a fact nor a flag any move sets")
        for name in move.reveal:
            if name not in facts:
                yield Problem(path, src.line(loc + ("reveal",)), f"move '{move.id}' reveals unknown fact '{name}'")
        if move.trigger and move.trigger not in triggers:
            yield Problem(path, src.line(loc + ("trigger",)), f"move '{move.id}' fires unknown trigger '{move.trigger}'")
        if authoring:
            yield from _check_cues(move, src, loc)
        if move.reveal or move.trigger:
            for lang in ("zh", "en"):
                have = len(getattr(move.examples, lang)) if move.examples else 0
                if have < MIN_EXAMPLES:
                    yield Problem(
                        path,
                        src.line(loc),
                        f"move '{move.id}' reveals a fact or moves the customer on but has {have} {lang} example lines",
                        f"add at least {MIN_EXAMPLES} natural rep lines under examples: {lang}:",
                    )
    for i, sug in enumerate(sc.suggestions):
        for name in sug.states:
            if name not in states:
                yield Problem(path, src.line(("suggestions", i)), f"suggestion names unknown state '{name}'")
        for name in sug.requires + sug.unless:
            if name not in known:
                yield Problem(path, src.line(("suggestions", i)), f"suggestion refers to unknown fact or flag '{name}'")
        yield from _too_long(src, ("suggestions", i, "text"), sug.text, 200, "suggestion")
    for i, crit in enumerate(sc.rubric):
        for name in crit.when.facts + crit.when.flags:
            if name not in known:
                yield Problem(path, src.line(("rubric", i)), f"criterion '{crit.id}' refers to unknown fact or flag '{name}'")
        for name in crit.when.outcomes:
            if name not in outcomes:
                yield Problem(path, src.line(("rubric", i)), f"criterion '{crit.id}' refers to unknown outcome '{name}'")
    top = sum(c.points for c in sc.rubric if c.points > 0)
    if top != 100:
        yield Problem(path, src.line(("rubric",)), f"positive rubric points add up to {top}, not 100")
    for i, arch in enumerate(sc.archetypes):
        for name in arch.outcomes:
            if name not in outcomes:
                yield Problem(path, src.line(("archetypes", i)), f"archetype '{arch.id}' refers to unknown outcome '{name}'")
        for name in arch.needs:
            if name not in known:
                yield Problem(path, src.line(("archetypes", i)), f"archetype '{arch.id}' needs unknown fact or flag '{name}'")
    move_ids = {m.id for m in sc.moves} | src.left_out
    for i, upsell in enumerate(sc.upsells):
        if upsell.move not in move_ids:
            yield Problem(path, src.line(("upsells", i)), f"upsell '{upsell.id}' refers to unknown move '{upsell.move}'")
    for i, tip in enumerate(sc.tips):
        if tip.missing not in known:
            yield Problem(path, src.line(("tips", i)), f"tip refers to unknown fact or flag '{tip.missing}'")


MIN_EXAMPLES = 6
VOCABULARY_FILE = Path(__file__).resolve().parent / "understanding" / "vocabulary.en.txt"
_CUE_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?\*?")


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    lines = VOCABULARY_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def whole_word_problem(cue: str) -> str | None:
    """Why an English cue could only match inside other words (None if every word of it is a word)."""
    import simplemma

    words: list[str] = _CUE_WORD.findall(cue.lower())
    for word in words:
        if word.endswith("*") or "'" in word or word.isdigit() or word in _vocabulary():
            continue
        if not simplemma.is_known(word, lang="en"):
            return word
    return None


_MATCHED_CHARACTERS = re.compile(r"[\w\s'*%-]")


def ignored_symbols(cue: str) -> str:
    """The characters of a cue that matching skips (punctuation, currency signs…): "$ off" would match any "off"."""
    return "".join(dict.fromkeys(_MATCHED_CHARACTERS.sub("", cue)))


def _check_cues(move: Move, src: Source, loc: Loc) -> Iterator[Problem]:
    for j, match in enumerate(move.match):
        for cues in (match.cues, match.also):
            for cue in [*cues.zh, *cues.en] if cues else []:
                symbols = ignored_symbols(cue)
                if symbols:
                    yield Problem(
                        str(src.path),
                        src.line(loc + ("match", j)),
                        f"move '{move.id}': cue '{cue}' has '{symbols}', which matching skips, so it matches as '{' '.join(cue.translate({ord(c): ' ' for c in symbols}).split())}' alone",
                        "spell the symbol as a word, or leave it out",
                    )
            for cue in cues.en if cues else []:
                word = whole_word_problem(cue)
                if word is not None:
                    yield Problem(
                        str(src.path),
                        src.line(loc + ("match", j)),
                        f"move '{move.id}': cue '{cue}' has '{word}', which is no whole English word and could only match inside other words",
                        f"write '{word}*' to match words that begin with it, or add it to {VOCABULARY_FILE.name} if it is a real word",
                    )


STAGE_ORDER = ("situation", "problem", "implication", "need_payoff")


def check_script(script: Script, src: Source) -> Iterator[Problem]:
    """A script runs S -> P -> I -> N: every stage present, never going back."""
    stages = [step.stage for step in script.steps]
    for stage in STAGE_ORDER:
        if stage not in stages and stage not in src.left_out:
            yield Problem(str(src.path), src.line(("steps",)), f"script '{script.id}' has no {stage} question", "add one in its place in the order")
    for i in range(1, len(stages)):
        if STAGE_ORDER.index(stages[i]) < STAGE_ORDER.index(stages[i - 1]):
            yield Problem(
                str(src.path),
                src.line(("steps", i, "stage")),
                f"step {src.index(('steps',), i) + 1} goes back from {stages[i - 1]} to {stages[i]}",
                "order the steps situation, problem, implication, need_payoff",
            )


def check_form(form: Form, src: Source) -> Iterator[Problem]:
    """Choice fields need choices; field ids are unique."""
    ids = [f.id for f in form.fields]
    for i, fld in enumerate(form.fields):
        if ids.count(fld.id) > 1:
            yield Problem(str(src.path), src.line(("fields", i)), f"field id '{fld.id}' is used twice")
        if fld.kind == "choice" and len(fld.choices) < 2:
            yield Problem(str(src.path), src.line(("fields", i)), f"choice field '{fld.id}' needs at least two choices")
        for j, choice in enumerate(fld.choices):
            yield from _too_long(src, ("fields", i, "choices", j), choice.label, BUTTON_LABEL_LIMIT, "choice label")


_STEP_CONTENT = {"lesson": "lessons", "drill": "scripts", "quiz": "quizzes", "roleplay": "scenarios"}


def check_path(path: LearningPath, src: Source, knowledge: Knowledge) -> Iterator[Problem]:
    """Every step names content that exists, and a drill asks no more right answers than its script has."""
    for i, step in enumerate(path.steps):
        number = src.index(("steps",), i) + 1
        content = knowledge.items[_STEP_CONTENT[step.kind]]
        if step.target not in content:
            yield Problem(
                str(src.path),
                src.line(("steps", i, step.kind)),
                f"step {number} names {step.kind} '{step.target}', which does not exist",
                f"use one of {sorted(content)}",
            )
        elif step.drill is not None and step.min_right is not None and step.min_right > len(content[step.drill].steps):
            yield Problem(
                str(src.path),
                src.line(("steps", i, "min_right")),
                f"step {number} asks {step.min_right} right answers of script '{step.drill}', which has {len(content[step.drill].steps)} questions",
                "lower min_right",
            )


def check_all(knowledge: Knowledge, authoring: bool = False) -> list[Problem]:
    """Every cross-check over all loaded content; `authoring` adds the checks that need the English
    dictionary (about 0.15 s to load), which `salescoach validate` runs and a bot start skips."""
    problems: list[Problem] = []
    seen_questions: dict[str, str] = {}
    for (kind, item_id), src in sorted(knowledge.sources.items(), key=lambda kv: str(kv[1].path)):
        item = knowledge.items[kind][item_id]
        if kind == "quizzes":
            problems += check_quiz(item, src, seen_questions)
        elif kind == "lessons":
            problems += check_lesson(item, src)
        elif kind == "scenarios":
            problems += check_scenario(item, src, authoring)
        elif kind == "forms":
            problems += check_form(item, src)
        elif kind == "scripts":
            problems += check_script(item, src)
        elif kind == "paths":
            problems += check_path(item, src, knowledge)
    if knowledge.scenarios and knowledge.scoring is None:
        problems.append(
            Problem(
                "scoring/default.yaml",
                1,
                "role-plays need the generic scoring rules (conduct, question quality)",
                "keep knowledge/content/scoring/default.yaml",
            )
        )
    elif knowledge.scoring is not None:
        src = knowledge.sources[("scoring", "default")]
        missing = sorted(set(get_args(Conduct)) - set(knowledge.scoring.conduct) - src.left_out)
        if missing:
            problems.append(
                Problem(
                    str(src.path),
                    src.line(("conduct",)),
                    f"conduct has no rule for {', '.join(missing)}",
                    "every kind of conduct needs points, a label and a reason",
                )
            )
    return problems
