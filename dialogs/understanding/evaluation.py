"""Scoring the classifier on labelled utterances: accuracy, per-class precision and recall, confusion.

Labelled files are YAML lists, JSON lines, or TSV with a header (columns text, lang, spin, form;
`is_question` is optional and follows from the form). Form is `open`, `closed`, or `statement`
(`none` is read as `statement`). `salescoach eval FILE` prints only aggregate figures, so a frozen
set can be measured without anyone reading its items.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from ruamel.yaml import YAML

from dialogs.understanding.classifier import SPIN_CLASSES, Classification, classify

FORMS: tuple[str, ...] = ("open", "closed", "none")


class LabelledUtterance(BaseModel):
    """One hand-labelled utterance (`style` says where it comes from: chat, textbook…)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    lang: Literal["zh", "en"]
    is_question: bool
    form: Literal["open", "closed", "none"]
    spin: Literal["situation", "problem", "implication", "need_payoff", "none"]
    style: str = ""

    @model_validator(mode="before")
    @classmethod
    def _statement_is_none(cls, raw: Any) -> Any:
        if isinstance(raw, dict):
            raw = dict(raw)
            if raw.get("form") == "statement":
                raw["form"] = "none"
            if "is_question" not in raw and "form" in raw:
                raw["is_question"] = raw["form"] != "none"
            if isinstance(raw.get("is_question"), str):
                raw["is_question"] = raw["is_question"].strip().lower() in ("1", "true", "yes")
        return raw

    @model_validator(mode="after")
    def _consistent(self) -> LabelledUtterance:
        if (self.form == "none") == self.is_question:
            raise ValueError(f"{self.text!r}: form must be 'statement' (none) exactly when it is not a question")
        if not self.is_question and self.spin != "none":
            raise ValueError(f"{self.text!r}: a statement must have spin 'none'")
        return self


def _rows(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if path.suffix == ".tsv":
        return list(csv.DictReader(text.splitlines(), delimiter="\t"))
    return list(YAML(typ="safe").load(text) or [])


def load_labelled(path: Path | str) -> list[LabelledUtterance]:
    """Read a labelled data set (YAML list, JSON lines or TSV) for the benchmark, the tests and `salescoach eval`."""
    path = Path(path)
    items = []
    for number, row in enumerate(_rows(path), 1):
        try:
            items.append(LabelledUtterance.model_validate(row))
        except ValidationError as exc:
            raise ValueError(f"{path}: item {number}: {exc.errors()[0]['msg']}") from exc
    return items


@dataclass(frozen=True)
class ClassScore:
    """Precision and recall of one SPIN class."""

    name: str
    precision: float
    recall: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    """Accuracy figures of the classifier on a labelled data set."""

    size: int
    spin_accuracy: float
    form_accuracy: float
    question_accuracy: float
    lang_accuracy: float
    per_class: tuple[ClassScore, ...]
    spin_confusion: dict[tuple[str, str], int]
    form_confusion: dict[tuple[str, str], int]
    errors: tuple[tuple[LabelledUtterance, Classification], ...]


def evaluate(items: Sequence[LabelledUtterance], classifier: Callable[[str], Classification] = classify) -> Evaluation:
    """Score the classifier: SPIN type on every item, form (open / closed / statement) on every item."""
    results = [(item, classifier(item.text)) for item in items]
    errors = tuple(
        (item, got) for item, got in results if (got.spin, got.form, got.is_question, got.lang) != (item.spin, item.form, item.is_question, item.lang)
    )
    return Evaluation(
        size=len(results),
        spin_accuracy=_share(results, lambda item, got: item.spin == got.spin),
        form_accuracy=_share(results, lambda item, got: item.form == got.form),
        question_accuracy=_share(results, lambda item, got: item.is_question == got.is_question),
        lang_accuracy=_share(results, lambda item, got: item.lang == got.lang),
        per_class=tuple(_class_score(results, name) for name in SPIN_CLASSES),
        spin_confusion=dict(Counter((item.spin, got.spin) for item, got in results)),
        form_confusion=dict(Counter((item.form, got.form) for item, got in results)),
        errors=errors,
    )


def _share(
    pairs: Sequence[tuple[LabelledUtterance, Classification]],
    correct: Callable[[LabelledUtterance, Classification], bool],
) -> float:
    return sum(1 for item, got in pairs if correct(item, got)) / len(pairs) if pairs else 0.0


def _class_score(pairs: Sequence[tuple[LabelledUtterance, Classification]], name: str) -> ClassScore:
    predicted = sum(1 for _, got in pairs if got.spin == name)
    actual = sum(1 for item, _ in pairs if item.spin == name)
    hits = sum(1 for item, got in pairs if item.spin == name == got.spin)
    return ClassScore(name, precision=hits / predicted if predicted else 0.0, recall=hits / actual if actual else 0.0, support=actual)


def confusion_table(confusion: dict[tuple[str, str], int], labels: Sequence[str]) -> list[str]:
    """A confusion matrix as text lines: rows are the gold labels, columns what the classifier said."""
    width = max(len(label) for label in labels) + 2
    lines = ["gold \\ got".ljust(width) + "".join(label[: width - 1].rjust(width) for label in labels)]
    for gold in labels:
        lines.append(gold.ljust(width) + "".join(str(confusion.get((gold, got), 0)).rjust(width) for got in labels))
    return lines
