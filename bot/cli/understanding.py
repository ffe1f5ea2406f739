"""`salescoach classify` and `salescoach eval`: how the bot reads a rep's lines, and how well."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import EXIT_USAGE, CliError, start_engine
from bot.settings import Settings
from knowledge.cli import help_text, line
from knowledge.templates import counted


def cmd_classify(args: argparse.Namespace, settings: Settings) -> int:
    """Classify utterances (arguments, or one per line on stdin) as JSON lines."""
    from dialogs.understanding.classifier import classify

    utterances = args.utterances or (text.rstrip("\n") for text in sys.stdin)
    for utterance in utterances:
        if utterance.strip():
            sys.stdout.write(json.dumps(classify(utterance).as_dict(), ensure_ascii=False) + "\n")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Score a labelled file (SPIN type and form) or a folder of role-play scripts; aggregate figures only."""
    path = Path(args.path)
    if path.is_dir():
        return _eval_scripts(path, settings)
    if not path.is_file():
        raise CliError(line("eval_missing", path=path), EXIT_USAGE)
    return _eval_labelled(path)


def _eval_labelled(path: Path) -> int:
    from ruamel.yaml.error import MarkedYAMLError

    from dialogs.understanding.classifier import SPIN_CLASSES
    from dialogs.understanding.evaluation import FORMS, confusion_table, evaluate, load_labelled

    try:
        items = load_labelled(path)
    except MarkedYAMLError as exc:
        at = f":{exc.problem_mark.line + 1}" if exc.problem_mark else ""
        raise CliError(line("bad_yaml", where=f"{path}{at}", problem=exc.problem), EXIT_USAGE) from exc
    except json.JSONDecodeError as exc:
        raise CliError(line("bad_json", where=f"{path}:{exc.lineno}", problem=exc.msg), EXIT_USAGE) from exc
    except (ValueError, KeyError) as exc:
        raise CliError(line("bad_item", problem=exc), EXIT_USAGE) from exc
    result = evaluate(items)
    out = sys.stdout
    out.write(f"{path.name}: {counted(result.size, 'utterance')}\n")
    out.write(f"SPIN type accuracy:   {result.spin_accuracy:6.1%}\n")
    out.write(f"form accuracy:        {result.form_accuracy:6.1%}   (open / closed / statement)\n")
    out.write(f"question accuracy:    {result.question_accuracy:6.1%}\n")
    out.write(f"{'SPIN class':<12} {'precision':>9} {'recall':>7} {'n':>4}\n")
    for score in result.per_class:
        out.write(f"{score.name:<12} {score.precision:9.1%} {score.recall:7.1%} {score.support:4d}\n")
    out.write("\nSPIN confusion:\n" + "\n".join(confusion_table(result.spin_confusion, SPIN_CLASSES)) + "\n")
    out.write("\nform confusion (none = statement):\n" + "\n".join(confusion_table(result.form_confusion, FORMS)) + "\n")
    out.write(f"spin_accuracy={result.spin_accuracy:.3f} form_accuracy={result.form_accuracy:.3f} size={result.size}\n")
    return 0


def _eval_scripts(folder: Path, settings: Settings) -> int:
    from dialogs.roleplay.replay import LEVELS, BadScript, by_pair, load_scripts, replay_all

    scenarios = start_engine(settings).knowledge.scenarios
    try:
        scripts = load_scripts(folder)
    except BadScript as exc:
        raise CliError(line(exc.key, **exc.values), EXIT_USAGE) from exc
    unknown = sorted({s.scenario for s in scripts} - set(scenarios))
    if unknown:
        raise CliError(line("unknown_scenarios", unknown=", ".join(unknown), scenarios=", ".join(sorted(scenarios))), EXIT_USAGE)
    pairs = by_pair(scenarios, replay_all(scenarios, scripts))
    out = sys.stdout
    out.write(f"{folder}: {counted(len(scripts), 'script')}, {counted(len(pairs), 'scenario-language pair')}\n")
    out.write(f"{'scenario':<16} {'lang':<4} " + " ".join(f"{level:>8}" for level in LEVELS) + "  rising  skilled-best\n")
    for pair in pairs:
        means = " ".join(f"{pair.mean_score.get(level, float('nan')):8.1f}" for level in LEVELS)
        out.write(f"{pair.scenario:<16} {pair.lang:<4} {means}  {'yes' if pair.rising else 'no':>6}  {'yes' if pair.skilled_best else 'no':>12}\n")
    passed = sum(p.passed for p in pairs)
    out.write(f"pairs_passed={passed} pairs={len(pairs)} share={passed / len(pairs) if pairs else 0:.2f}\n")
    return 0


def add(sub: Any) -> None:
    """Register `classify` and `eval`."""
    classify = sub.add_parser("classify", help=help_text("classify"))
    classify.add_argument("utterances", nargs="*", help=help_text("classify_utterances"))
    classify.set_defaults(func=cmd_classify)

    evaluate = sub.add_parser("eval", help=help_text("eval"))
    evaluate.add_argument("path", help=help_text("eval_path"))
    evaluate.set_defaults(func=cmd_eval)
