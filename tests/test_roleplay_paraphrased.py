"""Paraphrased role-plays (tests/golden/roleplay_paraphrased/): a poor, a medium and a skilled rep,
three of each per scenario and language, in their own words, replayed through the customer.

They are tuning data (rules and examples may be fitted to them), so these tests hold the ground
gained: better reps always score higher, and every skilled rep reaches one of the scenario's
two best outcomes, in every pair (10 of 12 pairs in session 4; all since the move model,
session 5).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogs.roleplay.replay import PairResult, by_pair, load_scripts, replay_all
from knowledge.validate import cached_knowledge

SCRIPTS = Path(__file__).parent / "golden" / "roleplay_paraphrased"


@pytest.fixture(scope="module")
def pairs() -> list[PairResult]:
    scenarios = cached_knowledge().scenarios
    return by_pair(scenarios, replay_all(scenarios, load_scripts(SCRIPTS)))


def test_every_scenario_and_language_is_played(pairs: list[PairResult]) -> None:
    assert {(p.scenario, p.lang) for p in pairs} == {(s, lang) for s in cached_knowledge().scenarios for lang in ("zh", "en")}


def test_a_better_rep_always_scores_higher(pairs: list[PairResult]) -> None:
    assert [(p.scenario, p.lang, p.mean_score) for p in pairs if not p.rising] == []


def test_every_skilled_rep_reaches_a_best_outcome(pairs: list[PairResult]) -> None:
    assert [(p.scenario, p.lang, p.skilled_outcomes) for p in pairs if not p.skilled_best] == []
