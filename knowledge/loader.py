"""Loading content files into validated models, with `file:line` problems.

Shipped content lives in ``knowledge/content/<kind>/*.yaml``; a company adds directories
of its own (KNOWLEDGE_DIRS) laid out the same way, whose items add to or override the
shipped ones by id.

Files are parsed with PyYAML's C loader, about eight times faster than ruamel's round-trip
loader, which was most of the bot's start-up. Only the round-trip loader keeps line
numbers, so a file is parsed with it again when a problem in it has to name a line.

A file with structure problems still yields the item its valid parts make (see `_salvage`), so
`salescoach validate` reports those problems and the cross-checks of the rest in one run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge.schema import Form, Lesson, Quiz, Scenario, Scoring, Script
from knowledge.schema_paths import LearningPath

Loc = tuple[str | int, ...]
CONTENT_DIR = Path(__file__).resolve().parent / "content"
Item = Lesson | Script | Quiz | Scenario | Form | Scoring | LearningPath  # one content file's item, known by its id
KINDS: dict[str, type[Item]] = {
    "lessons": Lesson,
    "scripts": Script,
    "quizzes": Quiz,
    "scenarios": Scenario,
    "forms": Form,
    "scoring": Scoring,
    "paths": LearningPath,
}


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a content file, said so a trainer can fix it; problems sort in file and
    line order. A `warning` does not stop the content from being used."""

    file: str
    line: int
    message: str
    hint: str = ""
    warning: bool = False

    def __str__(self) -> str:
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{self.file}:{self.line}: {'warning: ' if self.warning else ''}{self.message}{hint}"


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
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL] for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def parse(text: str) -> Any:
    """Plain Python data from YAML text, with the fast C loader."""
    return yaml.load(text, Loader=_Yaml12Loader)  # a safe loader


def _round_trip(text: str) -> Any:
    """The text parsed by ruamel's round-trip loader, whose nodes know their lines."""
    from ruamel.yaml import YAML  # only on the way to reporting a problem

    return YAML(typ="rt").load(text)


@dataclass
class Source:
    """Where an item came from, so later checks can point at the right line.

    Lines are looked up in a round-trip parse of the file made on the first question,
    which only comes when there is a problem to report. For an item salvaged from a file with
    structure problems, `kept` holds the file's indexes of the entries left in each list that lost
    some, and `left_out` every string in the parts taken out: names there count as known, so the
    cross-checks do not report a reference to a part whose own problem is reported already.
    """

    path: Path
    kept: dict[Loc, list[int]] = field(default_factory=dict, repr=False)
    left_out: frozenset[str] = frozenset()
    _node: Any = field(default=None, repr=False, compare=False)

    def line(self, loc: Loc = ()) -> int:
        """The 1-based line of the value at `loc` (a path of keys and indexes into the item)."""
        if self._node is None:
            self._node = _round_trip(self.path.read_text(encoding="utf-8"))
        return line_of(self._node, in_file(loc, self.kept))

    def index(self, loc: Loc, i: int) -> int:
        """The file's own index of entry `i` of the list at `loc` (they differ in a salvaged item)."""
        indexes = self.kept.get(in_file(loc, self.kept))
        return indexes[i] if indexes else i


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
    def paths(self) -> dict[str, LearningPath]:
        return self.items["paths"]

    @property
    def scoring(self) -> Scoring | None:
        """The generic scoring rules every scenario gets (scoring/default.yaml)."""
        return self.items["scoring"].get("default")


def line_of(node: Any, loc: Loc) -> int:
    """Walk a ruamel round-trip node along `loc` and return the deepest line known."""
    line = (node.lc.line + 1) if hasattr(node, "lc") else 1
    for key in loc:
        try:
            line = node.lc.item(key)[0] + 1 if isinstance(key, int) else node.lc.key(key)[0] + 1
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


def in_file(loc: Loc, kept: dict[Loc, list[int]]) -> Loc:
    """`loc` in a salvaged item, with each list index turned back into the file's own."""
    path: list[str | int] = []
    for key in loc:
        if isinstance(key, int) and tuple(path) in kept:
            key = kept[tuple(path)][key]
        path.append(key)
    return tuple(path)


def _without(data: Any, cut: set[Loc], kept: dict[Loc, list[int]], path: Loc = ()) -> Any:
    """`data` without the values at the `cut` locations; the file's index of every list entry
    left is recorded in `kept` for each list that lost some."""
    if isinstance(data, dict):
        return {key: _without(value, cut, kept, path + (key,)) for key, value in data.items() if path + (key,) not in cut}
    if isinstance(data, list):
        indexes = [i for i in range(len(data)) if path + (i,) not in cut]
        if len(indexes) < len(data):
            kept[path] = indexes
        return [_without(data[i], cut, kept, path + (i,)) for i in indexes]
    return data


def _deepest(data: Any, loc: Loc, cut: set[Loc]) -> Loc:
    """The longest start of `loc` that names a value in `data` not yet cut (an error's location may
    end in a key that is missing, or in the name of a union's member)."""
    path: Loc = ()
    for key in loc:
        present = key in data if isinstance(data, dict) else isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data)
        if not present or path + (key,) in cut:
            break
        data, path = data[key], path + (key,)
    return path


def _strings(value: Any) -> Iterator[str]:
    """Every string in parsed YAML, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _strings(key)
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


def _at(data: Any, loc: Loc) -> Any:
    for key in loc:
        data = data[key]
    return data


def _salvage(model: type[Item], data: dict[str, Any], errors: list[Any]) -> tuple[Item | None, dict[Loc, list[int]], frozenset[str]]:
    """The item the valid parts of `data` make, for the cross-checks; the `kept` indexes of its
    shortened lists; and every string in the parts left out. Each refused value is taken out, so a
    default applies where there is one; where that leaves a required key missing, the list entry or
    key holding it goes too. None when the top of the file itself is at fault (a required key of the
    item missing or refused)."""
    cut: set[Loc] = set()
    kept: dict[Loc, list[int]] = {}
    while True:
        faults = {_deepest(data, in_file(tuple(error["loc"]), kept), cut) for error in errors}
        if () in faults:
            return None, {}, frozenset()
        cut |= faults
        kept = {}
        try:
            item = model.model_validate(_without(data, cut, kept))
        except ValidationError as exc:
            errors = exc.errors()
            continue
        return item, kept, frozenset(text for loc in cut for text in _strings(_at(data, loc)))


def load_file(path: Path, model: type[Item]) -> tuple[Item | None, Source | None, list[Problem]]:
    """Parse and validate one file; problems name the file and line. A file with structure problems
    still gives its salvaged item (or None), so its cross-checks come out in the same run; the bot
    never runs on it, as any problem stops the start."""
    data, problems = _read(path)
    if problems:
        return None, None, problems
    source = Source(path)
    if not isinstance(data, dict):
        return None, None, [Problem(str(path), 1, "expected a mapping at the top of the file")]
    try:
        item: Item | None = model.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(str(path), source.line(tuple(err["loc"])), f"{'.'.join(map(str, err['loc'])) or 'file'}: {err['msg']}", _hint(err["type"]))
            for err in exc.errors()
        ]
        item, source.kept, source.left_out = _salvage(model, data, exc.errors())
    if item is None:
        return None, None, problems
    if item.id != path.stem:
        problems.append(
            Problem(str(path), source.line(("id",)), f"id '{item.id}' differs from the file name", f"rename the file to {item.id}.yaml or change the id")
        )
    return item, source, problems


def load_dirs(extra_dirs: list[Path] | None = None, *, shipped: bool = True) -> tuple[Knowledge, list[Problem]]:
    """Load shipped content then each extra directory; later directories override by id."""
    knowledge = Knowledge()
    problems: list[Problem] = []
    roots = ([CONTENT_DIR] if shipped else []) + list(extra_dirs or [])
    for root in roots:
        if not root.is_dir():
            problems.append(Problem(str(root), 1, "no such content folder or file", "give a folder laid out like knowledge/content, or one content file"))
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
