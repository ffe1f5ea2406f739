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


def test_the_docker_image_can_draw_pictures_and_holds_every_package() -> None:
    """`salescoach graph --format png` in the image needs Debian's graphviz (dot) and the Python
    graphviz package; the image copies every package pyproject.toml installs."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    installed = {
        word
        for line in dockerfile.splitlines()
        if "apt-get install" in line
        for word in line.split("apt-get install", 1)[1].split("&&")[0].split()
        if not word.startswith("-")
    }
    assert "graphviz" in installed
    assert any(dependency.startswith("graphviz") for dependency in project["project"]["dependencies"])
    copied = {line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ")}
    packages = {name.rstrip("*") for name in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= copied


def test_every_folder_of_python_files_is_a_package() -> None:
    """setuptools packages only folders with an __init__.py: a migration outside one would be left out."""
    folders = {path.parent for name in ("bot", "dialogs", "knowledge", "storage") for path in (ROOT / name).rglob("*.py")}
    assert {folder for folder in folders if not (folder / "__init__.py").exists()} == set()
