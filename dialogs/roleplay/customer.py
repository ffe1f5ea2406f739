"""The customer in a role-play: a `transitions` machine built from the scenario YAML.

The scenario lists the customer's states and transitions as data; this module turns them
into one Machine per scenario and plays one rep message at a time against it. The customer
never volunteers a hidden fact: a fact is revealed only by a move whose conditions the rep's
message meets (topic cues, question form and SPIN type from the classifier, prerequisites).
Which moves a message counts as (cues as whole words, example lines, the SPIN kind, penalties in
any sentence) and in what order is spelled out in `find_move` and `respond`, and for trainers in
knowledge/content/README.md; scenario authors still put the specific moves (and the ones that
cost goodwill) first, since cue matches are taken in file order.

Everything here is pure: the progress of a role-play is a plain value the caller stores.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property

from transitions import Machine

from dialogs.understanding.acts import act_in
from dialogs.understanding.classifier import Classification, classify
from dialogs.understanding.learned import LinearModel, examples_model, text_features
from dialogs.understanding.similarity import ExampleIndex
from dialogs.understanding.text import normalise, sentences
from dialogs.understanding.tokens import CueSet, Words, cue_form, cue_set, words_of
from knowledge.copy import copy_text
from knowledge.schema import Cues, Match, Move, MovesOn, Scenario, Suggestion, Text, Upsell

LEAVE = "leave"
_LOCK = threading.Lock()
_MACHINES: dict[tuple[str, int], tuple[Scenario, Machine]] = {}
_EXAMPLES: dict[tuple[str, int], ExampleIndex] = {}
_MODELS: dict[tuple[str, int], LinearModel] = {}
_DESTINATIONS: dict[tuple[str, int, str, str], str] = {}
_SPIN_OF: dict[tuple[str, int, str], str | None] = {}
_REWARDED: dict[tuple[str, int], frozenset[str]] = {}
_CUE_SETS: dict[int, tuple[Cues, CueSet]] = {}
EXAMPLE_SIMILARITY = 0.4
SAME_KIND_SIMILARITY = 0.1
# The share of the move model's belief, among the moves that fit where the talk stands, one move
# needs to count without cue or close example (chosen on the golden and dev scripts: 0.9 kept
# poor, medium and skilled reps in order and put the most skilled reps at a best outcome).
MOVE_CONFIDENCE = 0.9
# ...and the model's own probability of it at least this: with one or two moves left that fit
# (after the sale, say), a share alone says little ("Shall I add some?" is no goodbye).
MOVE_FLOOR = 0.3


@dataclass
class Progress:
    """Where a role-play stands: the customer's state and what the rep has found out so far.

    `marks` remembers the turn at which each fact was revealed or flag was set, so the
    scorecard can say which turn earned (or lost) each point; `unheard` counts the turns in a
    row the customer did not understand, `puzzled` all such turns (they wear her patience down
    slowly: `Scenario.puzzled_per_strike` of them weigh as much as one strike).
    """

    state: str
    turn: int = 0
    strikes: int = 0
    goodwill: int = 0
    marks: dict[str, int] = field(default_factory=dict)
    unheard: int = 0
    puzzled: int = 0

    def knows(self, name: str) -> bool:
        """True if the fact has been revealed or the flag set."""
        return name in self.marks

    def mark(self, name: str) -> bool:
        """Record a fact or flag at this turn; False if it was already known."""
        if name in self.marks:
            return False
        self.marks[name] = self.turn
        return True


@dataclass(frozen=True)
class Response:
    """What one rep message did: the moves it counted as (`move` is the first), what the customer says, what changed."""

    move: str | None
    moves: tuple[str, ...]
    lines: tuple[str, ...]
    revealed: tuple[str, ...]
    left: bool
    outcome: str | None


class _Customer:
    """The model a scenario's machine drives; `state` is the customer's state."""

    state: str
    trigger: Callable[[str], bool]  # bound by the machine: fires the named trigger


def machine_for(scenario: Scenario) -> Machine:
    """The scenario's state machine, built from its states and transitions once and shared."""
    key = (scenario.id, id(scenario))
    with _LOCK:
        if key not in _MACHINES:
            transitions = [{"trigger": t.trigger, "source": t.source, "dest": t.dest} for t in scenario.transitions]
            machine = Machine(model=None, states=[s.id for s in scenario.states], transitions=transitions, initial=scenario.initial, auto_transitions=False)
            _MACHINES[key] = (scenario, machine)
        return _MACHINES[key][1]


def prepare(scenario: Scenario) -> None:
    """Build the scenario's machine, example index, move model, compiled cues and each move's
    SPIN kind now (at start), not on a rep's first turns."""
    machine_for(scenario)
    examples_of(scenario)
    move_model(scenario)
    for move in scenario.moves:
        spin_of(scenario, move)
    cues = [c for move in scenario.moves for m in move.match for c in (m.cues, m.also)] + [scenario.rules.reasons]
    for found in cues:
        if found is not None:
            _compiled(found)


def fire(scenario: Scenario, state: str, trigger: str) -> str:
    """The state after `trigger` fires in `state`; unchanged if the trigger does not apply there."""
    machine = machine_for(scenario)
    customer = _Customer()
    with _LOCK:
        machine.add_model(customer, initial=state)
        try:
            if trigger in machine.get_triggers(state):
                customer.trigger(trigger)
            return customer.state
        finally:
            machine.remove_model(customer)


def outcome_of(scenario: Scenario, state: str) -> str | None:
    """The role-play's outcome if `state` is an end state."""
    return next((s.outcome for s in scenario.states if s.id == state), None)


def end_early_outcome(scenario: Scenario, state: str) -> str:
    """The outcome when the rep ends the role-play in `state` with /end."""
    return outcome_of(scenario, state) or next((s.end_outcome for s in scenario.states if s.id == state and s.end_outcome), None) or "abandoned"


def pick(variants: list[Text], lang: str, *salt: object) -> str:
    """One of several ways to say something: varied between turns, the same for the same transcript."""
    return in_turn(variants, lang, 0, *salt)


def in_turn(variants: list[Text], lang: str, turn: int, *salt: object) -> str:
    """One of several ways to say the same stock answer, never the same line two turns running
    (consecutive turns step to the next variant): for the vague answers a customer repeats."""
    index = (zlib.crc32(":".join(str(s) for s in salt).encode()) + turn) % len(variants)
    return variants[index].get(lang)


def _has_cue(cues: Cues | None, text: Words) -> bool:
    """True if the text holds any of the cues as whole words, in either language (reps mix them)."""
    if cues is None:
        return True
    return _compiled(cues).found_in(text)


def _compiled(cues: Cues) -> CueSet:
    """A move's cues compiled once (kept with the cues object, which the loaded scenario holds)."""
    found = _CUE_SETS.get(id(cues))
    if found is None or found[0] is not cues:
        found = _CUE_SETS[id(cues)] = (cues, cue_set(tuple(cue_form(cue) for cue in (*cues.zh, *cues.en))))
    return found[1]


def _matches(match: Match, text: Words, verdict: Classification) -> bool:
    """True if the message meets every condition of the match: the verdict's are looked at before
    the cues, as they cost less and rule most matches out."""
    return (
        (match.question is None or match.question == verdict.is_question)
        and (match.form is None or match.form == verdict.form)
        and (match.spin is None or verdict.spin in match.spin)
        and (match.acts is None or bool(set(match.acts) & set(verdict.acts)))
        and _has_cue(match.cues, text)
        and (match.also is None or _has_cue(match.also, text))
    )


PROPOSING_ACTS = frozenset({"closing", "pitch", "price"})


def destination(scenario: Scenario, state: str, trigger: str) -> str:
    """Where `trigger` takes the customer from `state`: the machine is run once per state and trigger,
    then remembered, both to see where a move would lead and to move her on (each run adds a model to
    the machine and removes it again, which cost a turn about as much as finding its move)."""
    key = (scenario.id, id(scenario), state, trigger)
    if key not in _DESTINATIONS:
        _DESTINATIONS[key] = fire(scenario, state, trigger)
    return _DESTINATIONS[key]


def rewarded_outcomes(scenario: Scenario) -> frozenset[str]:
    """The outcomes the rubric rewards: a sale, an appointment, a trial (not walking away or a put-off);
    worked out once per loaded scenario, as each move that fits is checked against them every turn."""
    key = (scenario.id, id(scenario))
    if key not in _REWARDED:
        _REWARDED[key] = frozenset(o for c in scenario.rubric if c.points > 0 for o in c.when.outcomes)
    return _REWARDED[key]


def closes(scenario: Scenario, state: str, move: Move) -> bool:
    """True if the move's trigger would take the customer from `state` to a rewarded outcome: a sale, a trial…"""
    return move.trigger != LEAVE and ending(scenario, state, move) in rewarded_outcomes(scenario)


def ending(scenario: Scenario, state: str, move: Move) -> str | None:
    """The outcome the move's trigger would take the customer to from `state` (an end state's, or
    the one /end would give there), or None when it leaves her talking."""
    if move.trigger is None:
        return None
    after = destination(scenario, state, move.trigger)
    return None if after == state else next((s.outcome or s.end_outcome for s in scenario.states if s.id == after), None)


def cold_upsell(scenario: Scenario, move: Move, words: Words) -> Upsell | None:
    """The add-on this move sells, when the message gives no reason for it: no reason word
    (scoring/default.yaml) and none of the upsell's `link` words. "Buy some kiwi too." is not
    taken; "Kiwi's full of vitamins, good for her and the baby" is."""
    upsell = next((u for u in scenario.upsells if u.move == move.id), None)
    if upsell is None:
        return None
    linked = _has_cue(scenario.rules.reasons, words) or (upsell.link is not None and _has_cue(upsell.link, words))
    return None if linked else upsell


def costs(scenario: Scenario, move: Move) -> bool:
    """True for a mistake: the move loses goodwill or sets a flag the rubric takes points for."""
    return move.goodwill < 0 or any(c.points < 0 and set(c.when.flags) & set(move.flags) for c in scenario.rubric)


def proposes(verdict: Classification) -> bool:
    """False for a question that offers nothing (no sentence is a closing, a pitch or a price): a
    question never completes a sale on its own, whatever its SPIN type ("Mind if I ask what
    they're for?" is not "weigh me a jin")."""
    return not verdict.is_question or bool(PROPOSING_ACTS & set(verdict.acts))


def substantive(move: Move) -> bool:
    """A move that counts for something: reveals a fact, moves the customer on, marks the rep or changes goodwill
    (a mere greeting or small-talk answer does not)."""
    return bool(move.reveal or move.trigger or move.flags or move.goodwill)


def applicable(item: Move | Suggestion, progress: Progress) -> bool:
    """True if a move (or a suggested one) fits now: right state, prerequisites known, exclusions not."""
    return in_place(item, progress) and not any(progress.knows(name) for name in item.unless)


def in_place(item: Move | Suggestion, progress: Progress) -> bool:
    """True if the customer is in one of the item's states and knows everything it requires."""
    return (not item.states or progress.state in item.states) and all(progress.knows(name) for name in item.requires)


def labelled_examples(scenario: Scenario) -> list[tuple[str, str]]:
    """Every example line of the scenario's moves, with the move it stands for."""
    return [(move.id, line) for move in scenario.moves if move.examples for line in (*move.examples.zh, *move.examples.en)]


def examples_of(scenario: Scenario) -> ExampleIndex:
    """The scenario's move examples, indexed once per loaded scenario."""
    key = (scenario.id, id(scenario))
    with _LOCK:
        if key not in _EXAMPLES:
            _EXAMPLES[key] = ExampleIndex(labelled_examples(scenario))
        return _EXAMPLES[key]


def move_model(scenario: Scenario) -> LinearModel:
    """The scenario's move model, trained on its example lines (cached on disk by their hash)."""
    key = (scenario.id, id(scenario))
    with _LOCK:
        if key not in _MODELS:
            _MODELS[key] = examples_model(f"moves-{scenario.id}", labelled_examples(scenario))
        return _MODELS[key]


class Reading:
    """A rep's message, or one of its sentences, with its verdict, as the customer reads it: its
    words for the cues, the n-grams of it and of each of its sentences, how like each move's example
    lines those are, and what the move model makes of them.

    None of this depends on where the talk stands, and one turn asks about the same text many times
    (the whole message and each sentence, again once a move has taken effect, whether it asks again
    what she told, whether an add-on came with a reason), so each part is worked out when first
    needed and then kept with the reading. `respond` makes a new reading for each message: nothing
    is kept from one message to the next.
    """

    def __init__(self, scenario: Scenario, text: str, verdict: Classification) -> None:
        self.scenario = scenario
        self.text = text
        self.verdict = verdict
        self.normalised = normalise(text)

    @cached_property
    def words(self) -> Words:
        """The text cut into words, for the cues: as the classifier cut it when its verdict is on this very text."""
        kept = self.verdict.words
        return kept if kept is not None and kept.text == self.normalised else words_of(self.normalised)

    @cached_property
    def ruled(self) -> str | None:
        """The act an act rule names in the text (a cue in acts.yaml), or None."""
        return act_in(self.words)

    @cached_property
    def pieces(self) -> list[Reading]:
        """Each sentence read on its own, with its own verdict (this reading, for a one-sentence message)."""
        pieces = sentence_verdicts(self.text, self.verdict)
        if len(pieces) == 1 and pieces[0][0] == self.text and pieces[0][1] is self.verdict:
            return [self]
        return [Reading(self.scenario, piece, piece_verdict) for piece, piece_verdict in pieces]

    @cached_property
    def features(self) -> list[tuple[str, ...]]:
        """The n-grams of the whole text and of each of its sentences (a one-sentence text is read once)."""
        return list(dict.fromkeys(tuple(text_features(part)) for part in (self.text, *sentences(self.normalised))))

    @cached_property
    def similarities(self) -> list[dict[int, float]]:
        """For the whole text and each sentence: its similarity to each example line it shares an n-gram with."""
        index = examples_of(self.scenario)
        return [index.similarities(index.vector_of(feats)) for feats in self.features]

    @cached_property
    def move_scores(self) -> list[dict[str, float]]:
        """For the whole text and each sentence: the move model's probability of each move."""
        model = move_model(self.scenario)
        return [model.scores(feats) for feats in self.features]


def likeliest(reading: Reading, labels: set[str]) -> tuple[float, str | None]:
    """The move among `labels` (the moves that fit now) the move model finds likeliest for the
    whole message or one of its sentences, with its share of the model's belief in those moves."""
    found: tuple[float, str | None] = (0.0, None)
    for scores in reading.move_scores:
        total = sum(probability for label, probability in scores.items() if label in labels) or 1.0
        for label, probability in scores.items():
            if label in labels and probability >= MOVE_FLOOR and probability / total > found[0]:
                found = (probability / total, label)
    return found


def find_move(
    scenario: Scenario,
    progress: Progress,
    reading: Reading,
    *,
    may_close: bool | None = None,
    guess_ends: bool = True,
) -> Move | None:
    """The move the rep's message counts as: the first move that counts for something whose cues it
    holds, in file order; else the move whose example lines the message, or one of its sentences,
    is most like, when closely enough; else the move the scenario's move model (trained on those
    example lines) is all but sure of among the moves that fit; else, for a question, the move of the same SPIN kind whose
    examples it is most like (a looser bar: the kind already agrees), unless it only asks again
    what the customer has told; else a small-talk move whose cues it holds. Moves that would
    complete a sale are left out when the message does not propose anything (`may_close`, by
    default judged from this text's own verdict). When `guess_ends` is false (a later sentence
    of a message whose first move has already counted) and the deal is made, a move that would
    end the talk is not taken on the model's word alone: "Saturday or Sunday?" right after the
    booking is no goodbye."""
    verdict = reading.verdict
    may = proposes(verdict) if may_close is None else may_close
    fitting = [move for move in scenario.moves if applicable(move, progress) and (may or not closes(scenario, progress.state, move))]
    by_cue = [move for move in fitting if any(_matches(m, reading.words, verdict) for m in move.match)]
    strong = [move for move in by_cue if substantive(move)]
    if strong:
        return strong[0]
    index = examples_of(scenario)
    labels = {move.id for move in fitting if move.examples}
    similarity, nearest = max((index.best(scores, labels) for scores in reading.similarities), key=lambda found: found[0])
    if nearest is not None and similarity >= EXAMPLE_SIMILARITY:
        return next(move for move in fitting if move.id == nearest.label)
    settled = not guess_ends and end_early_outcome(scenario, progress.state) in rewarded_outcomes(scenario)
    guessable = {move.id for move in fitting if move.id in labels and ending(scenario, progress.state, move) is None} if settled else labels
    probability, label = likeliest(reading, guessable)
    if label is not None and probability >= MOVE_CONFIDENCE:
        return next(move for move in fitting if move.id == label)
    if verdict.is_question and verdict.spin != "none" and asked_again(scenario, progress, reading) is None:
        kind = {move.id for move in fitting if spin_of(scenario, move) == verdict.spin}
        similarity, nearest = max((index.best(scores, kind) for scores in reading.similarities), key=lambda found: found[0])
        if nearest is not None and similarity >= SAME_KIND_SIMILARITY:
            return next(move for move in fitting if move.id == nearest.label)
    return by_cue[0] if by_cue else None


def spin_of(scenario: Scenario, move: Move) -> str | None:
    """The SPIN type most of a move's example lines have (when at least 60% agree): what kind of
    question the move stands for, so a question of that kind on the same topic can count as it."""
    key = (scenario.id, id(scenario), move.id)
    if key not in _SPIN_OF:
        kinds = [classify(line).spin for line in (*move.examples.zh, *move.examples.en)] if move.examples else []
        top = max(set(kinds), key=kinds.count) if kinds else None
        _SPIN_OF[key] = top if top is not None and kinds.count(top) >= 0.6 * len(kinds) and top != "none" else None
    return _SPIN_OF[key]


def respond(scenario: Scenario, progress: Progress, text: str, verdict: Classification, lang: str) -> Response:
    """Play one rep message: the customer reacts in character and `progress` moves on.

    The whole message is read first; when it counts as nothing, each sentence is tried in turn.
    When what it counts as costs goodwill, every other sentence that costs goodwill counts too
    ("sweet ones are nicer, and I'll do you a discount" costs both), while a contrast inside a
    good question ("most people want sweet plums; why do you want sour ones?") costs nothing.
    When it is no mistake, every other sentence that counts as a move of its own, read in order
    once the first has taken effect, counts too ("I get it, you've had lots of calls. What did
    they do that annoyed you?" acknowledges and asks); such a sentence may end the talk only
    if it is the last and its move would close well (a booking with "and we'll look at your
    staff too" adds the staff).
    A move that counts reveals its facts, sets its flags, changes goodwill and fires its trigger.
    Small talk (a greeting answered with a greeting) is answered only when nothing else was said.
    When nothing matches the customer gives the state's vague answer (and some states move on: a
    customer who has paid and hears nothing useful leaves). Each strike
    (negative goodwill) counts; when the strikes reach the scenario's patience the customer
    walks away.
    """
    progress.turn += 1
    turn = progress.turn
    state = next(s for s in scenario.states if s.id == progress.state)
    vague = in_turn(state.unmatched or scenario.unmatched, lang, turn, scenario.id, "unmatched")
    reading = Reading(scenario, text, verdict)
    pieces = reading.pieces
    lines: list[str] = []
    revealed: list[str] = []
    applied: list[Move] = []
    small_talk: Move | None = None
    main = find_move(scenario, progress, reading)
    others = [] if len(pieces) == 1 else [find_move(scenario, progress, piece, may_close=False) for piece in pieces]
    if main is not None and not substantive(main):
        small_talk, main = main, None
    if main is None:
        main = next((move for move in others if move is not None and substantive(move)), None)
    cold = cold_upsell(scenario, main, reading.words) if main is not None else None
    if cold is not None:
        main = None
    if main is not None and not costs(scenario, main) and len(pieces) > 1:
        cold = _apply_each_sentence(scenario, progress, main, reading, others, lang, lines, applied, revealed)
    else:
        chosen = [main] if main is not None else []
        chosen += [move for move in others if move is not None and move.goodwill < 0 and move not in chosen]
        for move in chosen:
            if move is not main and not applicable(move, progress):
                continue
            applied.append(move)
            revealed += _apply(scenario, progress, move, lang, lines)
            if outcome_of(scenario, progress.state) is not None:
                break
    if cold is not None and not applied:
        lines.append(in_turn(cold.ask_why or copy_text().customer_upsell_why, lang, turn, scenario.id, cold.id))
    offended = cold is not None and not applied
    offended |= _take_offence(scenario, progress, [piece.ruled for piece in pieces], applied, lang, turn, lines)
    if not applied and small_talk is not None and not offended:
        applied.append(small_talk)
        revealed += _apply(scenario, progress, small_talk, lang, lines)
    if not applied and not offended:
        again = asked_again(scenario, progress, reading)
        if again is not None:
            fact = next(f for f in scenario.facts if f.id == again.reveal[0])
            asked = scenario.asked_already or copy_text().customer_asked_already
            lines += [in_turn(asked, lang, turn, scenario.id, "asked"), pick(fact.reply, lang, scenario.id, turn, fact.id)]
            applied.append(again)
    progress.unheard = 0 if applied or offended else progress.unheard + 1
    progress.puzzled += 0 if applied or offended else 1
    if not applied and not offended and state.unmatched_trigger:
        progress.state = destination(scenario, progress.state, state.unmatched_trigger)
    elif (
        not applied
        and not offended
        and state.moves_on
        and (progress.unheard >= state.moves_on.after or heard_once_on(scenario, progress, state.moves_on, reading))
    ):
        lines.append(in_turn(state.moves_on.say, lang, turn, scenario.id, "moves_on"))
        progress.unheard = 0
        if state.moves_on.trigger:
            progress.state = destination(scenario, progress.state, state.moves_on.trigger)
            onward = find_move(scenario, progress, reading)
            if onward is not None and substantive(onward):
                applied.append(onward)
                revealed += _apply(scenario, progress, onward, lang, lines)
    if not lines:
        lines.append(vague)
    left = False
    if outcome_of(scenario, progress.state) is None and progress.strikes + progress.puzzled // scenario.puzzled_per_strike >= scenario.patience:
        progress.state = destination(scenario, progress.state, LEAVE)
        left = True
    ids = tuple(move.id for move in applied)
    return Response(ids[0] if ids else None, ids, tuple(dict.fromkeys(lines)), tuple(revealed), left, outcome_of(scenario, progress.state))


def heard_once_on(scenario: Scenario, progress: Progress, moves_on: MovesOn, reading: Reading) -> bool:
    """True for a discovery question (a question with a SPIN type) the customer would answer once
    she has moved the talk on, and that is no mistake there: asked about herself instead of
    being sold to, she gives the rep the hearing at once rather than after `after` turns."""
    verdict = reading.verdict
    if moves_on.trigger is None or not verdict.is_question or verdict.spin == "none":
        return False
    ahead = replace(progress, state=destination(scenario, progress.state, moves_on.trigger), marks=dict(progress.marks))
    move = find_move(scenario, ahead, reading)
    return move is not None and substantive(move) and not costs(scenario, move) and ending(scenario, ahead.state, move) is None


def sentence_verdicts(text: str, verdict: Classification) -> list[tuple[str, Classification]]:
    """Each sentence of a message with its own verdict (the classifier's, when it kept them)."""
    if verdict.parts:
        return [(part.text, part) for part in verdict.parts]
    parts = sentences(normalise(text))
    return [(text, verdict)] if len(parts) <= 1 else [(part, classify(part)) for part in parts]


def asked_again(scenario: Scenario, progress: Progress, reading: Reading) -> Move | None:
    """A move that would reveal what the customer has already told, asked again: she says so and repeats it.

    Only the questions of a message count: a rep who sums up what she said before asking
    something new ("So social insurance and an old accident plan. Is that enough?") listened,
    and is not asking again."""
    pieces = reading.pieces
    if len(pieces) > 1:
        asked = [piece for piece in pieces if piece.verdict.is_question]
        return next((move for piece in asked if (move := asked_again(scenario, progress, piece))), None)
    for move in scenario.moves:
        told = [name for name in move.unless if name in move.reveal and progress.knows(name)]
        if not move.reveal or not told or any(progress.knows(name) for name in move.unless if name not in told):
            continue
        if in_place(move, progress) and any(_matches(m, reading.words, reading.verdict) for m in move.match):
            return move
    return None


def _take_offence(scenario: Scenario, progress: Progress, ruled: list[str | None], applied: list[Move], lang: str, turn: int, lines: list[str]) -> bool:
    """Bad conduct named by an act rule in some sentence (`ruled`: a cue in acts.yaml, not a guess)
    that no move of the scenario reacted to: the customer takes it badly, first of all, in the words of
    scoring/default.yaml, and loses goodwill (each point a strike). True if she did."""
    if any(move.goodwill < 0 for move in applied):
        return False
    rules = scenario.rules.conduct
    kinds = dict.fromkeys(act for act in ruled if act in rules and rules[act].goodwill < 0)
    for kind in kinds:
        rule = rules[kind]
        progress.goodwill += rule.goodwill
        progress.strikes -= rule.goodwill
        if rule.say:
            lines.insert(0, in_turn(rule.say, lang, turn, scenario.id, kind))
    return bool(kinds)


def _apply_each_sentence(
    scenario: Scenario,
    progress: Progress,
    main: Move,
    reading: Reading,
    others: list[Move | None],
    lang: str,
    lines: list[str],
    applied: list[Move],
    revealed: list[str],
) -> Upsell | None:
    """A message that is no mistake, sentence by sentence in the order written: the main move where
    its sentence stands (first, when no single sentence holds it), and every other sentence that
    counts as a move of its own, read once the ones before have taken effect. Such a sentence may
    not cost anything nor be bad conduct (an intrusive question is no discovery question), and
    may end the talk only if it is the last and ends it well. Returns an add-on offered without
    a reason, if one was (it is not taken)."""
    place = next((number for number, before in enumerate(others) if before is main), -1)
    cold = None
    pieces = reading.pieces
    for number, piece in enumerate(pieces):
        if number == place or (place == -1 and number == 0):
            applied.append(main)
            revealed += _apply(scenario, progress, main, lang, lines)
        if outcome_of(scenario, progress.state) is not None:
            return None
        if number == place or piece.ruled in scenario.rules.conduct:
            continue
        move = find_move(scenario, progress, piece, guess_ends=False)
        last = number == len(pieces) - 1
        if (
            move is not None
            and substantive(move)
            and not costs(scenario, move)
            and move not in applied
            and (ending(scenario, progress.state, move) is None or (last and closes(scenario, progress.state, move)))
        ):
            if (unreasoned := cold_upsell(scenario, move, reading.words)) is not None:
                cold = unreasoned
                continue
            applied.append(move)
            revealed += _apply(scenario, progress, move, lang, lines)
    return cold


def _apply(scenario: Scenario, progress: Progress, move: Move, lang: str, lines: list[str]) -> list[str]:
    """Apply one move: its line, the facts it reveals (with the customer's words), flags, goodwill, trigger."""
    revealed = []
    if move.say:
        lines.append(pick(move.say, lang, scenario.id, progress.turn, move.id))
    facts = {f.id: f for f in scenario.facts}
    for fact_id in move.reveal:
        if progress.mark(fact_id):
            revealed.append(fact_id)
            lines.append(pick(facts[fact_id].reply, lang, scenario.id, progress.turn, fact_id))
    for flag in move.flags:
        progress.mark(flag)
    progress.goodwill += move.goodwill
    if move.goodwill < 0:
        progress.strikes -= move.goodwill
    if move.trigger:
        progress.state = destination(scenario, progress.state, move.trigger)
    return revealed


def opening_line(scenario: Scenario, lang: str, attempt: int) -> str:
    """How the customer opens; varies from one attempt to the next."""
    return scenario.opening[attempt % len(scenario.opening)].get(lang)
