"""Every package the code imports is declared in pyproject.toml, below its next major version, so
`pip install .` on a fresh machine brings everything the bot runs on; PostgreSQL's driver is the
`postgres` extra, and a PostgreSQL DATABASE_URL without it says how to install it."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.layout_rules import PACKAGES, imports

ROOT = Path(__file__).parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def canonical(name: str) -> str:
    """A distribution's name as package indexes compare them (PEP 503): `ruamel.yaml` = `ruamel-yaml`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(*groups: str) -> dict[str, str]:
    """The requirements of the main dependencies (group "") and of the extras named, by canonical name."""
    lines = [line for group in groups for line in (PROJECT["dependencies"] if group == "" else PROJECT["optional-dependencies"][group])]
    return {canonical(re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0]): line for line in lines}


def test_every_third_party_import_is_declared() -> None:
    distributions = packages_distributions()
    declared = requirements("", "postgres")
    missing: dict[str, str] = {}
    for imported in imports(ROOT):
        top = imported.module.split(".")[0]
        if top in sys.stdlib_module_names or top in PACKAGES or top == "__future__":
            continue
        names = [canonical(name) for name in distributions.get(top, [top])]
        if not set(names) & set(declared):
            missing.setdefault(top, f"{top} ({', '.join(names)}), imported at {imported.path}:{imported.line}")
    assert sorted(missing.values()) == [], "declare these in pyproject.toml's dependencies"


def test_every_declared_package_has_an_upper_bound() -> None:
    unbounded = [line for name, line in requirements("", "postgres", "test").items() if "<" not in line and name != "salescoach"]
    assert unbounded == []


def test_postgresql_without_its_driver_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.settings.find_spec", lambda name: None)
    with pytest.raises(ValueError, match=r"PostgreSQL's driver is not installed; install SalesCoach with it: pip install 'salescoach\[postgres\]'"):
        Settings(_env_file=None, database_url="postgresql+psycopg://coach@db/coach")
