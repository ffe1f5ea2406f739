"""The knowledge base: shipped content validates, broken content is reported by file and line."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import knowledge.loader
from dialogs.diagrams import mermaid
from dialogs.registry import DIALOGS
from knowledge.loader import CONTENT_DIR, Knowledge, parse
from knowledge.validate import load_knowledge, run, validate
from tests.cli_lines import in_english

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SHIPPED_QUIZZES = Path(__file__).parent.parent / "knowledge" / "content" / "quizzes"


def test_every_shipped_file_validates() -> None:
    _, problems = validate()
    assert problems == []


def test_the_seed_quizzes_are_complete(knowledge: Knowledge) -> None:
    assert len(knowledge.quizzes["quiz_a_phone_need_mining"].questions) == 15
    assert len(knowledge.quizzes["quiz_b_need_oriented_selling"].questions) == 12
    kinds_a = [q.kind for q in knowledge.quizzes["quiz_a_phone_need_mining"].questions]
    assert kinds_a.count("single") == 12 and kinds_a.count("truefalse") == 3


def test_there_are_enough_authored_and_spin_questions(knowledge: Knowledge) -> None:
    seed_quizzes = {"quiz_a_phone_need_mining", "quiz_b_need_oriented_selling"}
    spin = [q for quiz in knowledge.quizzes.values() if quiz.id.startswith("spin") for q in quiz.questions]
    authored = [q for quiz in knowledge.quizzes.values() if quiz.id not in seed_quizzes and not quiz.id.startswith("spin") for q in quiz.questions]
    assert len(spin) >= 20
    assert len(authored) >= 30
    kinds = {q.kind for quiz in knowledge.quizzes.values() for q in quiz.questions}
    assert kinds == {"single", "multiple", "truefalse"}


def test_the_lessons_scripts_scenarios_and_form_exist(knowledge: Knowledge) -> None:
    for lesson in (
        "spin_situation",
        "spin_problem",
        "spin_implication",
        "spin_need_payoff",
        "open_closed_questions",
        "five_question_types",
        "listening",
        "eight_pitfalls",
        "explicit_latent_needs",
        "kano_needs",
    ):
        assert lesson in knowledge.lessons
    for stage in ("spin_situation", "spin_problem", "spin_implication", "spin_need_payoff"):
        lesson = knowledge.lessons[stage]
        assert len(lesson.examples) >= 3 and lesson.mistakes and len(lesson.practice) >= 3
    assert {"fruit_retail", "home_broadband", "b2b_software", "logistics", "insurance", "office_equipment"} <= set(knowledge.scripts)
    assert {"plum", "plum_two_days", "mop", "liquor_hotel", "telecom_group", "insurance_call"} <= set(knowledge.scenarios)
    assert "need" in knowledge.forms


def test_every_customer_has_four_ways_to_say_she_did_not_follow(knowledge: Knowledge) -> None:
    """A customer who is not understood varies her vague answer: four or more per state, in both languages."""
    for scenario in knowledge.scenarios.values():
        vague = [("unmatched", scenario.unmatched)] + [(state.id, state.unmatched) for state in scenario.states if state.unmatched]
        for where, lines in vague:
            for lang in ("zh", "en"):
                assert len({line.get(lang) for line in lines}) >= 4, f"{scenario.id} {where} ({lang})"


def problems_for(path: Path) -> list[str]:
    _, problems = validate([path], authoring=True)
    return [str(p) for p in problems]


def test_broken_content_is_reported_by_file_and_line() -> None:
    found = problems_for(FIXTURES / "broken")
    expected = [
        "lessons/half_translated.yaml:5: summary.en: Field required",
        "quizzes/unknown_key.yaml:10: questions.0.colour: Extra inputs are not permitted",
        "quizzes/bad_answer.yaml:13: answer 'e' of question 'bad01' is not one of its options",
        "quizzes/duplicate_question.yaml:6: question id 'qa01' is used twice",
        "forms/no_choices.yaml:5: choice field 'priority' needs at least two choices",
        "scenarios/locked_fact.yaml:22: fact 'secret' can never be unlocked",
        "scenarios/locked_fact.yaml:33: move 'ask_secret' refers to 'trust', which is neither a fact nor a flag",
        "scenarios/locked_fact.yaml:36: move 'ask_secret' fires unknown trigger 'explode'",
        "scenarios/locked_fact.yaml:34: move 'ask_secret': cue 'secre' has 'secre', which is no whole English word and could only match inside other words (hint: write 'secre*'",
        "scenarios/locked_fact.yaml:33: move 'ask_secret' reveals a fact or moves the customer on but has 0 zh example lines",
        "scenarios/locked_fact.yaml:33: move 'ask_secret' reveals a fact or moves the customer on but has 0 en example lines",
        "scenarios/locked_fact.yaml:13: end state 'walked_away' has no label",
        "scripts/backwards.yaml:13: step 3 goes back from implication to problem",
    ]
    for message in expected:
        assert any(message in line for line in found), (message, found)
    assert len(found) == len(expected)


def test_a_cue_with_a_symbol_matching_skips_is_reported() -> None:
    """A trainer writes the cue "$ off": matching reads words only, so it would fire on any "off" ("signs off")."""
    found = problems_for(FIXTURES / "symbol_cue")
    assert any("symbol_cue.yaml:34: move 'ask_secret': cue '$ off' has '$', which matching skips, so it matches as 'off' alone" in line for line in found), (
        found
    )


def test_a_yaml_syntax_error_names_the_line() -> None:
    [problem] = problems_for(FIXTURES / "syntax")
    assert "quizzes/unclosed.yaml:3: YAML syntax" in problem


def test_valid_content_is_read_without_the_round_trip_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str) -> None:
        raise AssertionError("the round-trip parser is for finding the lines of problems")

    monkeypatch.setattr(knowledge.loader, "_round_trip", refuse)
    _, problems = validate()
    assert problems == []


def _plain(value: object) -> object:
    """Round-trip containers and strings as the built-in types, for comparing."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, str) else value


def test_the_fast_loader_reads_shipped_content_as_the_round_trip_parser_does() -> None:
    for path in sorted(CONTENT_DIR.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert parse(text) == _plain(knowledge.loader._round_trip(text)), path


def test_yes_and_no_stay_words_as_in_yaml_1_2() -> None:
    assert parse("answer: no\nother: yes\nswitch: off\nright: true\nwrong: False\n") == {
        "answer": "no",
        "other": "yes",
        "switch": "off",
        "right": True,
        "wrong": False,
    }


def test_poll_quiz_questions_that_cannot_be_polls_are_warned_about_by_line_and_the_content_still_loads(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "quizzes").mkdir()
    text = (SHIPPED_QUIZZES / "quiz_b_need_oriented_selling.yaml").read_text(encoding="utf-8")
    quiz = tmp_path / "quizzes" / "quiz_b_need_oriented_selling.yaml"
    first_explanation = text.index("explanation:")
    quiz.write_text(
        text[:first_explanation] + "explanation:\n      zh: " + "长" * 201 + "\n      en: short\n" + text[text.index("\n  - id:", first_explanation) :],
        encoding="utf-8",
    )
    line = text[:first_explanation].count("\n") + 1
    assert problems_for(tmp_path) == [], "too long for a poll is no error: the question is asked with buttons"
    assert run([str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert (
        out[0]
        == f"{quiz}:{line}: warning: question 'qb01' is asked with buttons, not as a poll: its explanation (zh) is 201 characters; a poll explanation has at most 200"
    )
    assert len(out) == 2 and out[1].startswith("OK: ") and out[1].endswith("; 1 warning"), "only the paths' warnings, not the shipped quizzes'"


def test_validate_warns_about_each_multi_answer_question_of_a_shipped_poll_quiz(capsys) -> None:  # type: ignore[no-untyped-def]
    assert run([]) == 0
    warned = [line for line in capsys.readouterr().out.splitlines() if ": warning: " in line]
    expected = [(quiz.id, q.id) for quiz in validate()[0].quizzes.values() if quiz.poll for q in quiz.questions if q.kind == "multiple"]
    assert len(warned) == len(expected) > 0
    assert all("several right answers" in line for line in warned)


def test_validate_names_yaml_files_it_did_not_read_as_content(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "quizzes").mkdir()
    shutil.copy(SHIPPED_QUIZZES / "plum_case.yaml", tmp_path / "plum_case.yaml")
    shutil.copy(SHIPPED_QUIZZES / "plum_case.yaml", tmp_path / "quizzes" / "plum_case.yml")
    assert run([str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"{tmp_path / 'plum_case.yaml'}:1: not read as content: only *.yaml files in lessons/, scripts/, quizzes/, scenarios/, forms/, scoring/, paths/ are "
        f"(hint: move it into the folder of its kind, e.g. {tmp_path / 'scenarios' / 'plum_case.yaml'})"
    )
    assert out[1].startswith(f"{tmp_path / 'quizzes' / 'plum_case.yml'}:1: not read as content") and out[2] == "2 problems found."


def test_validate_prints_ok_or_every_problem(capsys) -> None:  # type: ignore[no-untyped-def]
    assert run([]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("OK: ")
    assert run([str(FIXTURES / "broken")]) == 1
    out = capsys.readouterr().out
    assert "13 problems found." in out
    places = [(line.split(":")[0], int(line.split(":")[1])) for line in out.splitlines()[:-1]]
    assert places == sorted(places), "all problems together, in file and line order"


def test_a_company_directory_overrides_shipped_content_by_id(tmp_path: Path) -> None:
    (tmp_path / "quizzes").mkdir()
    source = (SHIPPED_QUIZZES / "plum_case.yaml").read_text(encoding="utf-8")
    (tmp_path / "quizzes" / "plum_case.yaml").write_text(
        source.replace("title:", "title:\n  zh: 公司版李子测验\n  en: Our plum quiz\nold_title:", 1), encoding="utf-8"
    )
    assert any("old_title" in p for p in problems_for(tmp_path))
    shutil.copy(FIXTURES / "broken" / "forms" / "no_choices.yaml", tmp_path / "ignored.yaml")
    (tmp_path / "quizzes" / "plum_case.yaml").write_text(source, encoding="utf-8")
    extra = tmp_path / "quizzes" / "our_quiz.yaml"
    extra.write_text(
        (SHIPPED_QUIZZES / "plum_case.yaml").read_text(encoding="utf-8").replace("id: plum_case", "id: our_quiz").replace("id: pc", "id: ours_pc"),
        encoding="utf-8",
    )
    knowledge = load_knowledge((tmp_path,))
    assert "our_quiz" in knowledge.quizzes and "plum_case" in knowledge.quizzes


def test_the_bot_refuses_to_start_on_invalid_content(tmp_path: Path) -> None:
    env = {**os.environ, "KNOWLEDGE_DIRS": str(FIXTURES / "broken"), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    done = subprocess.run([sys.executable, "-m", "bot", "console"], input="/start\n", capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1
    assert "bad_answer.yaml:13: answer 'e'" in done.stderr
    assert done.stdout == ""
    listed = [line.strip().split(":")[:2] for line in done.stderr.splitlines()[1:]]
    assert len(listed) > 10 and listed == sorted(listed, key=lambda place: (place[0], int(place[1]))), "in file and line order"


def test_graph_draws_a_scenario_machine(tmp_path: Path) -> None:
    out = tmp_path / "plum.mmd"
    done = subprocess.run([sys.executable, "-m", "bot", "graph", "plum", "--out", str(out)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    diagram = out.read_text(encoding="utf-8")
    assert diagram.count("stateDiagram-v2") == 1 and "[*] --> opening" in diagram
    assert 'state "sale: Sold her sour plums" as sale' in diagram and "The old lady buys plums" in diagram
    edges = mermaid_edges(diagram)
    ends = {"walked_away", "sale", "sale_with_upsell", "regular_customer"}
    assert {source for source, dest in edges if dest == "[*]"} == ends
    assert not [(a, b) for a, b in edges if a == b], "no self-loops"
    assert not [(a, b) for a, b in edges if a in ends and b != "[*]"], "nothing leaves an end state"


def test_graph_draws_a_png_picture_with_graphviz(tmp_path: Path) -> None:
    out = tmp_path / "pictures" / "plum.png"
    out.parent.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "graph", "plum", "--format", "png", "--out", str(out)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 500 and height > 100 and len(data) > 10_000


def test_graph_draws_an_svg_picture_with_the_titles(tmp_path: Path) -> None:
    out = tmp_path / "plum.svg"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "graph", "plum", "--format", "svg", "--out", str(out)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    picture = out.read_text(encoding="utf-8")
    assert picture.lstrip().startswith("<?xml") and "<svg" in picture and picture.rstrip().endswith("</svg>")
    assert "sale: Sold her sour plums" in picture


def test_a_picture_without_graphviz_says_what_to_install(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "graph", "plum", "--format", "svg", "--out", str(tmp_path / "plum.svg")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert (
        in_english(done.stderr.strip())
        == "salescoach: drawing a picture needs Graphviz's dot: install it (Debian: apt-get install graphviz) or use --format mermaid"
    )


MERMAID_TITLE = re.compile(r'^title: "([^"\\]|\\.)+"$')
MERMAID_LINE = re.compile(
    r"^(---|stateDiagram-v2|direction (LR|TB)|classDef s_\w+ [\w:,#-]+|"
    r'state "[^"]+" as \w+|Class \w+ s_\w+|(\[\*\]|\w+) --> (\[\*\]|\w+)(: [\w |]+)?|)$'
)


def mermaid_edges(diagram: str) -> list[tuple[str, str]]:
    """The arrows of a Mermaid state diagram, after checking every line against the small grammar
    we emit (front matter with a title, the header, class definitions, states, arrows)."""
    lines = [line.strip() for line in diagram.splitlines()]
    assert lines[0] == "---" and lines[2] == "---" and lines[3] == "stateDiagram-v2"
    assert MERMAID_TITLE.match(lines[1]) and json.loads(lines[1].removeprefix("title: ")), 'front matter is YAML: title: "…"'
    for line in lines[3:]:
        assert MERMAID_LINE.match(line), f"not Mermaid we know: {line!r}"
    return [(a, b) for a, _, b in (line.partition(" --> ") for line in lines if " --> " in line) for b in [b.split(":")[0]]]


def test_every_scenario_and_dialog_draws_as_mermaid_we_know(knowledge: Knowledge) -> None:
    """Titles with quotes in them (the mop customer's Put off: "maybe later") stay inside their state."""
    for name in [*knowledge.scenarios, *DIALOGS]:
        diagram = mermaid(name, knowledge)
        assert diagram is not None
        edges = mermaid_edges(diagram)
        assert ("[*]", DIALOGS[name].initial if name in DIALOGS else knowledge.scenarios[name].initial) in edges, name
    assert 'state "put_off: Put off: “maybe later”" as put_off' in str(mermaid("mop", knowledge))


def test_every_scenario_gets_the_generic_scoring_rules_with_its_own_weights(knowledge: Knowledge, tmp_path: Path) -> None:
    """scoring/default.yaml applies to every scenario; a scenario's `scoring:` changes only what it names."""
    default = knowledge.scoring
    assert default is not None
    assert knowledge.scenarios["mop"].rules == default
    plum = knowledge.scenarios["plum"].rules
    assert plum.questions.weight == 10 and plum.questions.leading == default.questions.leading and plum.conduct == default.conduct
    (tmp_path / "scoring").mkdir()
    company = (CONTENT_DIR / "scoring" / "default.yaml").read_text(encoding="utf-8").replace("    points: 10\n", "    points: 30\n", 1)
    (tmp_path / "scoring" / "default.yaml").write_text(company, encoding="utf-8")
    assert load_knowledge((tmp_path,)).scenarios["mop"].rules.conduct["rude"].points == 30


def test_an_archetype_may_only_need_facts_and_flags_the_scenario_has(tmp_path: Path) -> None:
    (tmp_path / "scenarios").mkdir()
    source = (CONTENT_DIR / "scenarios" / "plum.yaml").read_text(encoding="utf-8")
    (tmp_path / "scenarios" / "plum.yaml").write_text(source.replace("needs: [pitched_first]", "needs: [praised_sweet]", 1), encoding="utf-8")
    assert any("archetype 'vendor_one' needs unknown fact or flag 'praised_sweet'" in p for p in problems_for(tmp_path))


def test_a_structure_error_and_the_cross_checks_come_out_in_one_run(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """The trainer's quiz has a difficulty out of range in its first question and an answer that is
    no option in its second: one run of validate names both, in line order."""
    (tmp_path / "quizzes").mkdir()
    shutil.copy(FIXTURES / "broken" / "quizzes" / "bad_answer.yaml", tmp_path / "quizzes" / "bad_answer.yaml")
    text = (tmp_path / "quizzes" / "bad_answer.yaml").read_text(encoding="utf-8")
    first, second = (
        text.replace("answer: [e]", "answer: [a]").replace("difficulty: 1", "difficulty: 5"),
        text.split("questions:\n")[1].replace("bad01", "bad02"),
    )
    (tmp_path / "quizzes" / "bad_answer.yaml").write_text(first + second, encoding="utf-8")
    assert run([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"{tmp_path / 'quizzes' / 'bad_answer.yaml'}:8: questions.0.difficulty: Input should be less than or equal to 3",
        f"{tmp_path / 'quizzes' / 'bad_answer.yaml'}:22: answer 'e' of question 'bad02' is not one of its options ['a', 'b']",
        "2 problems found.",
    ]
    assert f"```\n{out.replace(str(tmp_path), 'my_content')}```" in (ROOT / "README.md").read_text(encoding="utf-8"), "the README's example"


def test_a_part_with_a_structure_error_is_not_reported_again_where_it_is_named(tmp_path: Path) -> None:
    """A fact whose kind is misspelt is reported once: the moves, rubric and tips that name it do
    not each add an 'unknown fact'."""
    (tmp_path / "scenarios").mkdir()
    source = (CONTENT_DIR / "scenarios" / "plum.yaml").read_text(encoding="utf-8")
    kind = source.index("kind:", source.index("facts:"))
    (tmp_path / "scenarios" / "plum.yaml").write_text(source[:kind] + "kind: hidden" + source[source.index("\n", kind) :], encoding="utf-8")
    [problem] = problems_for(tmp_path)
    assert "plum.yaml:" in problem and ": facts.0.kind: Input should be 'explicit', 'latent' or 'info'" in problem


def test_a_salvaged_file_names_its_own_steps_and_lines(tmp_path: Path) -> None:
    """The script opens with a step that has no purpose, and two later steps go backwards: the step
    numbers and lines are the file's, as the trainer counts them."""
    (tmp_path / "scripts").mkdir()
    source = (FIXTURES / "broken" / "scripts" / "backwards.yaml").read_text(encoding="utf-8")
    no_purpose = "  - stage: situation\n    question: {zh: 几家店？, en: How many shops?}\n    customer_answer: {zh: 三家。, en: Three.}\n"
    (tmp_path / "scripts" / "backwards.yaml").write_text(source.replace("steps:\n", "steps:\n" + no_purpose, 1), encoding="utf-8")
    found = problems_for(tmp_path)
    assert [problem.split("/scripts/")[1] for problem in found] == [
        "backwards.yaml:5: steps.0.purpose: Field required (hint: add this key)",
        "backwards.yaml:16: step 4 goes back from implication to problem (hint: order the steps situation, problem, implication, need_payoff)",
    ]


def test_validate_names_a_path_that_is_not_there(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run([str(tmp_path / "my_content")]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{tmp_path / 'my_content'}:1: no such content folder or file (hint: give a folder laid out like knowledge/content, or one content file)",
        "1 problem found.",
    ]
