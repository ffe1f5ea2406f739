"""The scorecard at the end of a role-play: what the rep earned, missed, and should try next.

Scoring is a pure function of the scenario and the transcript (facts revealed, flags set, the
outcome, each turn's verdict), so the same transcript always gets the same score. The positive
rubric points of every scenario add up to 100 (the content checks see to it) and are scaled to
the share question quality leaves; question quality adds its share; conduct and leading
questions subtract; the score is kept within 0-100 (knowledge/content/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dialogs.roleplay.customer import PROPOSING_ACTS, Progress
from dialogs.understanding.acts import ruled_acts
from dialogs.understanding.tokens import content_words
from knowledge.schema import Criterion, Scenario

SPIN_TYPES = ("situation", "problem", "implication", "need_payoff")


@dataclass(frozen=True)
class Point:
    """One rubric line: its points, why, and the turn that earned or lost them."""

    criterion: str
    label: str
    points: int
    reason: str
    turn: int | None


@dataclass(frozen=True)
class Incident:
    """Bad conduct in one turn: what it was, the points it cost (0 when the rubric already charged it), and why it matters."""

    kind: str
    label: str
    points: int
    reason: str
    turn: int


@dataclass(frozen=True)
class QuestionQuality:
    """How well the rep asked, with the turns behind each figure (see knowledge/content/README.md)."""

    weight: int
    quality: int
    points: int
    questions: int
    open_turns: tuple[int, ...]
    problem_turns: tuple[int, ...]
    problem_turn: int | None
    implication_turns: tuple[int, ...]
    need_payoff_turns: tuple[int, ...]
    leading_turns: tuple[int, ...]
    leading_cost: int
    listening_turns: tuple[int, ...] = ()
    picked_up_turns: tuple[int, ...] = ()

    @property
    def cap(self) -> int:
        """The highest score a rep can reach with these questions."""
        return 100 - self.weight + self.points


@dataclass(frozen=True)
class Need:
    """A need the customer had, and the turn it came out (None if it never did)."""

    fact: str
    kind: str
    label: str
    turn: int | None


@dataclass
class Scorecard:
    """Everything the rep sees at the end, and the figures that are stored and exported."""

    outcome: str
    outcome_label: str
    score: int
    earned: list[Point] = field(default_factory=list)
    missed: list[Point] = field(default_factory=list)
    needs_found: list[Need] = field(default_factory=list)
    needs_missed: list[Need] = field(default_factory=list)
    question_counts: dict[str, int] = field(default_factory=dict)
    turn_kinds: list[str | None] = field(default_factory=list)  # each message's SPIN type, None when it asked none
    rubric: int = 0
    rubric_points: int = 0
    conduct: list[Incident] = field(default_factory=list)
    asking: QuestionQuality | None = None
    archetype: str = ""
    archetype_unbacked: bool = False
    upsells: list[str] = field(default_factory=list)
    tip: str = ""
    lesson: str = ""

    @property
    def perfect(self) -> bool:
        """True only when nothing positive was missed (rubric or question quality) and nothing cost points."""
        asked_well = self.asking is None or (self.asking.points == self.asking.weight and not self.asking.leading_turns)
        return not self.missed and all(p.points > 0 for p in self.earned) and not self.conduct and asked_well

    @property
    def facts_uncovered(self) -> list[str]:
        """The ids of the needs the rep uncovered, in the order they came out."""
        return [n.fact for n in self.needs_found]


def outcome_label(scenario: Scenario, outcome: str, lang: str) -> str:
    """The outcome as the rep reads it; empty for a role-play ended before any outcome."""
    end_state = next((s for s in scenario.states if s.outcome == outcome and s.label), None)
    return end_state.label.get(lang) if end_state and end_state.label else ""


def _met(criterion: Criterion, progress: Progress, outcome: str) -> bool:
    when = criterion.when
    return all(progress.knows(n) for n in when.facts + when.flags) and (not when.outcomes or outcome in when.outcomes)


def _turn_of(criterion: Criterion, progress: Progress) -> int:
    names = criterion.when.facts + criterion.when.flags
    if criterion.when.outcomes or not names:
        return progress.turn
    return max(progress.marks[n] for n in names)


def question_counts(verdicts: list[dict[str, Any]]) -> dict[str, int]:
    """How many of the rep's messages were questions, by form and by SPIN type."""
    questions = [v for v in verdicts if v.get("is_question")]
    counts = {"questions": len(questions), "open": 0, "closed": 0, **dict.fromkeys(SPIN_TYPES, 0)}
    for verdict in questions:
        for key in (verdict.get("form"), verdict.get("spin")):
            if key in counts:
                counts[key] += 1
    return counts


def turn_kinds(verdicts: list[dict[str, Any]]) -> list[str | None]:
    """The SPIN type each of the rep's messages asked, turn by turn (None: no SPIN question)."""
    return [v.get("spin") if v.get("is_question") and v.get("spin") in SPIN_TYPES else None for v in verdicts]


def conduct(scenario: Scenario, progress: Progress, verdicts: list[dict[str, Any]], earned: list[Point], lang: str) -> list[Incident]:
    """Each turn with bad conduct (a speech act, or a move flag the rules list), with what it costs.

    A scenario's own rubric penalty on one of the same flags counts towards the cost, so the
    same behaviour is never charged twice.
    """
    rules = scenario.rules.conduct
    turns: dict[str, set[int]] = {kind: set() for kind in rules}
    for number, verdict in enumerate(verdicts, 1):
        for act in ruled_acts(verdict.get("text") or ""):
            if act in turns:
                turns[act].add(number)
    for kind, rule in rules.items():
        turns[kind].update(progress.marks[f] for f in rule.flags if f in progress.marks)
    criteria = {c.id: c for c in scenario.rubric}
    incidents = []
    for kind, rule in rules.items():
        charged = -sum(p.points for p in earned if p.points < 0 and set(criteria[p.criterion].when.flags) & set(rule.flags))
        for turn in sorted(turns[kind]):
            already = min(rule.points, charged)
            charged -= already
            incidents.append(Incident(kind, rule.label.get(lang), -(rule.points - already), rule.reason.get(lang), turn))
    return sorted(incidents, key=lambda i: i.turn)


LISTENING_CHANCES = 2


def question_quality(scenario: Scenario, progress: Progress, verdicts: list[dict[str, Any]], lang: str, moves: list[str]) -> QuestionQuality:
    """Question quality out of 100: half open questions (full marks when at least half are open),
    half SPIN progression; then scaled by listening, from half (no question after an answer
    picked it up) to all of it (at least half of them did: a good rep also moves on to new
    topics). Listening is judged once she has told a problem or a need at least twice.

    Progression is a third each for asking a problem question, an implication question after a
    problem came out (a problem question asked, or a latent need revealed), and a need-payoff
    question after it. Seven closed situation questions score 0, so the score stays within
    100 - weight.
    """
    rules = scenario.rules.questions
    asked = [(n, v) for n, v in enumerate(verdicts, 1) if v.get("is_question")]
    open_turns = tuple(n for n, v in asked if v.get("form") == "open")
    latent = [progress.marks[f.id] for f in scenario.facts if f.kind == "latent" and f.id in progress.marks]
    problem_turn = min([n for n, v in asked if v.get("spin") == "problem"] + latent, default=None)
    after = [(n, v) for n, v in asked if problem_turn is not None and n > problem_turn]
    implication = tuple(n for n, v in after if v.get("spin") == "implication")
    need_payoff = tuple(n for n, v in after if v.get("spin") == "need_payoff")
    problem_asked = tuple(n for n, v in asked if v.get("spin") == "problem")
    progression = sum((bool(problem_asked), bool(implication), bool(need_payoff))) / 3
    share = min(1.0, 2 * len(open_turns) / len(asked)) if asked else 0.0
    chances, picked = listening(scenario, progress, verdicts, lang, moves)
    heard = min(1.0, 2 * len(picked) / len(chances)) if len(chances) >= LISTENING_CHANCES else 1.0
    quality = round(100 * (share + progression) / 2 * (1 + heard) / 2)
    leading = tuple(n for n, v in asked if "leading" in (v.get("acts") or ()))
    return QuestionQuality(
        rules.weight,
        quality,
        round(quality * rules.weight / 100),
        len(asked),
        open_turns,
        problem_asked,
        problem_turn,
        implication,
        need_payoff,
        leading,
        rules.leading,
        chances,
        picked,
    )


def listening(scenario: Scenario, progress: Progress, verdicts: list[dict[str, Any]], lang: str, moves: list[str]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The discovery questions (a SPIN type and no offer in them: "A jin of these?" asks nothing
    about her) asked right after the customer told a problem or a need (an explicit or latent
    fact came out the turn before), and those of them that follow it up: they share a word with
    what she said or what it was about (beyond the common ones), ask what it leads to or what
    would help (implication, need-payoff), or count as a move that builds on what she told."""
    told: dict[int, set[str]] = {}
    facts_at: dict[int, set[str]] = {}
    for fact in scenario.facts:
        if fact.kind != "info" and fact.id in progress.marks:
            turn = progress.marks[fact.id]
            said = " ".join([fact.label.get(lang), *(reply.get(lang) for reply in fact.reply)])
            told.setdefault(turn, set()).update(content_words(said))
            facts_at.setdefault(turn, set()).add(fact.id)
    requires = {move.id: set(move.requires) for move in scenario.moves}
    chances = tuple(
        n
        for n, v in enumerate(verdicts, 1)
        if v.get("is_question") and v.get("spin") not in (None, "none") and not PROPOSING_ACTS & set(v.get("acts") or ()) and n - 1 in told
    )
    picked = tuple(
        n
        for n in chances
        if verdicts[n - 1].get("spin") in ("implication", "need_payoff")
        or content_words(verdicts[n - 1].get("text") or "") & told[n - 1]
        or (n <= len(moves) and requires.get(moves[n - 1], set()) & facts_at[n - 1])
    )
    return chances, picked


def score_roleplay(scenario: Scenario, progress: Progress, outcome: str, verdicts: list[dict[str, Any]], moves: list[str], lang: str) -> Scorecard:
    """Score a finished role-play against the scenario's rubric.

    `verdicts` are the classifications of the rep's messages, `moves` the moves they counted as.
    """
    card = Scorecard(
        outcome=outcome,
        outcome_label=outcome_label(scenario, outcome, lang),
        score=0,
        lesson=scenario.lesson.get(lang),
        question_counts=question_counts(verdicts),
        turn_kinds=turn_kinds(verdicts),
    )
    total = 0
    for criterion in scenario.rubric:
        met = _met(criterion, progress, outcome)
        point = Point(criterion.id, criterion.label.get(lang), criterion.points, criterion.reason.get(lang), _turn_of(criterion, progress) if met else None)
        if met:
            total += criterion.points
            card.earned.append(point)
        elif criterion.points > 0:
            card.missed.append(point)
    card.conduct = conduct(scenario, progress, verdicts, card.earned, lang)
    card.asking = question_quality(scenario, progress, verdicts, lang, moves)
    asking = card.asking
    card.rubric = total
    card.rubric_points = round(total * (100 - asking.weight) / 100)
    total = card.rubric_points + asking.points
    total -= sum(-i.points for i in card.conduct) + asking.leading_cost * len(asking.leading_turns)
    card.score = max(0, min(100, total))
    for fact in scenario.facts:
        if fact.kind == "info":
            continue
        need = Need(fact.id, fact.kind, fact.label.get(lang), progress.marks.get(fact.id))
        (card.needs_found if need.turn is not None else card.needs_missed).append(need)
    card.needs_found.sort(key=lambda n: n.turn or 0)
    archetype = next((a for a in scenario.archetypes if outcome in a.outcomes), None)
    if archetype is not None:
        if all(progress.knows(n) for n in archetype.needs):
            card.archetype = archetype.label.get(lang)
        else:
            card.archetype_unbacked = True
    played = set(moves)
    card.upsells = [u.label.get(lang) for u in scenario.upsells if u.move in played]
    card.tip = _tip(scenario, progress, card, lang)
    return card


def _tip(scenario: Scenario, progress: Progress, card: Scorecard, lang: str) -> str:
    """One concrete thing to do next time: the first thing missed, else the first penalty's lesson."""
    missing = next((t.text.get(lang) for t in scenario.tips if not progress.knows(t.missing)), None)
    if missing:
        return missing
    penalty = next((p for p in card.earned if p.points < 0), None)
    return penalty.reason if penalty else ""
