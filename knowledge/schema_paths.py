"""The schema of a learning path: an ordered list of steps that ends in a certificate.

A step is exactly one of: read a lesson, pass a drill (a questioning script), pass a quiz with a
mark, or reach a score in a role-play (optionally with a minimum of implication and need-payoff
questions in that role-play). References to other content are checked in ``knowledge.checks``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from knowledge.schema import Ident, Strict, Text

StepKind = Literal["lesson", "drill", "quiz", "roleplay"]
STEP_KINDS: tuple[StepKind, ...] = ("lesson", "drill", "quiz", "roleplay")
_SETTINGS: dict[str, StepKind] = {"min_right": "drill", "mark": "quiz", "score": "roleplay", "implication": "roleplay", "need_payoff": "roleplay"}


class PathStep(Strict):
    """One step of a path; exactly one of `lesson`, `drill`, `quiz` or `roleplay` names its content."""

    lesson: str | None = Field(default=None, description="a lesson id: read it (from /path)")
    drill: str | None = Field(default=None, description="a script id: drill it with at least `min_right` questions at the right stage")
    min_right: int | None = Field(default=None, ge=1, description="drill: questions at the right stage needed (default: all but one)")
    quiz: str | None = Field(default=None, description="a quiz id: a full attempt scoring at least `mark`")
    mark: int | None = Field(default=None, ge=0, le=100, description="quiz: the score needed (default: the quiz's pass mark)")
    roleplay: str | None = Field(default=None, description="a scenario id: a role-play scoring at least `score`")
    score: int | None = Field(default=None, ge=0, le=100, description="role-play: the score needed")
    implication: int = Field(default=0, ge=0, description="role-play: implication questions asked in that same role-play, at least")
    need_payoff: int = Field(default=0, ge=0, description="role-play: need-payoff questions asked in that same role-play, at least")

    @model_validator(mode="after")
    def _one_kind(self) -> PathStep:
        named = [kind for kind in STEP_KINDS if getattr(self, kind) is not None]
        if len(named) != 1:
            raise ValueError(f"a step is exactly one of {', '.join(STEP_KINDS)}; this one names {', '.join(named) or 'none'}")
        for setting, kind in _SETTINGS.items():
            if setting in self.model_fields_set and named[0] != kind:
                raise ValueError(f"'{setting}' belongs to a {kind} step, not a {named[0]} step")
        if self.roleplay is not None and self.score is None:
            raise ValueError("a roleplay step needs the 'score' to reach")
        return self

    @property
    def kind(self) -> StepKind:
        """What the rep does in this step."""
        return next(kind for kind in STEP_KINDS if getattr(self, kind) is not None)

    @property
    def target(self) -> str:
        """The id of the lesson, script, quiz or scenario the step names."""
        return str(getattr(self, self.kind))


class LearningPath(Strict):
    """A path to a certificate: its steps are done in order, each one unlocking the next."""

    id: str = Ident
    order: int = Field(default=100, ge=0, description="place in the /path list, lowest first")
    title: Text
    description: Text
    certificate: Text = Field(description="what the certificate says the rep can do")
    steps: list[PathStep] = Field(min_length=1)
