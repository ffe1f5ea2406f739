"""`salescoach validate`: check content before it ships, and load it for the bot.

Run as ``python -m knowledge.validate [PATH ...]`` or ``salescoach validate [PATH ...]``.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from knowledge.checks import check_all, check_polls
from knowledge.loader import KINDS, ContentError, Knowledge, Problem, load_dirs, load_file
from knowledge.templates import counted


def validate(extra_dirs: list[Path] | None = None, authoring: bool = False) -> tuple[Knowledge, list[Problem]]:
    """Load the shipped content plus `extra_dirs` and run every check (`authoring`: the trainers' checks
    too); the problems in file and line order."""
    knowledge, problems = load_dirs(extra_dirs)
    return knowledge, sorted(problems + check_all(knowledge, authoring))


def load_knowledge(extra_dirs: tuple[Path, ...] = ()) -> Knowledge:
    """The content the bot runs on; raises ContentError naming every bad file and line."""
    knowledge, problems = validate(list(extra_dirs))
    if problems:
        raise ContentError(problems)
    return knowledge


@lru_cache(maxsize=8)
def cached_knowledge(extra_dirs: tuple[Path, ...] = ()) -> Knowledge:
    """Content is read once per process: it only changes on deploy."""
    return load_knowledge(extra_dirs)


def summary(knowledge: Knowledge) -> str:
    """The one-line count printed when everything is valid."""
    questions = sum(len(q.questions) for q in knowledge.quizzes.values())
    return (
        f"OK: {counted(len(knowledge.lessons), 'lesson')}, {counted(len(knowledge.quizzes), 'quiz', 'quizzes')} ({counted(questions, 'question')}), "
        f"{counted(len(knowledge.scenarios), 'scenario')}, {counted(len(knowledge.scripts), 'script')}, {counted(len(knowledge.forms), 'form')}, {counted(len(knowledge.paths), 'path')}"
    )


def _validate_file(path: Path) -> list[Problem]:
    kind = path.parent.name
    if kind not in KINDS:
        return [Problem(str(path), 1, f"cannot tell what kind of content this is from its folder '{kind}'", f"put it in a folder named one of {sorted(KINDS)}")]
    item, source, problems = load_file(path, KINDS[kind])
    if item is None or source is None:
        return problems
    # a path names other content, so it is checked among the shipped content (whose own problems,
    # and slow cue checks, are `salescoach validate`'s business, not this file's)
    knowledge = load_dirs()[0] if kind == "paths" else Knowledge()
    knowledge.items[kind][item.id] = item
    knowledge.sources[(kind, item.id)] = source
    return problems + [p for p in check_all(knowledge, authoring=kind != "paths") + check_polls(knowledge) if p.file == str(path)]


def unread(root: Path) -> list[Problem]:
    """The YAML files under a content directory that are not read as content, because they are
    not in the folder of a kind (scenarios/, quizzes/ …) or are not named *.yaml."""
    read = {path for kind in KINDS for path in (root / kind).glob("*.yaml")}
    folders = ", ".join(f"{kind}/" for kind in KINDS)
    return [
        Problem(
            str(path),
            1,
            f"not read as content: only *.yaml files in {folders} are",
            f"move it into the folder of its kind, e.g. {root / 'scenarios' / (path.stem + '.yaml')}",
        )
        for path in sorted(root.rglob("*.y*ml"))
        if path.suffix in (".yaml", ".yml") and path not in read
    ]


def run(paths: list[str]) -> int:
    """Print every problem as file:line, all together in file and line order (YAML files in a
    directory that are not read as content among them), then how many there are or the OK
    summary; return the exit code. Warnings come in that order too, without failing: about the
    shipped content when no paths are given, else about the paths'."""
    dirs = [Path(p) for p in paths if not Path(p).is_file()]
    files = [Path(p) for p in paths if Path(p).is_file()]
    knowledge, problems = validate(dirs, authoring=True)
    problems += [w for w in check_polls(knowledge) if not paths or any(Path(w.file).is_relative_to(d) for d in dirs)]
    for path in files:
        problems += _validate_file(path)
    for root in dirs:
        problems += unread(root) if root.is_dir() else []
    problems.sort()
    for problem in problems:
        print(problem)
    errors = sum(1 for p in problems if not p.warning)
    warned = f"; {counted(len(problems) - errors, 'warning')}" if len(problems) > errors else ""
    if errors:
        print(f"{counted(errors, 'problem')} found{warned}.")
        return 1
    print(summary(knowledge) + warned)
    return 0


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
