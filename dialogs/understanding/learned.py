"""The learned layer next to the rules: a small linear model over word and character n-grams.

Rules are strong evidence and stay in charge where they fire; the model fills the gaps that
keywords miss (a question no SPIN rule names falls back to the model instead of `situation`).
It is trained at first use on the labelled tuning utterances (knowledge/understanding/ holds
the rules; knowledge/understanding/examples/utterances.yaml and the SPIN scripts' questions the examples) with
scikit-learn, then cached on disk as plain arrays keyed by a hash of the training data, so an
unchanged start loads the arrays without importing scikit-learn, and inference is a few
dictionary look-ups and one small matrix sum.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import snowballstemmer

from dialogs.understanding.text import detect_language, normalise

if TYPE_CHECKING:
    import numpy as np

FEATURES_VERSION = "1"
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_CJK_RUN = re.compile("[\u3400-\u9fff]+")
_STEMMER = snowballstemmer.stemmer("english")
_LOCK = threading.Lock()


def cache_dir() -> Path:
    """Where trained weights are kept: SALESCOACH_CACHE_DIR, else the user's cache folder."""
    base = os.environ.get("SALESCOACH_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "salescoach")
    return Path(base)


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def features(normalised: str, lang: str) -> list[str]:
    """The n-grams the model weighs: stemmed English words and word pairs; Chinese characters, pairs and triples."""
    if lang == "en":
        words = [_stem(w) for w in _WORD.findall(normalised)]
        return [f"w:{w}" for w in words] + [f"b:{a}_{b}" for a, b in pairwise(words)] + [f"h:{words[0]}" if words else "h:"]
    found: list[str] = []
    for run in _CJK_RUN.findall(normalised):
        found += [f"c:{ch}" for ch in run] + [f"c:{run[i : i + 2]}" for i in range(len(run) - 1)] + [f"c:{run[i : i + 3]}" for i in range(len(run) - 2)]
    found += [f"w:{_stem(w)}" for w in _WORD.findall(normalised)]
    return found


@dataclass(frozen=True)
class LinearModel:
    """Trained weights as plain arrays: one row of coefficients per class over a feature index."""

    classes: tuple[str, ...]
    index: dict[str, int]
    coef: np.ndarray
    intercept: np.ndarray

    def scores(self, feats: Sequence[str]) -> dict[str, float]:
        """Class probabilities for these features (softmax over the linear scores)."""
        import numpy as np

        columns = [self.index[f] for f in feats if f in self.index]
        logits = self.intercept + (self.coef[:, columns].sum(axis=1) if columns else 0.0)
        exp = np.exp(logits - logits.max())
        probs = exp / exp.sum()
        return dict(zip(self.classes, probs.tolist(), strict=True))

    def heaviest(self, feats: list[str], label: str, how_many: int = 3) -> list[str]:
        """The n-grams that weighed most for `label`: how the model explains itself. Equal weights
        (n-grams always seen together) go in the n-grams' own order, so every process names the
        same ones; before, they came in the set's order, which differs with PYTHONHASHSEED."""
        row = self.classes.index(label)
        weighted = sorted({f for f in feats if f in self.index}, key=lambda f: (-float(self.coef[row, self.index[f]]), f))
        return [f.split(":", 1)[1] for f in weighted[:how_many] if self.coef[row, self.index[f]] > 0]


def train(texts: list[str], labels: list[str]) -> LinearModel:
    """Fit a logistic regression on lines as reps type them; scikit-learn is imported only here."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    index: dict[str, int] = {}
    rows, cols = [], []
    for row, text in enumerate(texts):
        for feat in set(text_features(text)):
            rows.append(row)
            cols.append(index.setdefault(feat, len(index)))
    matrix = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(texts), len(index)))
    model = LogisticRegression(C=4.0, max_iter=2000)
    model.fit(matrix, labels)
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:  # scikit-learn keeps one row for two classes: the second's score against a first at 0
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([np.zeros_like(intercept), intercept])
    return LinearModel(tuple(model.classes_), index, coef.astype(np.float32), intercept.astype(np.float32))


def fingerprint(*parts: str) -> str:
    """A short hash of the training data and the feature version: the cache key."""
    digest = hashlib.sha256(FEATURES_VERSION.encode())
    for part in parts:
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def load_or_train(name: str, key: str, make: Callable[[], LinearModel]) -> LinearModel:
    """The cached model for `key`, or a freshly trained one that is then cached (best effort)."""
    import numpy as np

    path = cache_dir() / f"{name}-{key}.npz"
    with _LOCK:
        if path.exists():
            try:
                with np.load(path, allow_pickle=False) as data:
                    meta = json.loads(str(data["meta"]))
                    return LinearModel(tuple(meta["classes"]), meta["index"], data["coef"], data["intercept"])
            except (OSError, ValueError, KeyError):
                pass
        model = make()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
            meta = json.dumps({"classes": list(model.classes), "index": model.index}, ensure_ascii=False)
            np.savez(tmp, meta=np.array(meta), coef=model.coef, intercept=model.intercept)
            os.replace(tmp, path)
        except OSError:
            pass
        return model


def examples_model(name: str, labelled: Sequence[tuple[str, str]]) -> LinearModel:
    """A model of which label a line carries, trained on (label, line) pairs and cached by their
    hash: what a role-play scenario's move example lines teach about lines no example words."""
    key = fingerprint(*(f"{label}\t{line}\n" for label, line in labelled))

    def make() -> LinearModel:
        return train([line for _, line in labelled], [label for label, _ in labelled])

    return load_or_train(name, key, make)


def text_features(text: str) -> list[str]:
    """The n-grams of a raw line (normalised, in its detected language)."""
    normalised = normalise(text)
    return features(normalised, detect_language(normalised))


def _trained_on(name: str, sources: list[Path], examples: Callable[[], list[tuple[str, str]]]) -> LinearModel:
    key = fingerprint(*(path.read_text(encoding="utf-8") for path in sources))

    def make() -> LinearModel:
        pairs = examples()
        return train([text for text, _ in pairs], [label for _, label in pairs])

    return load_or_train(name, key, make)


@lru_cache(maxsize=1)
def act_model() -> LinearModel:
    """The speech-act model (greeting, pitch, closing, question, improper offer…), trained on acts.yaml (cached)."""
    from dialogs.understanding.training import act_examples, acts_sources

    return _trained_on("acts", acts_sources(), act_examples)


@lru_cache(maxsize=1)
def spin_model() -> LinearModel:
    """The SPIN model, trained on the tuning utterances and the scripts' stage questions (cached)."""
    from dialogs.understanding.training import spin_examples, spin_sources

    return _trained_on("spin", spin_sources(), spin_examples)
