"""How far a rep is along each learning path, from what they really did (storage.learning).

Steps are taken in order: a step counts once every step before it is met, so each step unlocks
the next, and something done early (a quiz passed last month) counts when the rep gets there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from knowledge.loader import Knowledge
from knowledge.schema_paths import LearningPath, PathStep
from storage.learning import Evidence


@dataclass(frozen=True)
class PathProgress:
    """One path for one rep: how many steps are done and which one is next (None when all are)."""

    path: LearningPath
    done: int

    @property
    def complete(self) -> bool:
        return self.done == len(self.path.steps)

    @property
    def next_step(self) -> PathStep | None:
        return None if self.complete else self.path.steps[self.done]

    @property
    def percent(self) -> int:
        return round(100 * self.done / len(self.path.steps))


def drill_needs(step: PathStep, knowledge: Knowledge) -> int:
    """Questions at the right stage a drill step asks: its `min_right`, else all but one of the script's."""
    return step.min_right if step.min_right is not None else max(len(knowledge.scripts[step.target].steps) - 1, 1)


def quiz_needs(step: PathStep, knowledge: Knowledge) -> int:
    """The score a quiz step asks: its `mark`, else the quiz's pass mark."""
    return step.mark if step.mark is not None else knowledge.quizzes[step.target].pass_mark


def met(step: PathStep, evidence: Evidence, knowledge: Knowledge) -> bool:
    """True if what the rep did meets this step."""
    if step.kind == "lesson":
        return step.target in evidence.lessons
    if step.kind == "drill":
        return evidence.drills.get(step.target, -1) >= drill_needs(step, knowledge)
    if step.kind == "quiz":
        return evidence.quizzes.get(step.target, -1) >= quiz_needs(step, knowledge)
    return any(
        played.scenario_id == step.target
        and played.score >= (step.score or 0)
        and played.counts.get("implication", 0) >= step.implication
        and played.counts.get("need_payoff", 0) >= step.need_payoff
        for played in evidence.roleplays
    )


def progress_of(path: LearningPath, evidence: Evidence, knowledge: Knowledge) -> PathProgress:
    """The rep's progress on `path`: the steps met in a row from the first."""
    done = 0
    while done < len(path.steps) and met(path.steps[done], evidence, knowledge):
        done += 1
    return PathProgress(path, done)


def all_progress(knowledge: Knowledge, evidence: Evidence) -> list[PathProgress]:
    """Every path in /path order, with the rep's progress."""
    paths = sorted(knowledge.paths.values(), key=lambda p: (p.order, p.id))
    return [progress_of(path, evidence, knowledge) for path in paths]


def step_data(step: PathStep, knowledge: Knowledge, lang: str) -> dict[str, Any]:
    """What a template needs to say a step: its kind, the content's title and the numbers it asks."""
    if step.kind == "lesson":
        title = knowledge.lessons[step.target].title.get(lang)
    elif step.kind == "drill":
        title = knowledge.scripts[step.target].industry.get(lang)
    elif step.kind == "quiz":
        title = knowledge.quizzes[step.target].title.get(lang)
    else:
        title = knowledge.scenarios[step.target].title.get(lang)
    return {
        "kind": step.kind,
        "title": title,
        "min_right": drill_needs(step, knowledge) if step.kind == "drill" else 0,
        "questions": len(knowledge.scripts[step.target].steps) if step.kind == "drill" else 0,
        "mark": quiz_needs(step, knowledge) if step.kind == "quiz" else 0,
        "score": step.score or 0,
        "implication": step.implication,
        "need_payoff": step.need_payoff,
    }
