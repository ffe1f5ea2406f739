"""Cues match whole words: the rep says X, the customer hears words, not letters inside other words."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from dialogs.roleplay.customer import Progress, Reading, find_move, respond
from dialogs.understanding import learned
from dialogs.understanding.classifier import classify, normalise
from dialogs.understanding.evaluation import load_labelled
from dialogs.understanding.tokens import CueSet, compile_cue, cue_form, words_of
from knowledge.validate import cached_knowledge

EXAMPLES = Path(__file__).resolve().parent.parent / "knowledge" / "understanding" / "examples"
PLUM = cached_knowledge().scenarios["plum"]
ENGLISH_CUES = sorted(
    {
        c
        for sc in cached_knowledge().scenarios.values()
        for m in sc.moves
        for mm in m.match
        for cues in (mm.cues, mm.also)
        if cues
        for c in cues.en
        if not c.endswith("*")
    }
)


def move_in(state: str, text: str, *known: str) -> str | None:
    progress = Progress(state=state, marks=dict.fromkeys(known, 0))
    move = find_move(PLUM, progress, Reading(PLUM, text, classify(text)))
    return move.id if move else None


def test_who_inside_whole_does_not_ask_who_the_plums_are_for() -> None:
    """'Shall I weigh you a whole bag?' is an offer to sell, not a question about who they are for."""
    assert move_in("discovery", "Shall I weigh you a whole bag?", "wants_sour") == "sell_plums"


def test_a_word_matches_its_other_forms() -> None:
    """'worries' matches the cue 'worry'; 'sweetest' the cue 'sweet'; 'useful' is not 'used'."""
    assert compile_cue("worry").found_in(words_of("any worries about the price?"))
    assert compile_cue("sweet").found_in(words_of("the sweetest plums in town"))
    assert not compile_cue("useful").found_in(words_of("what are they used for?"))


def test_a_star_matches_word_beginnings_only_where_asked() -> None:
    assert compile_cue("congrat*").found_in(words_of("congratulations, granny!"))
    assert not compile_cue("congrat").found_in(words_of("congratulations, granny!"))


@settings(max_examples=200, deadline=None)
@given(
    cue=st.sampled_from(ENGLISH_CUES),
    before=st.text("bcdfghjklmnpqrstvwxz", min_size=2, max_size=4),
    after=st.text("bcdfghjklmnpqrstvwxz", min_size=2, max_size=4),
)
def test_no_cue_fires_inside_another_word(cue: str, before: str, after: str) -> None:
    """A scenario's English cue glued inside a longer made-up word never matches."""
    text = normalise(f"well {before}{cue}{after} then")
    assert not compile_cue(normalise(cue)).found_in(words_of(text))


SCENARIO_CUES = sorted(
    {
        cue_form(c)
        for sc in cached_knowledge().scenarios.values()
        for m in sc.moves
        for mm in m.match
        for cues in (mm.cues, mm.also)
        if cues
        for c in (*cues.zh, *cues.en)
    }
)
CUE_WORDS = sorted({word for cue in SCENARIO_CUES for word in cue.rstrip("*").split()})


@settings(max_examples=300, deadline=None)
@given(cues=st.lists(st.sampled_from(SCENARIO_CUES), min_size=1, max_size=40), data=st.data())
def test_a_set_of_cues_hears_what_its_cues_hear_one_by_one(cues: list[str], data: st.DataObject) -> None:
    """The rep says a run of cue words (maybe one of the move's cues first, then its words in any
    order and others): the move's set of cues holds (and begins) the line exactly when one of its
    cues, checked alone, does, however the set indexes them."""
    own = sorted({word for cue in cues for word in cue.rstrip("*").split()})
    opening = data.draw(st.lists(st.sampled_from(cues), max_size=1))
    said = data.draw(st.lists(st.sampled_from(own) | st.sampled_from(CUE_WORDS), max_size=8))
    words = words_of(normalise(" ".join([cue.rstrip("*") for cue in opening] + said)))
    compiled = tuple(compile_cue(cue) for cue in cues)
    assert CueSet(compiled).found_in(words) == any(cue.found_in(words) for cue in compiled)
    assert CueSet(compiled).starts(words) == any(cue.starts(words) for cue in compiled)


def test_a_greeting_with_a_nice_word_is_not_a_pitch() -> None:
    """'Morning granny! Lovely day' greets her; she does not walk off as from the first vendor."""
    for line in ("Morning granny! Lovely day", "That's lovely news", "阿姨早！今天天气真好"):
        assert move_in("opening", line) != "pitch_first", line
    assert move_in("opening", "My plums are big and sweet!") == "pitch_first"


def test_a_discovery_question_never_completes_a_sale() -> None:
    """Asking why she wants sour ones, or how the pregnancy is going, sells nothing by itself."""
    assert move_in("discovery", "酸的拿来做什么呀？", "wants_sour") == "ask_why"
    assert move_in("need_known", "几个月了？胃口怎么样？", "wants_sour", "dil_pregnant") not in ("sell_plums", "offer_kiwi_with_plums")
    assert move_in("discovery", "Would you like me to weigh you a jin of these sour ones?", "wants_sour") == "sell_plums"


def test_each_sentence_gets_its_speech_act() -> None:
    """A reworded kickback is an improper offer; a greeting in front of a question is a greeting."""
    assert classify("每进一箱我单独返您两百，不走账").act == "improper_offer"
    assert classify("Good morning! What sort of plums are you looking for?").acts == ("greeting", "question")
    assert classify("Look, old woman, are you buying or not?").act == "rude"


QUESTIONS = [item.text for item in load_labelled(EXAMPLES / "utterances.yaml") if item.is_question]
LEAD_INS = ["Hi! ", "Good morning! ", "Thanks. ", "Thank you! ", "Hello there. ", "您好！", "谢谢。", "早上好！", "阿姨好！", "明白了，谢谢。"]


@settings(max_examples=300, deadline=None)
@given(question=st.sampled_from(QUESTIONS), lead=st.sampled_from(LEAD_INS))
def test_a_greeting_or_thanks_in_front_never_changes_the_verdict(question: str, lead: str) -> None:
    """The main ask is the last question: what comes before it does not change its form or SPIN type."""
    plain, led = classify(question), classify(lead + question)
    assert (led.is_question, led.form, led.spin) == (plain.is_question, plain.form, plain.spin)


def test_a_chinese_cue_never_matches_inside_a_longer_word() -> None:
    """称 (weigh) is not in 称呼 (to call someone); 甜 (sweet) is not in 甜蜜 (happy)."""
    assert not compile_cue("称").found_in(words_of("请问怎么称呼您"))
    assert compile_cue("称").found_in(words_of("给您称一斤"))
    assert not compile_cue("甜").found_in(words_of("祝您生活甜蜜"))
    assert move_in("discovery", "请问怎么称呼您？", "wants_sour") != "sell_plums"


def test_a_customer_not_understood_twice_moves_the_talk_along() -> None:
    """The insurance customer who keeps asking how you differ gives a patient rep a hearing on the second miss, and answers the question."""
    from dialogs.understanding.classifier import classify as read

    insurance = cached_knowledge().scenarios["insurance_call"]
    progress = Progress(state=insurance.initial)
    first = respond(insurance, progress, "Hmm, let me think how to put this", read("Hmm, let me think how to put this"), "en")
    assert progress.state == "opening" and progress.unheard == 1 and first.move is None
    line = "And for yourself, what kind of insurance do you have at the moment?"
    second = respond(insurance, progress, line, read(line), "en")
    assert progress.state != "opening" and progress.unheard == 0
    assert second.lines[0] in [t.en for t in insurance.states[0].moves_on.say] and len(second.lines) > 1


def test_the_customer_never_says_the_same_vague_line_twice_running() -> None:
    """Three lines she cannot make sense of get three answers, no two in a row alike."""
    progress = Progress(state="opening")
    said = [respond(PLUM, progress, line, classify(line), "en").lines for line in ("Hmm.", "Well, well.", "Right then.")]
    assert said[0] != said[1] and said[1] != said[2]


def test_asked_again_she_says_so_and_repeats_herself() -> None:
    """Asked a second time what kind she wants, the old lady says she told you already, and tells you again."""
    progress = Progress(state="opening")
    respond(PLUM, progress, "What kind of plums would you like?", classify("What kind of plums would you like?"), "en")
    again = respond(PLUM, progress, "So which kind do you want?", classify("So which kind do you want?"), "en")
    assert again.lines[0] in ("You asked me that already.", "I just told you, didn't I?", "I said so a moment ago.", "Again? All right.")
    assert "sour" in again.lines[1].lower() and progress.unheard == 0


def test_the_issue_examples_read_as_a_trainer_would() -> None:
    """为啥要酸的 without a question mark asks why; an instruction is no question; a leading question is named."""
    assert (classify("为啥要酸的").is_question, classify("为啥要酸的").form) == (True, "open")
    assert not classify("Don't squeeze them, you'll bruise them.").is_question
    assert classify("Don't you think that's slow?").is_question
    assert classify("you'd agree we're the best, right?").act == "leading"


def test_penalties_stack_but_a_contrast_inside_a_good_question_costs_nothing() -> None:
    """'Sour ones aren't nice; the sweet ones I'll do you cheap' costs twice; 'most want sweet, why sour?' costs nothing."""
    progress = Progress(state="discovery", marks={"wants_sour": 0})
    line = "酸的不好吃。甜的给您便宜点。"
    reply = respond(PLUM, progress, line, classify(line), "zh")
    assert {"suggest_sweet", "price_push"} <= set(reply.moves) and progress.strikes >= 2
    progress = Progress(state="discovery", marks={"wants_sour": 0})
    line = "Most people want big sweet plums. Why do you want sour ones?"
    reply = respond(PLUM, progress, line, classify(line), "en")
    assert reply.moves == ("ask_why",) and progress.strikes == 0


def test_an_improper_offer_however_worded_ends_a_b2b_roleplay_with_a_refusal() -> None:
    """A reworded kickback to the hotel buyer, or to Director Li, is refused and the talk ends there."""
    for scenario_id, lang, lines in (
        ("liquor_hotel", "zh", ["张经理好，想先了解一下您平时怎么选酒？", "每进一箱我单独返您两百，不走账"]),
        (
            "telecom_group",
            "en",
            ["Director Li, may I ask a few questions first?", "Sign with us and there'll be a little something in it for you, off the books."],
        ),
    ):
        scenario = cached_knowledge().scenarios[scenario_id]
        progress = Progress(state=scenario.initial)
        replies = [respond(scenario, progress, line, classify(line), lang) for line in lines]
        assert replies[-1].move == "improper_offer" and replies[-1].outcome == "refused", scenario_id
        assert progress.knows("improper_offer")


def test_a_move_model_is_trained_once_and_again_only_when_its_examples_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A start with unchanged examples loads the cached weights; a trainer's new example retrains."""
    monkeypatch.setenv("SALESCOACH_CACHE_DIR", str(tmp_path))
    trained: list[int] = []
    real_train = learned.train

    def counting(texts: list[str], labels: list[str]) -> learned.LinearModel:
        trained.append(len(texts))
        return real_train(texts, labels)

    monkeypatch.setattr(learned, "train", counting)
    pairs = [("ask_why", "Why do you want sour ones?"), ("ask_why", "为什么要酸的？"), ("sell", "Shall I weigh you a jin?"), ("sell", "给您称一斤？")]
    first = learned.examples_model("moves-test", pairs)
    again = learned.examples_model("moves-test", pairs)
    assert trained == [4] and again.classes == first.classes == ("ask_why", "sell")
    assert again.scores(learned.text_features("why sour?"))["ask_why"] > 0.5
    learned.examples_model("moves-test", [*pairs, ("sell", "Two jin of the sour ones?")])
    assert trained == [4, 5] and len(list(tmp_path.glob("moves-test-*.npz"))) == 2


TIED = """
import numpy as np
from dialogs.understanding.learned import LinearModel
names = [f"w:{w}" for w in ("plum", "sour", "kiwi", "buy", "why", "who")]
model = LinearModel(("situation", "problem"), {n: i for i, n in enumerate(names)}, np.array([[1.0] * 6, [0.0] * 6]), np.zeros(2))
print(model.heaviest(names, "situation"))
"""


def test_the_learned_layer_names_the_same_cues_in_every_process() -> None:
    """N-grams of equal weight (always seen together in training) used to be named in the order a
    set gave them, which changes with each process's PYTHONHASHSEED: one verdict, two cue texts."""
    named = {
        subprocess.run([sys.executable, "-c", TIED], capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout
        for seed in range(4)
    }
    assert named == {"['buy', 'kiwi', 'plum']\n"}
