"""The layering rules of the code base, checked over the import graph (used by tests/test_layout.py).

Features live in `dialogs/<feature>/` and import `dialogs.core`, `dialogs.understanding`,
`knowledge` and `storage`, never each other (`reports` may read every feature). `core`,
`understanding` and `pictures` import no feature and not the composition root (`dialogs.engine`, `router`,
`registry`, `diagrams`); `knowledge` and `storage` import no `dialogs`; only `bot/` imports
`telegram`. Imports under `if TYPE_CHECKING:` are for type checkers only and are not counted.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("bot", "dialogs", "knowledge", "storage")
FEATURES = frozenset({"coach", "roleplay", "quiz", "review", "needs", "people", "reports"})
GROUND = frozenset({"core", "understanding", "pictures"})
ROOT_MODULES = frozenset({"engine", "router", "registry", "diagrams"})
READS_EVERY_FEATURE = "reports"


@dataclass(frozen=True)
class Import:
    """One import statement: the importing file, its line, and the module it names."""

    path: Path
    line: int
    module: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: imports {self.module}"


def module_name(root: Path, path: Path) -> str:
    """`dialogs/quiz/push.py` -> `dialogs.quiz.push`; a package's `__init__.py` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports_in(tree: ast.AST) -> Iterator[tuple[int, list[str]]]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            continue
        if isinstance(node, ast.Import):
            yield node.lineno, [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            yield from _imports_in(node)


def imports(root: Path) -> list[Import]:
    """Every import in the project's packages under `root`, function-level ones included."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for line, names in _imports_in(tree):
                found += [Import(path.relative_to(root), line, name) for name in names]
    return found


def _layer(module: str) -> tuple[str, str | None]:
    """('dialogs', 'quiz') for dialogs.quiz.push, ('dialogs', None) for dialogs.engine, ('bot', None) …"""
    parts = module.split(".")
    if parts[0] == "dialogs" and len(parts) > 1 and (parts[1] in FEATURES or parts[1] in GROUND):
        return "dialogs", parts[1]
    return parts[0], None


def violations(root: Path) -> list[str]:
    """Each import that breaks a layering rule, as `file:line: imports X (why)`."""
    problems = []
    for imp in imports(root):
        source_top, source_room = _layer(module_name(root, root / imp.path))
        target_top, target_room = _layer(imp.module)
        why = None
        if target_top == "telegram" and source_top != "bot":
            why = "only bot/ may import telegram"
        elif source_top in ("knowledge", "storage") and target_top == "dialogs":
            why = f"{source_top}/ may not import dialogs"
        elif source_top == "dialogs" and source_room is not None and target_top == "dialogs" and target_room is None:
            if imp.module.split(".")[1] in ROOT_MODULES:
                why = "only the composition root (engine, router, registry, diagrams) may import the composition root"
        elif source_room in GROUND and target_room in FEATURES:
            why = f"dialogs/{source_room} is ground floor and may not import a feature"
        elif source_room == "understanding" and target_room == "core":
            why = "dialogs/understanding reads text and may not import dialogs/core"
        elif source_room in FEATURES and target_room in FEATURES and source_room != target_room and source_room != READS_EVERY_FEATURE:
            why = f"feature {source_room} may not import feature {target_room} (share through dialogs/core or storage/)"
        if why:
            problems.append(f"{imp} ({why})")
    return problems


def cycles(root: Path) -> list[list[str]]:
    """Groups of project modules that import themselves through a chain of other modules."""
    modules = {module_name(root, p) for package in PACKAGES for p in (root / package).rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for imp in imports(root):
        source = module_name(root, root / imp.path)
        if imp.module in modules and imp.module != source:
            graph[source].add(imp.module)
    return [sorted(group) for group in _strongly_connected(graph) if len(group) > 1]


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively (the import graph is small, recursion depth is not the concern)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(group)
    return groups
