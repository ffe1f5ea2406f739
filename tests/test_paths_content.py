"""Learning paths as content: the shipped paths validate, and a trainer's mistakes in a path file
come out as file:line, with the step numbered as the trainer counts it."""

from __future__ import annotations

from pathlib import Path

from knowledge.loader import Knowledge
from knowledge.validate import run, validate

BROKEN = """id: broken_path
title: {zh: 坏路径, en: Broken path}
description: {zh: 说明, en: About it}
certificate: {zh: 证书, en: Certificate}
steps:
  - lesson: spin_overview
  - quiz: spin_basics
    score: 80
  - drill: fruit_retail
    min_right: 9
  - roleplay: nowhere
    score: 70
  - roleplay: mop
"""


def test_the_shipped_paths_are_spin_basics_and_the_plum_case_to_b2b(knowledge: Knowledge) -> None:
    spin, plum = knowledge.paths["spin_basics"], knowledge.paths["plum_to_b2b"]
    assert (spin.title.en, spin.title.zh) == ("SPIN basics", "SPIN 基础")
    assert [step.kind for step in spin.steps] == ["lesson", "lesson", "drill", "quiz", "roleplay"]
    assert {step.target for step in plum.steps if step.kind == "roleplay"} == set(knowledge.scenarios)


def test_path_mistakes_are_reported_by_file_and_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A quiz step with a role-play's setting, a drill asking more right answers than the script has,
    a scenario that does not exist and a role-play without its score: each named at its line."""
    (tmp_path / "paths").mkdir()
    path = tmp_path / "paths" / "broken_path.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    assert run([str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{path}:7: steps.1: Value error, 'score' belongs to a roleplay step, not a quiz step",
        f"{path}:10: step 3 asks 9 right answers of script 'fruit_retail', which has 8 questions (hint: lower min_right)",
        f"{path}:11: step 4 names roleplay 'nowhere', which does not exist (hint: use one of {sorted(validate()[0].scenarios)})",
        f"{path}:13: steps.4: Value error, a roleplay step needs the 'score' to reach",
        "4 problems found.",
    ]


def test_one_path_file_is_checked_against_the_shipped_content(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`salescoach validate paths/x.yaml` finds the lessons, scripts and quizzes it names among the shipped ones."""
    (tmp_path / "paths").mkdir()
    one = tmp_path / "paths" / "broken_path.yaml"
    one.write_text(BROKEN.replace("roleplay: nowhere", "roleplay: plum"), encoding="utf-8")
    assert run([str(one)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert [line.split(": ", 1)[0] for line in out[:-1]] == [f"{one}:7", f"{one}:10", f"{one}:13"]
