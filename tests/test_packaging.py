"""`pip install .` (not editable) must carry every data file the bot reads."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_every_knowledge_data_file_is_packaged() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["knowledge"]
    base = ROOT / "knowledge"
    packaged = {p for pattern in patterns for p in base.glob(pattern)}
    data = {p for p in base.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")}
    assert data - packaged == set()
