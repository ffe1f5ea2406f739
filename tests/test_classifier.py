"""Tests for dialogs/classifier.py: examples per rule family, robustness, accuracy floors, rule loading."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from dialogs.understanding.classifier import (
    RULES_DIR,
    Classification,
    RuleError,
    classify,
    load_rules,
    normalise,
)
from dialogs.understanding.evaluation import evaluate, load_labelled

DATA = Path(__file__).resolve().parent / "data"
EXAMPLES = Path(__file__).resolve().parent.parent / "knowledge" / "understanding" / "examples"
CUE = re.compile(r"^[a-z_]+:[a-z0-9_]+(\(.+\))?$")


def verdict(text: str) -> tuple[str, bool, str, str]:
    """The four labels of an utterance, for compact assertions."""
    result = classify(text)
    return result.lang, result.is_question, result.form, result.spin


def cues_of(text: str) -> str:
    """All cues joined into one string, to assert that a rule and its matched word are named."""
    return " ".join(classify(text).cues)


# ------------------------------------------------------------------ questions vs statements


@pytest.mark.parametrize("text", ["我们的李子又大又甜", "Hello!", "Our product is the best", "欢迎光临！", "We offer free installation this month."])
def test_statements_greetings_and_pitches_are_not_questions(text: str) -> None:
    assert verdict(text)[1:] == (False, "none", "none")


def test_question_word_used_as_anything_is_a_statement() -> None:
    assert verdict("有什么问题随时联系我。")[1] is False
    assert "statement:indefinite_question_word(随时)" in cues_of("有什么问题随时联系我。")


def test_question_without_question_mark_is_recognised() -> None:
    assert verdict("你们仓库现在有几台叉车") == ("zh", True, "open", "situation")
    assert verdict("Tell me about your delivery process.") == ("en", True, "open", "situation")


def test_exclamative_what_is_not_a_question() -> None:
    assert verdict("What a lovely office!")[1] is False


# ------------------------------------------------------------------ closed questions


def test_choice_question_haishi_is_closed_and_names_haishi() -> None:
    result = classify("酸的还是甜的?")
    assert (result.is_question, result.form) == (True, "closed")
    assert any("还是" in cue and cue.startswith("closed:") for cue in result.cues)


@pytest.mark.parametrize(
    "text, word",
    [
        ("您们有没有自己的仓库？", "有没有"),
        ("这个价格是不是超出预算了？", "是不是"),
        ("能不能每周送两次？", "能不能"),
        ("吃饭了吗？", "吗"),
    ],
)
def test_chinese_yes_no_forms_are_closed(text: str, word: str) -> None:
    assert verdict(text)[2] == "closed"
    assert word in cues_of(text)


@pytest.mark.parametrize(
    "text",
    [
        "Do you use a CRM today?",
        "Is it a monthly or an annual plan?",
        "You're on the 100M plan, right?",
        "If we delivered every morning before you open, would that help your stall?",
    ],
)
def test_english_yes_no_and_choice_questions_are_closed(text: str) -> None:
    assert verdict(text)[2] == "closed"


def test_ma_beats_an_indefinite_question_word() -> None:
    result = classify("有什么让您不满意的吗？")
    assert (result.form, result.spin) == ("closed", "problem")
    assert "closed:ends_with_ma(吗)" in result.cues


# ------------------------------------------------------------------ open questions


@pytest.mark.parametrize(
    "text",
    [
        "您平时几点开门？",
        "为什么选了现在这家供应商？",
        "你们是如何安排配送路线的？",
        "你们的宽带每个月多少钱？",
        "How many employees do you have?",
        "Why did you switch carriers last year?",
        "Could you describe your current setup?",
    ],
)
def test_wh_questions_and_describe_requests_are_open(text: str) -> None:
    assert verdict(text)[2] == "open"


@pytest.mark.parametrize(
    "text, spin",
    [
        ("How much does the premium plan cost per month?", "situation"),
        ("What does the slow network cost you each month?", "implication"),
        ("现在查发票信息方便吗？", "problem"),
        ("要是能在手机上查，会不会更方便？", "need_payoff"),
        ("Mind if I bring the contract round tomorrow?", "none"),
        ("When the van breaks down, what happens to the day's deliveries?", "implication"),
        ("Walk me through what happens after a booking comes in.", "situation"),
    ],
)
def test_price_versus_cost_convenience_and_the_reps_own_if(text: str, spin: str) -> None:
    assert verdict(text)[3] == spin


def test_polite_describe_request_is_open_despite_ma() -> None:
    assert verdict("能介绍一下你们的采购流程吗？")[2] == "open"
    assert "open:describe_request_open(能介绍)" in cues_of("能介绍一下你们的采购流程吗？")


# ------------------------------------------------------------------ SPIN types


@pytest.mark.parametrize(
    "text, spin",
    [
        ("您家的宽带是多少兆的？", "situation"),
        ("How many employees do you have?", "situation"),
        ("您对现在的快递服务满意吗？", "problem"),
        ("Are you satisfied with your current supplier?", "problem"),
        ("这个问题会带来什么影响？", "implication"),
        ("What would it mean for your team if deliveries were late every week?", "implication"),
        ("如果能解决这个问题，对您有什么帮助？", "need_payoff"),
        ("Would it be useful to have a single bill for all lines?", "need_payoff"),
    ],
)
def test_spin_types(text: str, spin: str) -> None:
    assert verdict(text)[3] == spin


def test_implication_cue_names_the_word() -> None:
    assert "implication:consequence(影响)" in cues_of("这个问题会带来什么影响？")


def test_chit_chat_question_is_a_question_with_spin_none() -> None:
    assert verdict("吃饭了吗？") == ("zh", True, "closed", "none")
    assert verdict("How are you doing today?") == ("en", True, "open", "none")


def test_problem_in_the_premise_does_not_make_a_problem_question() -> None:
    assert verdict("If gloves run out mid-shift, do procedures get postponed?")[3] == "implication"


def test_question_without_spin_cue_is_decided_by_the_learned_layer_which_names_its_words() -> None:
    result = classify("Do you already have a 企业微信 account?")
    assert (result.lang, result.spin) == ("en", "situation")
    assert any(cue.startswith("situation:model(") and "do_you" in cue for cue in result.cues), result.cues


def test_without_a_sure_model_the_default_spin_applies_and_says_so(rules_copy: Path) -> None:
    for name in ("zh.yaml", "en.yaml"):
        path = rules_copy / name
        path.write_text(path.read_text(encoding="utf-8").replace("model_confidence: 0.7", "model_confidence: 1.0"), encoding="utf-8")
    result = classify("Do you already have a 企业微信 account?", rules=load_rules(rules_copy))
    assert result.spin == "situation" and "situation:default_spin" in result.cues


def test_a_greeting_or_thanks_in_front_does_not_change_the_verdict() -> None:
    for question in ("What sort of plums are you looking for?", "您要什么样的李子？", "What happens when the truck is late?"):
        plain = verdict(question)
        for lead in ("Good morning! ", "Thanks. ", "您好！", "谢谢。"):
            assert verdict(lead + question)[1:] == plain[1:], lead + question


# ------------------------------------------------------------------ normalisation and robustness


def test_traditional_chinese_is_classified_like_simplified() -> None:
    traditional, simplified = classify("這個問題會帶來什麼影響？"), classify("这个问题会带来什么影响？")
    assert traditional.as_dict() | {"text": ""} == simplified.as_dict() | {"text": ""}


def test_full_width_and_half_width_question_marks_are_equivalent() -> None:
    assert verdict("你们用什么系统？") == verdict("你们用什么系统?") == ("zh", True, "open", "situation")
    assert verdict("Are you happy with your current provider？") == ("en", True, "closed", "problem")


def test_trailing_spaces_emoji_and_zero_width_characters_are_ignored() -> None:
    assert verdict("\u200b吃饭了吗\u200b？  ") == verdict("吃饭了吗？")
    assert verdict("您对现在的网速满意吗？😊 ") == ("zh", True, "closed", "problem")


@pytest.mark.parametrize("text", ["", "   ", "😀👍🏽🎉", "\u200b\ufeff", "???", "a" * 10_000, "什么" * 5_000, "if " * 3_400])
def test_degenerate_inputs_do_not_crash(text: str) -> None:
    result = classify(text)
    assert isinstance(result, Classification)
    assert result.lang in {"zh", "en"}


@pytest.mark.parametrize("text", ["", "😀👍🏽🎉", "a" * 10_000])
def test_empty_emoji_and_very_long_non_questions_are_spin_none(text: str) -> None:
    assert verdict(text)[1:] == (False, "none", "none")


def test_mixed_chinese_and_english_uses_the_dominant_script() -> None:
    assert verdict("你们的 CRM 用的是哪个版本？") == ("zh", True, "open", "situation")
    assert verdict("Do you already have a 企业微信 account?")[0] == "en"


def test_result_is_json_ready_and_cues_are_readable() -> None:
    result = classify("酸的还是甜的?")
    data = json.loads(json.dumps(result.as_dict(), ensure_ascii=False))
    assert set(data) == {"text", "lang", "is_question", "form", "spin", "cues", "acts"}
    assert data["cues"] == list(result.cues)
    assert all(CUE.match(cue) for cue in result.cues)


def test_rules_are_compiled_once() -> None:
    assert load_rules() is load_rules()


# ------------------------------------------------------------------ labelled data and accuracy


def test_labelled_data_is_large_balanced_and_disjoint() -> None:
    tune, heldout = load_labelled(EXAMPLES / "utterances.yaml"), load_labelled(DATA / "utterances_heldout.yaml")
    everything = tune + heldout
    assert len(everything) >= 420
    assert not {item.text for item in tune} & {item.text for item in heldout}
    zh_share = sum(item.lang == "zh" for item in everything) / len(everything)
    assert 0.45 <= zh_share <= 0.55
    for spin in ("situation", "problem", "implication", "need_payoff", "none"):
        assert sum(item.spin == spin for item in heldout) >= 30


def test_heldout_accuracy_floors() -> None:
    result = evaluate(load_labelled(DATA / "utterances_heldout.yaml"))
    assert result.spin_accuracy >= 0.88
    assert result.form_accuracy >= 0.93


def test_frozen_sets_are_disjoint_from_everything_tuned_on() -> None:
    """Near-duplicates count: texts are compared after normalising (traditional -> simplified, width, case)."""
    seen = {normalise(item.text) for item in load_labelled(EXAMPLES / "utterances.yaml") + load_labelled(DATA / "utterances_heldout.yaml")}
    for name in ("chat.yaml", "textbook.yaml"):
        frozen = {normalise(item.text) for item in load_labelled(DATA / "frozen" / name)}
        assert len(frozen & seen) == 0, f"{name}: {len(frozen & seen)} items are also in the tuning or held-out data"  # counts only: never print frozen items


# ------------------------------------------------------------------ rule files


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    """A private copy of the packaged rule files that a test may break or extend."""
    for name in ("zh.yaml", "en.yaml"):
        shutil.copy(RULES_DIR / name, tmp_path / name)
    return tmp_path


def edit_rule(directory: Path, file_name: str, rule_id: str, **changes: object) -> None:
    """Apply ``changes`` to one rule of a rules file copy."""
    yaml = YAML(typ="safe")
    path = directory / file_name
    data = yaml.load(path.read_text(encoding="utf-8"))
    rule = next(rule for rule in data["rules"] if rule["id"] == rule_id)
    rule.update(changes)
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)


def test_unknown_key_names_the_file_and_the_rule(rules_copy: Path) -> None:
    edit_rule(rules_copy, "zh.yaml", "ends_with_ma", pattens=["吗$"])
    with pytest.raises(RuleError, match=r"zh\.yaml.*'ends_with_ma'.*pattens"):
        load_rules(rules_copy)


def test_bad_regex_names_the_file_and_the_rule(rules_copy: Path) -> None:
    edit_rule(rules_copy, "en.yaml", "tag_question", patterns=["(right\\?"])
    with pytest.raises(RuleError, match=r"en\.yaml.*'tag_question'.*does not compile"):
        load_rules(rules_copy)


def test_duplicate_rule_id_is_rejected(rules_copy: Path) -> None:
    edit_rule(rules_copy, "zh.yaml", "exclamation", id="full_stop")
    with pytest.raises(RuleError, match=r"zh\.yaml.*'full_stop'.*duplicate"):
        load_rules(rules_copy)


def test_missing_rules_file_is_reported(rules_copy: Path) -> None:
    (rules_copy / "en.yaml").unlink()
    with pytest.raises(RuleError, match=r"en\.yaml.*not found"):
        load_rules(rules_copy)


def test_adding_a_word_to_a_lexicon_changes_the_verdict(rules_copy: Path) -> None:
    text = "您家狗狗叫什么名字？"
    assert classify(text).spin == "situation"
    yaml = YAML(typ="safe")
    data = yaml.load((rules_copy / "zh.yaml").read_text(encoding="utf-8"))
    small_talk = next(rule for rule in data["rules"] if rule["id"] == "small_talk")
    edit_rule(rules_copy, "zh.yaml", "small_talk", words=[*small_talk["words"], "狗狗"])
    result = classify(text, rules=load_rules(rules_copy))
    assert result.spin == "none"
    assert "none:small_talk(狗狗)" in result.cues
