"""`salescoach validate`: check content before it ships, and load it for the bot.

Run as ``python -m knowledge.validate [PATH ...]`` or ``salescoach validate [PATH ...]``.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from knowledge.checks import check_all
from knowledge.loader import KINDS, ContentError, Knowledge, Problem, load_dirs, load_file


def validate(extra_dirs: list[Path] | None = None, authoring: bool = False) -> tuple[Knowledge, list[Problem]]:
    """Load the shipped content plus `extra_dirs` and run every check (`authoring`: the trainers' checks too)."""
    knowledge, problems = load_dirs(extra_dirs)
    return knowledge, problems + check_all(knowledge, authoring)


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
        f"OK: {len(knowledge.lessons)} lessons, {len(knowledge.quizzes)} quizzes ({questions} questions), "
        f"{len(knowledge.scenarios)} scenarios, {len(knowledge.scripts)} scripts, {len(knowledge.forms)} forms"
    )


def _validate_file(path: Path) -> list[Problem]:
    kind = path.parent.name
    if kind not in KINDS:
        return [Problem(str(path), 1, f"cannot tell what kind of content this is from its folder '{kind}'", f"put it in a folder named one of {sorted(KINDS)}")]
    item, source, problems = load_file(path, KINDS[kind])
    if item is None or source is None:
        return problems
    knowledge = Knowledge()
    knowledge.items[kind][item.id] = item
    knowledge.sources[(kind, item.id)] = source
    return check_all(knowledge, authoring=True)


def run(paths: list[str]) -> int:
    """Print every problem as file:line, or the OK summary; return the exit code."""
    dirs = [Path(p) for p in paths if not Path(p).is_file()]
    files = [Path(p) for p in paths if Path(p).is_file()]
    knowledge, problems = validate(dirs, authoring=True)
    for path in files:
        problems += _validate_file(path)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found.")
        return 1
    print(summary(knowledge))
    return 0


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
