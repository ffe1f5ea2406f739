"""The labelled examples the learned layer trains on: shipped data, never the evaluation sets.

SPIN: the labelled utterances in knowledge/understanding/examples/utterances.yaml (questions
only) and every questioning script's stage questions in both languages.
Speech acts: knowledge/understanding/examples/acts.yaml (one act per line).
"""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "understanding" / "examples"
SCRIPTS_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "content" / "scripts"


def spin_sources() -> list[Path]:
    """The files the SPIN model learns from; their bytes are the cache key."""
    return [EXAMPLES_DIR / "utterances.yaml", *sorted(SCRIPTS_DIR.glob("*.yaml"))]


def spin_examples() -> list[tuple[str, str]]:
    """(text, SPIN type) pairs: the labelled questions, then each script's stage questions in zh and en."""
    yaml = YAML(typ="safe")
    utterances, *scripts = spin_sources()
    pairs = [(item["text"], item["spin"]) for item in yaml.load(utterances.read_text(encoding="utf-8")) if item.get("is_question")]
    for path in scripts:
        for step in (yaml.load(path.read_text(encoding="utf-8")) or {}).get("steps", []):
            pairs += [(step["question"][lang], step["stage"]) for lang in ("zh", "en")]
    return pairs


ACTS: tuple[str, ...] = (
    "greeting",
    "empathy",
    "pitch",
    "price",
    "closing",
    "leading",
    "hurrying",
    "rude",
    "intrusive",
    "improper_offer",
    "disparage",
    "scare",
    "question",
    "other",
)


def acts_sources() -> list[Path]:
    """The files the speech-act model learns from; their bytes are the cache key."""
    return [EXAMPLES_DIR / "acts.yaml"]


def act_examples() -> list[tuple[str, str]]:
    """(text, act) pairs, one act per line."""
    raw = YAML(typ="safe").load((EXAMPLES_DIR / "acts.yaml").read_text(encoding="utf-8"))
    return [(item["text"], item["act"]) for item in raw]
