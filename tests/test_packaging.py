"""`pip install .` (not editable) must carry every data file the bot reads."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("package", ["knowledge", "storage"])
def test_every_data_file_is_packaged(package: str) -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][package]
    base = ROOT / package
    packaged = {p for pattern in patterns for p in base.glob(pattern)}
    data = {p for p in base.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")}
    assert data - packaged == set()


def test_every_folder_of_python_files_is_a_package() -> None:
    """setuptools packages only folders with an __init__.py: a migration outside one would be left out."""
    folders = {path.parent for name in ("bot", "dialogs", "knowledge", "storage") for path in (ROOT / name).rglob("*.py")}
    assert {folder for folder in folders if not (folder / "__init__.py").exists()} == set()
