"""Pydantic schemas for every kind of coaching content.

A trainer edits YAML; these models say what a valid file looks like. Unknown keys are
errors (``extra="forbid"``) and every user-facing text needs both ``zh`` and ``en``.
Cross-references between parts of one file (facts, flags, states) are checked in
``knowledge.checks``, which turns them into ``file:line`` messages.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
SpinType = Literal["situation", "problem", "implication", "need_payoff", "none"]
Ident = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)


class Strict(BaseModel):
    """Base for content models: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """One user-facing text in both languages."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        """The text in the rep's language (Chinese when the language is unknown)."""
        return self.en if lang == "en" else self.zh


class Section(Strict):
    heading: Text
    body: Text


class Example(Strict):
    text: Text
    note: Text | None = None


class Practice(Strict):
    """A customer situation for which the rep writes a question of the lesson's type."""

    id: str = Ident
    situation: Text
    strong_example: Text


class Lesson(Strict):
    id: str = Ident
    topic: Literal["spin", "questioning", "listening", "needs", "kano", "pitfalls"]
    order: int = Field(ge=0)
    spin_stage: SpinType | None = None
    title: Text
    summary: Text
    sections: list[Section] = Field(min_length=1)
    examples: list[Example] = []
    mistakes: list[Text] = []
    practice: list[Practice] = []


class ScriptStep(Strict):
    stage: Literal["situation", "problem", "implication", "need_payoff"]
    question: Text
    purpose: Text
    customer_answer: Text


class Script(Strict):
    """A SPIN questioning script for one industry, in S -> P -> I -> N order."""

    id: str = Ident
    industry: Text
    customer: Text
    steps: list[ScriptStep] = Field(min_length=4)


class Option(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=12)
    text: Text


class Question(Strict):
    id: str = Ident
    kind: Literal["single", "multiple", "truefalse"]
    difficulty: int = Field(ge=1, le=3)
    tags: list[str] = []
    text: Text
    options: list[Option] = []
    answer: list[str] = Field(min_length=1)
    explanation: Text

    @field_validator("answer", mode="before")
    @classmethod
    def _booleans_as_ids(cls, value: object) -> object:
        """YAML reads `true` as a boolean; true/false answers use the ids "true"/"false"."""
        if isinstance(value, list):
            return [str(v).lower() if isinstance(v, bool) else v for v in value]
        return value

    def option_ids(self) -> list[str]:
        """The ids a rep can pick; a true/false question has the implicit true and false."""
        if self.kind == "truefalse":
            return ["true", "false"]
        return [option.id for option in self.options]


class Quiz(Strict):
    id: str = Ident
    title: Text
    description: Text
    pass_mark: int = Field(ge=0, le=100, description="percent needed to pass")
    poll: bool = Field(default=False, description="may be sent as native Telegram quiz polls")
    tags: list[str] = []
    questions: list[Question] = Field(min_length=1)


Act = Literal[
    "greeting", "empathy", "pitch", "price", "closing", "leading", "hurrying", "rude", "intrusive", "improper_offer", "disparage", "scare", "question", "other"
]


class Cues(Strict):
    """Words that signal a move, per language; any one of them matches (case-insensitive)."""

    zh: list[str] = []
    en: list[str] = []


class Match(Strict):
    """One way a rep's message can count as a move; every given condition must hold."""

    cues: Cues | None = None
    also: Cues | None = None
    question: bool | None = None
    form: Literal["open", "closed"] | None = None
    spin: list[SpinType] | None = None
    acts: list[Act] | None = Field(default=None, description="the message must do one of these (any sentence): greeting, pitch, closing, question…")


class Fact(Strict):
    """Something the customer knows and never volunteers."""

    id: str = Ident
    kind: Literal["explicit", "latent", "info"]
    label: Text
    reply: list[Text] = Field(min_length=1)


class Move(Strict):
    """A thing the rep may do, and what it changes in the customer."""

    id: str = Ident
    match: list[Match] = Field(min_length=1)
    states: list[str] = []
    requires: list[str] = []
    unless: list[str] = []
    reveal: list[str] = []
    flags: list[str] = []
    goodwill: int = 0
    trigger: str | None = None
    say: list[Text] = []
    examples: Cues | None = Field(default=None, description="natural rep lines that count as this move, zh and en: matched by meaning when no cue fits")


class MovesOn(Strict):
    """How a customer who has not understood the rep for a while moves the talk along, in character."""

    after: int = Field(default=2, ge=1, description="turns in a row the customer did not understand the rep")
    trigger: str | None = Field(default=None, description="where she takes the talk (a trigger of the machine)")
    say: list[Text] = Field(min_length=1, description="what she says as she does")


class State(Strict):
    id: str = Ident
    outcome: str | None = Field(default=None, max_length=40, description="set on end states: the role-play's outcome")
    label: Text | None = Field(default=None, description="end states: the outcome as the rep reads it on the scorecard")
    end_outcome: str | None = Field(default=None, max_length=40, description="outcome if the rep ends here with /end")
    unmatched_trigger: str | None = None
    unmatched: list[Text] = []
    moves_on: MovesOn | None = None
    waiting_for: Text | None = Field(default=None, description="what the customer is waiting for in this state, without giving her answers away: /hint says it")


class Transition(Strict):
    trigger: str = Ident
    source: str | list[str]
    dest: str


class Suggestion(Strict):
    """A move offered as a button; `good` ones are also shown by /hint with their reason."""

    states: list[str] = []
    requires: list[str] = []
    unless: list[str] = []
    text: Text
    quality: Literal["good", "weak"]
    why: Text


class When(Strict):
    facts: list[str] = []
    flags: list[str] = []
    outcomes: list[str] = []


class Criterion(Strict):
    id: str = Ident
    label: Text
    points: int
    when: When
    reason: Text


class Archetype(Strict):
    """A seller from the story the rep may have played like."""

    id: str = Ident
    label: Text
    outcomes: list[str] = Field(min_length=1)
    needs: list[str] = Field(default=[], description="facts/flags that must all be known for the label to be shown; else the outcome with a neutral sentence")


class Upsell(Strict):
    """An add-on sale, credited only when the rep says why it serves the customer."""

    id: str = Ident
    label: Text
    move: str
    link: Cues | None = Field(default=None, description="words that tie the add-on to her need (besides the generic reasons in scoring/default.yaml)")
    ask_why: list[Text] = Field(default=[], description="what the customer says to an add-on offered without a reason (default: the copy's)")


class Tip(Strict):
    """Advice shown at the end when `missing` (a fact or flag) was not reached."""

    missing: str
    text: Text


Conduct = Literal["rude", "hurrying", "intrusive", "improper_offer", "disparage", "scare"]


class ConductRule(Strict):
    """One kind of bad conduct: what it costs per turn it happens, and how the scorecard names it."""

    points: int = Field(ge=0, description="points lost for each turn it happens in")
    flags: list[str] = Field(default=[], description="move flags that also count as it (the turn the flag was set)")
    label: Text
    reason: Text
    goodwill: int = Field(
        default=0, le=0, description="goodwill the customer loses on hearing it (each point a strike) when no move of the scenario reacted to the line"
    )
    say: list[Text] = Field(default=[], description="how the customer reacts then")


class QuestionRules(Strict):
    """How the quality of the rep's questions counts (see knowledge/content/README.md)."""

    weight: int = Field(ge=0, le=50, description="points out of 100 that question quality is worth; the rubric fills the rest")
    leading: int = Field(ge=0, description="points lost for each leading question")


class Scoring(Strict):
    """The generic parts of every scenario's score: conduct and question quality."""

    id: str = Ident
    conduct: dict[Conduct, ConductRule]
    questions: QuestionRules
    reasons: Cues = Field(
        description="words that give a reason for an add-on (because, good for, 适合…): without one, or an upsell's own link words, an add-on is not taken"
    )


class ConductOverride(Strict):
    points: int | None = Field(default=None, ge=0)
    flags: list[str] | None = None
    goodwill: int | None = Field(default=None, le=0)


class QuestionOverride(Strict):
    weight: int | None = Field(default=None, ge=0, le=50)
    leading: int | None = Field(default=None, ge=0)


class ScoringOverride(Strict):
    """A scenario's own weights for the generic parts; anything left out comes from scoring/default.yaml."""

    conduct: dict[Conduct, ConductOverride] = {}
    questions: QuestionOverride | None = None


class Turn(Strict):
    rep: Text
    customer: Text


class Persona(Strict):
    name: Text
    description: Text


class Scenario(Strict):
    id: str = Ident
    order: int = Field(default=100, ge=0, description="place in the /roleplay list, lowest first")
    title: Text
    source: Text
    persona: Persona
    setting: Text
    opening: list[Text] = Field(min_length=1)
    patience: int = Field(ge=1, description="strikes (negative goodwill) before the customer leaves")
    puzzled_per_strike: int = Field(
        default=4,
        ge=1,
        description="turns the customer did not understand that wear her patience down as much as one strike (not being understood is no strike, but it tires her)",
    )
    initial: str
    states: list[State] = Field(min_length=2)
    transitions: list[Transition] = Field(min_length=1)
    facts: list[Fact] = Field(min_length=1)
    moves: list[Move] = Field(min_length=1)
    unmatched: list[Text] = Field(min_length=1, description="vague replies when nothing matched")
    asked_already: list[Text] = Field(default=[], description="what the customer says when asked again what she has told (default: the copy's)")
    suggestions: list[Suggestion] = Field(min_length=1)
    rubric: list[Criterion] = Field(min_length=1)
    archetypes: list[Archetype] = []
    upsells: list[Upsell] = []
    tips: list[Tip] = []
    scoring: ScoringOverride | None = Field(default=None, description="this scenario's weights for conduct and question quality")
    lesson: Text
    model_conversation: list[Turn] = Field(min_length=1)
    _rules: Scoring | None = PrivateAttr(default=None)

    def set_scoring(self, default: Scoring) -> None:
        """Merge the generic scoring rules with this scenario's overrides (done by the loader)."""
        data = default.model_dump()
        over = self.scoring
        if over is not None:
            for kind, rule in over.conduct.items():
                data["conduct"][kind].update(rule.model_dump(exclude_none=True))
            if over.questions is not None:
                data["questions"].update(over.questions.model_dump(exclude_none=True))
        self._rules = Scoring.model_validate(data)

    @property
    def rules(self) -> Scoring:
        """The conduct and question-quality rules this scenario is scored by."""
        if self._rules is None:
            raise LookupError(f"scenario '{self.id}' was not loaded with scoring/default.yaml")
        return self._rules


class FormChoice(Strict):
    id: str = Ident
    label: Text


class FormField(Strict):
    id: str = Ident
    kind: Literal["text", "longtext", "number", "date", "choice", "tags"]
    required: bool
    label: Text
    prompt: Text
    max_length: int | None = Field(default=None, ge=1, le=4000)
    min_value: float | None = None
    max_value: float | None = None
    choices: list[FormChoice] = []
    group: Literal["customer", "situation", "problem", "implication", "need", "deal", "follow_up"]


class Form(Strict):
    """A guided form, asked one field at a time in order."""

    id: str = Ident
    title: Text
    intro: Text
    fields: list[FormField] = Field(min_length=1)
