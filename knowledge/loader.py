"""Loading content files into validated models, with `file:line` problems.

Shipped content lives in ``knowledge/content/<kind>/*.yaml``; a company adds directories
of its own (KNOWLEDGE_DIRS) laid out the same way, whose items add to or override the
shipped ones by id.

Files are parsed with PyYAML's C loader, about eight times faster than ruamel's round-trip
loader, which was most of the bot's start-up. Only the round-trip loader keeps line
numbers, so a file is parsed with it again when a problem in it has to name a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from knowledge.schema import Form, Lesson, Quiz, Scenario, Scoring, Script

CONTENT_DIR = Path(__file__).resolve().parent / "content"
KINDS: dict[str, type[BaseModel]] = {
    "lessons": Lesson,
    "scripts": Script,
    "quizzes": Quiz,
    "scenarios": Scenario,
    "forms": Form,
    "scoring": Scoring,
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


class _Yaml12Loader(yaml.CSafeLoader):
    """PyYAML's C loader reading booleans as YAML 1.2 does, like the round-trip loader.

    YAML 1.1 would turn an unquoted yes, no, on or off into a boolean: an option or an
    answer spelled so would fail validation for no reason a trainer could see.
    """


_BOOL = "tag:yaml.org,2002:bool"
_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def parse(text: str) -> Any:
    """Plain Python data from YAML text, with the fast C loader."""
    return yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506  (a safe loader)


def _round_trip(text: str) -> Any:
    """The text parsed by ruamel's round-trip loader, whose nodes know their lines."""
    from ruamel.yaml import YAML  # only on the way to reporting a problem

    return YAML(typ="rt").load(text)


@dataclass
class Source:
    """Where an item came from, so later checks can point at the right line.

    Lines are looked up in a round-trip parse of the file made on the first question,
    which only comes when there is a problem to report.
    """

    path: Path
    _node: Any = field(default=None, repr=False, compare=False)

    def line(self, loc: tuple[str | int, ...] = ()) -> int:
        """The 1-based line of the value at `loc` (a path of keys and indexes)."""
        if self._node is None:
            self._node = _round_trip(self.path.read_text(encoding="utf-8"))
        return line_of(self._node, loc)


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

    @property
    def scoring(self) -> Scoring | None:
        """The generic scoring rules every scenario gets (scoring/default.yaml)."""
        return self.items["scoring"].get("default")


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
        return parse(text), []
    except yaml.YAMLError:
        return None, [_syntax_problem(path, text)]


def _syntax_problem(path: Path, text: str) -> Problem:
    """The syntax error as the round-trip parser words and places it."""
    from ruamel.yaml.error import MarkedYAMLError

    try:
        _round_trip(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return Problem(str(path), line, f"YAML syntax: {exc.problem}", "check indentation and quoting")
    return Problem(str(path), 1, "YAML syntax: the file is not valid YAML", "check indentation and quoting")


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
    source = Source(path)
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
    if knowledge.scoring is not None:
        for scenario in knowledge.scenarios.values():
            scenario.set_scoring(knowledge.scoring)
    return knowledge, problems
