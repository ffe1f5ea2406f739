"""Matching by meaning: how close a rep's line is to labelled example lines.

Lines become TF-IDF vectors over the same n-grams as the learned layer (English word lemmas and
word pairs, Chinese characters and character pairs and triples), weighted by how rare each
n-gram is among the examples, and compared by cosine similarity. The nearest example explains
the match ("it is most like: 'Why do you want them sour?'").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dialogs.understanding.learned import text_features

Vector = dict[str, float]


def _weighted(feats: Iterable[str], idf: dict[str, float], default: float) -> Vector:
    counts = Counter(feats)
    vector = {f: (1.0 + math.log(n)) * idf.get(f, default) for f, n in counts.items()}
    norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
    return {f: w / norm for f, w in vector.items()}


@dataclass(frozen=True)
class Example:
    """One labelled line: what it counts as, its text, and its vector."""

    label: str
    text: str
    vector: Vector


class ExampleIndex:
    """Labelled example lines, ready for nearest-example look-ups (an inverted index over n-grams)."""

    def __init__(self, labelled: Sequence[tuple[str, str]]) -> None:
        feats = [text_features(text) for _, text in labelled]
        documents = len(feats) or 1
        frequency = Counter(f for fs in feats for f in set(fs))
        self.idf = {f: math.log((1 + documents) / (1 + n)) + 1.0 for f, n in frequency.items()}
        self.default_idf = math.log(1 + documents) + 1.0
        self.examples = [Example(label, text, _weighted(fs, self.idf, self.default_idf)) for (label, text), fs in zip(labelled, feats, strict=True)]
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for number, example in enumerate(self.examples):
            for feature, weight in example.vector.items():
                self._postings.setdefault(feature, []).append((number, weight))

    def vector(self, text: str) -> Vector:
        """The vector of a new line, weighted like the examples."""
        return self.vector_of(text_features(text))

    def vector_of(self, feats: Sequence[str]) -> Vector:
        """The vector of a line's n-grams (`text_features`), for a caller that has them already."""
        return _weighted(feats, self.idf, self.default_idf)

    def similarities(self, vector: Vector) -> dict[int, float]:
        """The cosine similarity of the vector to every example it shares an n-gram with, by example number."""
        scores: dict[int, float] = {}
        for feature, weight in vector.items():
            for number, other in self._postings.get(feature, ()):
                scores[number] = scores.get(number, 0.0) + weight * other
        return scores

    def best(self, similarities: dict[int, float], labels: set[str]) -> tuple[float, Example | None]:
        """The most similar example among those labelled with one of `labels`, with its similarity."""
        found: tuple[float, Example | None] = (0.0, None)
        for number, score in similarities.items():
            if score > found[0] and self.examples[number].label in labels:
                found = (score, self.examples[number])
        return found
