"""Loading content files into validated models, with `file:line` problems.

Shipped content lives in ``knowledge/content/<kind>/*.yaml``; a company adds directories
of its own (KNOWLEDGE_DIRS) laid out the same way, whose items add to or override the
shipped ones by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from knowledge.schema import Form, Lesson, Quiz, Scenario, Script

CONTENT_DIR = Path(__file__).resolve().parent / "content"
KINDS: dict[str, type[BaseModel]] = {
    "lessons": Lesson,
    "scripts": Script,
    "quizzes": Quiz,
    "scenarios": Scenario,
    "forms": Form,
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a content file, said so a trainer can fix it."""

    file: str
    line: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{self.file}:{self.line}: {self.message}{hint}"


class ContentError(Exception):
    """Raised when content does not validate; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Source:
    """Where an item came from, so later checks can point at the right line."""

    path: Path
    node: Any

    def line(self, loc: tuple[str | int, ...] = ()) -> int:
        """The 1-based line of the value at `loc` (a path of keys and indexes)."""
        return line_of(self.node, loc)


@dataclass
class Knowledge:
    """All content by kind and id, plus where each item was read from."""

    items: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: {} for k in KINDS})
    sources: dict[tuple[str, str], Source] = field(default_factory=dict)

    @property
    def lessons(self) -> dict[str, Lesson]:
        return self.items["lessons"]

    @property
    def scripts(self) -> dict[str, Script]:
        return self.items["scripts"]

    @property
    def quizzes(self) -> dict[str, Quiz]:
        return self.items["quizzes"]

    @property
    def scenarios(self) -> dict[str, Scenario]:
        return self.items["scenarios"]

    @property
    def forms(self) -> dict[str, Form]:
        return self.items["forms"]


def line_of(node: Any, loc: tuple[str | int, ...]) -> int:
    """Walk a ruamel round-trip node along `loc` and return the deepest line known."""
    line = (node.lc.line + 1) if hasattr(node, "lc") else 1
    for key in loc:
        try:
            if isinstance(key, int):
                line = node.lc.item(key)[0] + 1
            else:
                line = node.lc.key(key)[0] + 1
            node = node[key]
        except (AttributeError, KeyError, IndexError, TypeError):
            break
    return line


def _read(path: Path) -> tuple[Any, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(str(path), 1, f"not UTF-8 text: {exc.reason}", "save the file as UTF-8")]
    try:
        return YAML(typ="rt").load(text), []
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return None, [Problem(str(path), line, f"YAML syntax: {exc.problem}", "check indentation and quoting")]


def _hint(error_type: str) -> str:
    return {
        "extra_forbidden": "remove the key or fix its spelling",
        "missing": "add this key",
        "string_pattern_mismatch": "ids are lower_snake_case: letters, digits and _",
        "string_too_short": "write a non-empty text",
        "literal_error": "use one of the allowed values",
    }.get(error_type, "")


def load_file(path: Path, model: type[BaseModel]) -> tuple[BaseModel | None, Source | None, list[Problem]]:
    """Parse and validate one file; problems name the file and line."""
    data, problems = _read(path)
    if problems:
        return None, None, problems
    source = Source(path, data)
    if not isinstance(data, dict):
        return None, None, [Problem(str(path), 1, "expected a mapping at the top of the file")]
    try:
        item = model.model_validate(data)
    except ValidationError as exc:
        return None, None, [
            Problem(str(path), source.line(tuple(err["loc"])), f"{'.'.join(map(str, err['loc'])) or 'file'}: {err['msg']}", _hint(err["type"]))
            for err in exc.errors()
        ]
    expected = path.stem
    if getattr(item, "id", expected) != expected:
        return None, None, [Problem(str(path), source.line(("id",)), f"id '{item.id}' differs from the file name", f"rename the file to {item.id}.yaml or change the id")]
    return item, source, []


def load_dirs(extra_dirs: list[Path] | None = None, *, shipped: bool = True) -> tuple[Knowledge, list[Problem]]:
    """Load shipped content then each extra directory; later directories override by id."""
    knowledge = Knowledge()
    problems: list[Problem] = []
    roots = ([CONTENT_DIR] if shipped else []) + list(extra_dirs or [])
    for root in roots:
        if not root.is_dir():
            problems.append(Problem(str(root), 1, "content directory not found", "check KNOWLEDGE_DIRS"))
            continue
        for kind, model in KINDS.items():
            for path in sorted((root / kind).glob("*.yaml")):
                item, source, found = load_file(path, model)
                problems.extend(found)
                if item is not None and source is not None:
                    knowledge.items[kind][item.id] = item
                    knowledge.sources[(kind, item.id)] = source
    return knowledge, problems
