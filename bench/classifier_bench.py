"""Benchmark for dialogs/understanding/classifier.py: accuracy on the labelled data and single-core throughput.

Run ``python bench/classifier_bench.py`` after editing knowledge/understanding/*.yaml.
Targets on the held-out set: SPIN accuracy >= 90 %, open/closed accuracy >= 95 %;
throughput >= 5,000 utterances per second.  ``--errors`` lists the tuning-set mistakes
with their cues; held-out and blind-set mistakes are never listed, so that nobody tunes rules on them.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dialogs.understanding.classifier import (  # noqa: E402  (needs the repository root on sys.path)
    classify,
    load_rules,
    normalise,
)
from dialogs.understanding.evaluation import Evaluation, LabelledUtterance, evaluate, load_labelled  # noqa: E402

DATA = ROOT / "tests" / "data"
EXAMPLES = ROOT / "knowledge" / "understanding" / "examples"
TARGETS = {"spin": 0.90, "form": 0.95, "throughput": 5000.0}


def main(argv: Sequence[str] | None = None) -> int:
    """Print the accuracy report for both data sets and the throughput; exit 1 if a target is missed."""
    args = _parse_args(argv)
    load_rules()
    tune = load_labelled(EXAMPLES / "utterances.yaml")
    heldout = load_labelled(DATA / "utterances_heldout.yaml")
    heldout_eval = evaluate(heldout)
    _print_report("HELD-OUT (never tuned on)", heldout_eval)
    frozen = {name: evaluate(load_labelled(DATA / "frozen" / f"{name}.yaml")) for name in ("chat", "textbook")}
    for name, result in frozen.items():
        _print_report(f"FROZEN {name} (written blind, never tuned on; aggregate only)", result)
    tune_eval = evaluate(tune)
    _print_report("TUNING (rules were fitted to this part)", tune_eval)
    if args.errors:
        _print_errors(tune_eval)
    texts = [item.text for item in tune + heldout]
    anchor = measure_throughput(texts, args.seconds, normalise)
    rate = measure_throughput(texts, args.seconds)
    print(f"\nThroughput: {rate:,.0f} utterances/second (single core, target >= {TARGETS['throughput']:,.0f}); anchor, normalising alone: {anchor:,.0f}/s")
    met = heldout_eval.spin_accuracy >= TARGETS["spin"] and heldout_eval.form_accuracy >= TARGETS["form"] and rate >= TARGETS["throughput"]
    print("All targets met." if met else "Some targets are NOT met.")
    print(
        f"utterances_per_s={rate:.0f} normalise_per_s={anchor:.0f} ratio={rate / anchor:.3f} "
        f"heldout_spin={heldout_eval.spin_accuracy:.3f} chat_spin={frozen['chat'].spin_accuracy:.3f} "
        f"chat_form={frozen['chat'].form_accuracy:.3f} textbook_spin={frozen['textbook'].spin_accuracy:.3f}"
    )
    return 0 if met else 1


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list tuning-set mistakes with their cues")
    parser.add_argument("--seconds", type=float, default=2.0, help="how long to measure throughput")
    return parser.parse_args(argv)


def measure_throughput(texts: Sequence[str], seconds: float, read: Callable[[str], object] = classify) -> float:
    """Run ``read`` (the classifier) over ``texts`` again and again for about ``seconds``; utterances per second."""
    count = 0
    started = time.perf_counter()
    elapsed = 0.0
    while elapsed < seconds:
        for text in texts:
            read(text)
        count += len(texts)
        elapsed = time.perf_counter() - started
    return count / elapsed


def _print_report(title: str, result: Evaluation) -> None:
    print(f"\n== {title}: {result.size} utterances ==")
    print(f"SPIN accuracy:        {result.spin_accuracy:6.1%}   (target >= {TARGETS['spin']:.0%})")
    print(f"open/closed accuracy: {result.form_accuracy:6.1%}   (on labelled questions, target >= {TARGETS['form']:.0%})")
    print(f"is_question accuracy: {result.question_accuracy:6.1%}")
    print(f"language accuracy:    {result.lang_accuracy:6.1%}")
    print(f"{'SPIN class':<12} {'precision':>9} {'recall':>7} {'n':>4}")
    for score in result.per_class:
        print(f"{score.name:<12} {score.precision:9.1%} {score.recall:7.1%} {score.support:4d}")


def _print_errors(result: Evaluation) -> None:
    print(f"\n-- tuning-set mistakes ({len(result.errors)}) --")
    for item, got in result.errors:
        print(f"{item.text}\n    expected {_label(item)}\n    got      {got.lang} q={got.is_question} {got.form} {got.spin}  cues={list(got.cues)}")


def _label(item: LabelledUtterance) -> str:
    return f"{item.lang} q={item.is_question} {item.form} {item.spin}"


if __name__ == "__main__":
    raise SystemExit(main())
