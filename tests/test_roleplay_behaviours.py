"""What the role-play customer understands, per scenario and language (tests/golden/behaviours.yaml).

The rep has said the first lines of the scenario's model conversation; then says one more
line, and the customer reacts: to every move in it, never to a greeting as a pitch, never to a
question as a purchase.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from dialogs.roleplay.customer import (
    EXAMPLE_SIMILARITY,
    Progress,
    Response,
    _matches,
    applicable,
    costs,
    end_early_outcome,
    examples_of,
    respond,
)
from dialogs.roleplay.scorecard import score_roleplay
from dialogs.understanding.classifier import classify, normalise
from dialogs.understanding.tokens import words_of
from knowledge.copy import copy_text
from knowledge.schema import Scenario
from knowledge.validate import cached_knowledge

CASES = YAML(typ="safe").load((Path(__file__).parent / "golden" / "behaviours.yaml").read_text(encoding="utf-8"))


def cases(behaviour: str) -> list[Any]:
    return [pytest.param(case, id=f"{case['scenario']}-{case['lang']}") for case in CASES[behaviour]]


def after_model_lines(case: dict[str, Any]) -> tuple[Scenario, Progress]:
    """The customer once the rep has said the first `after` lines of the model conversation."""
    scenario = cached_knowledge().scenarios[case["scenario"]]
    progress = Progress(state=scenario.initial)
    for turn in scenario.model_conversation[: case["after"]]:
        line = turn.rep.get(case["lang"])
        respond(scenario, progress, line, classify(line), case["lang"])
    return scenario, progress


def says(scenario: Scenario, progress: Progress, case: dict[str, Any]) -> Response:
    return respond(scenario, progress, case["rep"], classify(case["rep"]), case["lang"])


def test_every_scenario_and_language_has_each_behaviour() -> None:
    pairs = {(s, lang) for s in cached_knowledge().scenarios for lang in ("zh", "en")}
    for behaviour, listed in CASES.items():
        assert {(case["scenario"], case["lang"]) for case in listed} == pairs, behaviour


@pytest.mark.parametrize("case", cases("several_moves"))
def test_every_move_in_one_message_counts(case: dict[str, Any]) -> None:
    scenario, progress = after_model_lines(case)
    answer = says(scenario, progress, case)
    assert list(answer.moves) == case["moves"], answer


@pytest.mark.parametrize("case", cases("greeting_not_pitch"))
def test_a_greeting_with_a_nice_word_is_not_a_pitch(case: dict[str, Any]) -> None:
    scenario, progress = after_model_lines(case)
    answer = says(scenario, progress, case)
    moves = {move.id: move for move in scenario.moves}
    assert not [name for name in answer.moves if costs(scenario, moves[name])], answer
    assert not answer.left and answer.outcome is None and progress.strikes == 0


@pytest.mark.parametrize("case", cases("question_not_purchase"))
def test_a_question_is_not_a_purchase(case: dict[str, Any]) -> None:
    scenario, progress = after_model_lines(case)
    before = progress.state
    answer = says(scenario, progress, case)
    assert answer.outcome is None and progress.state == before, answer


def test_rudeness_offends_the_customer_and_twice_she_walks_away() -> None:
    """The rep says "Look, old woman, are you buying or not?": she takes it badly before she answers; a second insult and she goes."""
    plum = cached_knowledge().scenarios["plum"]
    progress = Progress(state=plum.initial)
    first = "Look, old woman, are you buying or not?"
    answer = respond(plum, progress, first, classify(first), "en")
    assert answer.lines[0] in {line.en for line in plum.rules.conduct["rude"].say} and progress.strikes == 1 and not answer.left
    second = "You people always touch everything and buy nothing."
    answer = respond(plum, progress, second, classify(second), "en")
    assert answer.left and answer.outcome == "walked_away"


def test_an_intrusive_question_costs_goodwill_even_after_a_good_opening() -> None:
    """刘女士 hears 理解 and then 您一个月挣多少: she answers the first and bristles at the second."""
    insurance = cached_knowledge().scenarios["insurance_call"]
    progress = Progress(state=insurance.initial)
    line = "理解，您肯定接了不少这种电话。冒昧问一句，您一个月挣多少？"
    answer = respond(insurance, progress, line, classify(line), "zh")
    assert answer.moves == ("acknowledge",)
    assert answer.lines[0] in {text.zh for text in insurance.rules.conduct["intrusive"].say}
    assert progress.goodwill == -1 and progress.strikes == 1


def test_a_question_about_herself_gets_a_hearing_at_once() -> None:
    """刘女士 is still waiting to hear how this caller is different; the rep asks about her work
    instead of selling: she gives the hearing there and then, and answers."""
    insurance = cached_knowledge().scenarios["insurance_call"]
    progress = Progress(state=insurance.initial)
    line = "What line of work are you in, if you don't mind me asking?"
    answer = respond(insurance, progress, line, classify(line), "en")
    assert answer.moves == ("ask_work",) and progress.state == "discovery"
    opening = next(state for state in insurance.states if state.id == "opening")
    assert answer.lines[0] in {text.en for text in opening.moves_on.say}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("lang", "line"),
    [("en", "Would Friday morning work for a half-hour chat at your studio?"), ("zh", "下周三上午您在工作室吗？我带份清单过去给您讲讲")],
)
def test_a_line_no_cue_or_single_example_names_still_books_by_meaning(lang: str, line: str) -> None:
    """刘女士 has said what she needs; the rep proposes a meeting in words none of the move's cues
    hold and no single example is close to: the move model, trained on all its examples, books it."""
    scenario, progress = after_model_lines({"scenario": "insurance_call", "lang": lang, "after": 7})
    fits = [move for move in scenario.moves if applicable(move, progress)]
    words = words_of(normalise(line))
    assert not [move.id for move in fits if any(_matches(m, words, classify(line)) for m in move.match)]
    index = examples_of(scenario)
    assert index.best(index.similarities(index.vector(line)), {move.id for move in fits})[0] < EXAMPLE_SIMILARITY
    answer = respond(scenario, progress, line, classify(line), lang)
    assert answer.moves == ("book_meeting",) and progress.state == "booked"


@pytest.mark.parametrize(
    ("scenario_id", "lang", "after", "line", "moves"),
    [
        ("plum", "en", 4, "Kiwi is full of vitamins, great for expecting mums. Shall I add some?", ("offer_kiwi",)),
        ("insurance_call", "zh", 7, "那我们约半小时当面聊，我把您现在的保障和缺口做成一张表带过去。您这周六下午还是周日上午方便？", ("book_meeting",)),
    ],
)
def test_a_deal_just_made_is_not_also_a_goodbye(scenario_id: str, lang: str, after: int, line: str, moves: tuple[str, ...]) -> None:
    """The rep makes the deal and asks one more thing in the same message: the customer takes
    the deal and stays to answer; she does not take the question as leave to hang up."""
    scenario, progress = after_model_lines({"scenario": scenario_id, "lang": lang, "after": after})
    answer = respond(scenario, progress, line, classify(line), lang)
    assert answer.moves == moves and answer.outcome is None


def test_summing_up_her_answer_before_a_new_question_is_not_asking_again() -> None:
    """The rep repeats what she has (listening) and asks something new: she is not told 'you asked me that already'."""
    insurance = cached_knowledge().scenarios["insurance_call"]
    progress = Progress(state="discovery")
    progress.mark("existing_cover")
    line = "OK, so social insurance and an old accident plan. Where would you like to go from here?"
    answer = respond(insurance, progress, line, classify(line), "en")
    asked = insurance.asked_already or copy_text().customer_asked_already
    assert not {text.en for text in asked} & set(answer.lines), answer


def test_conduct_no_move_of_the_scenario_names_still_costs_goodwill() -> None:
    """The plum scenario has no move for an improper offer; the old lady still takes it badly."""
    plum = cached_knowledge().scenarios["plum"]
    progress = Progress(state=plum.initial)
    line = "阿姨，我私下给您包个红包，您多买点。"
    answer = respond(plum, progress, line, classify(line), "zh")
    assert answer.lines[0] in {text.zh for text in plum.rules.conduct["improper_offer"].say}
    assert progress.strikes == 1


def test_a_cold_upsell_earns_nothing_and_a_linked_one_sells() -> None:
    """Once the old lady has said her daughter-in-law is expecting: "Buy some kiwi too." gets
    "what would I want that for?" and no kiwi; kiwi for the baby's vitamins sells."""
    plum = cached_knowledge().scenarios["plum"]
    scenario, progress = after_model_lines({"scenario": "plum", "lang": "en", "after": 4})
    assert progress.state == "sold"
    cold = "Buy some kiwi too."
    answer = says(scenario, progress, {"rep": cold, "lang": "en"})
    assert "offer_kiwi" not in answer.moves and not progress.knows("kiwi_sold")
    assert answer.lines[0] in {text.en for text in copy_text().customer_upsell_why}
    linked = "Kiwi fruit is packed with vitamins, very good for her and the baby. A jin?"
    answer = says(scenario, progress, {"rep": linked, "lang": "en"})
    assert answer.moves == ("offer_kiwi",) and progress.knows("kiwi_sold") and plum.id == scenario.id


def asking_of(scenario: Scenario, lines: list[str], lang: str) -> Any:
    """The question-quality part of the scorecard after the rep says these lines and ends."""
    progress = Progress(state=scenario.initial)
    verdicts, moves = [], []
    for line in lines:
        verdict = classify(line)
        answer = respond(scenario, progress, line, verdict, lang)
        verdicts.append(verdict.as_dict())
        moves.append(answer.move or "")
    return score_roleplay(scenario, progress, end_early_outcome(scenario, progress.state), verdicts, moves, lang).asking


def test_following_up_what_she_said_counts_as_listening() -> None:
    """Two reps ask the old lady as many questions; the one whose questions pick up her answers
    (sour -> why sour; the baby -> how is she eating) asks better than the one who changes the subject."""
    plum = cached_knowledge().scenarios["plum"]
    listener = asking_of(plum, ["What kind would you like?", "Why do you want sour ones?", "How is she eating these days?"], "en")
    assert listener.listening_turns == (2, 3) and listener.picked_up_turns == (2, 3)
    other = asking_of(
        plum, ["What kind would you like?", "Do you live around here?", "Why do you want sour ones?", "Have you been to the new supermarket?"], "en"
    )
    assert other.listening_turns == (2, 4) and other.picked_up_turns == ()
    assert other.quality < listener.quality


def test_not_being_understood_tires_her_slowly_but_is_no_strike() -> None:
    """Gibberish is no strike: the old lady answers vaguely each time, but after four lines she
    did not understand her patience is one strike shorter, and at patience x 4 she goes."""
    plum = cached_knowledge().scenarios["plum"]
    progress = Progress(state=plum.initial)
    for number in range(1, plum.patience * plum.puzzled_per_strike + 1):
        answer = respond(plum, progress, "asdf qwerty", classify("asdf qwerty"), "en")
        assert progress.strikes == 0
        assert answer.left == (number == plum.patience * plum.puzzled_per_strike), number
