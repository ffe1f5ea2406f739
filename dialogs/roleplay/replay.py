"""Replaying a rep's lines against a scenario's customer, without a chat: for evaluation and tests.

The same customer and scorecard as the /roleplay dialog, in memory: each line is classified and
played; a conversation that has not ended when the lines run out ends as if the rep typed /end.
`salescoach eval DIR` scores folders of rep-only scripts this way (poor, medium and skilled reps
should come out in that order).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from dialogs.roleplay.customer import Progress, end_early_outcome, respond
from dialogs.roleplay.scorecard import Scorecard, score_roleplay
from dialogs.understanding.classifier import classify
from knowledge.schema import Scenario

LEVELS: tuple[str, ...] = ("poor", "medium", "skilled")
FIELDS: tuple[str, ...] = ("id", "scenario", "lang", "level", "rep")  # every script line has them all


@dataclass(frozen=True)
class Script:
    """A rep-only conversation: who wrote it as what level of rep, and the lines."""

    id: str
    scenario: str
    lang: str
    level: str
    rep: tuple[str, ...]


@dataclass(frozen=True)
class Replayed:
    """How a script went: the outcome, the scorecard, and the customer's lines turn by turn."""

    script: Script
    outcome: str
    card: Scorecard
    customer: tuple[str, ...]


def replay(scenario: Scenario, lines: Sequence[str], lang: str) -> tuple[str, Scorecard, list[str]]:
    """Play `lines` as the rep; the outcome, the scorecard and what the customer said each turn."""
    progress = Progress(state=scenario.initial)
    verdicts: list[dict[str, Any]] = []
    moves: list[str] = []
    said: list[str] = []
    outcome: str | None = None
    for line in lines:
        verdict = classify(line)
        response = respond(scenario, progress, line, verdict, lang)
        verdicts.append(verdict.as_dict())
        moves += response.moves
        said.append("\n".join(response.lines))
        if response.outcome:
            outcome = response.outcome
            break
    outcome = outcome or end_early_outcome(scenario, progress.state)
    return outcome, score_roleplay(scenario, progress, outcome, verdicts, moves, lang), said


class BadScript(ValueError):
    """A script line `load_scripts` cannot use. `key` names the line of knowledge/cli.yaml that tells
    the author what is wrong, `values` fill it in (`where` is always file:line)."""

    def __init__(self, key: str, where: str, **values: str) -> None:
        super().__init__(f"{where}: {key} {values}")
        self.key = key
        self.values = {"where": where, **values}


def load_scripts(folder: Path) -> list[Script]:
    """Every script in the folder's `*.jsonl` files (one JSON object a line: id, scenario, lang,
    level, rep); the first line that is not one raises BadScript, naming the file, the line and the field."""
    scripts = []
    for path in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                scripts.append(_script(line, f"{path}:{number}"))
    return scripts


def _script(line: str, where: str) -> Script:
    """One line of a script file as a Script."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadScript("bad_json", where, problem=exc.msg) from exc
    if not isinstance(raw, dict):
        raise BadScript("script_not_object", where, fields=", ".join(FIELDS))
    missing = [name for name in FIELDS if name not in raw]
    if missing:
        raise BadScript("script_missing", where, field=missing[0], fields=", ".join(FIELDS))
    if raw["level"] not in LEVELS:
        raise BadScript("script_level", where, levels=", ".join(LEVELS))
    if not isinstance(raw["rep"], list) or not all(isinstance(said, str) for said in raw["rep"]):
        raise BadScript("script_rep", where)
    return Script(str(raw["id"]), str(raw["scenario"]), str(raw["lang"]), raw["level"], tuple(raw["rep"]))


def replay_all(scenarios: dict[str, Scenario], scripts: Iterable[Script]) -> list[Replayed]:
    """Replay each script against its scenario."""
    done = []
    for script in scripts:
        outcome, card, said = replay(scenarios[script.scenario], script.rep, script.lang)
        done.append(Replayed(script, outcome, card, tuple(said)))
    return done


@dataclass(frozen=True)
class PairResult:
    """One scenario in one language: the mean score per level and whether the order holds."""

    scenario: str
    lang: str
    mean_score: dict[str, float]
    skilled_outcomes: tuple[str, ...]
    rising: bool
    skilled_best: bool

    @property
    def passed(self) -> bool:
        """Scores rise strictly from poor to medium to skilled, and every skilled rep reaches one of the two best outcomes."""
        return self.rising and self.skilled_best


def best_outcomes(scenario: Scenario, how_many: int = 2) -> tuple[str, ...]:
    """The scenario's best outcomes: its end states are listed from the worst to the best."""
    ends = [s.outcome for s in scenario.states if s.outcome]
    return tuple(ends[-how_many:])


def by_pair(scenarios: dict[str, Scenario], results: Iterable[Replayed]) -> list[PairResult]:
    """Aggregate replayed scripts per scenario and language."""
    groups: dict[tuple[str, str], list[Replayed]] = defaultdict(list)
    for result in results:
        groups[(result.script.scenario, result.script.lang)].append(result)
    pairs = []
    for (scenario_id, lang), group in sorted(groups.items()):
        means = {}
        for level in LEVELS:
            scores = [r.card.score for r in group if r.script.level == level]
            if scores:
                means[level] = sum(scores) / len(scores)
        present = [means[level] for level in LEVELS if level in means]
        rising = len(present) == len(LEVELS) and all(a < b for a, b in pairwise(present))
        skilled = tuple(r.outcome for r in group if r.script.level == "skilled")
        best = best_outcomes(scenarios[scenario_id])
        pairs.append(PairResult(scenario_id, lang, means, skilled, rising, bool(skilled) and all(o in best for o in skilled)))
    return pairs
