"""The house keeps its rooms: features do not import each other, only bot/ speaks Telegram, no import circles."""

from __future__ import annotations

from pathlib import Path

from tests.layout_rules import cycles, violations

ROOT = Path(__file__).resolve().parent.parent
PLANTED = Path(__file__).resolve().parent / "fixtures" / "layout_violations"


def test_the_real_tree_keeps_the_layering_rules() -> None:
    """No feature reaches into another, core and understanding import no feature, only bot/ imports telegram."""
    assert violations(ROOT) == []


def test_no_module_imports_itself_through_other_modules() -> None:
    """The import graph of bot/, dialogs/, knowledge/ and storage/ has no cycle."""
    assert cycles(ROOT) == []


def test_a_planted_violation_is_named_with_its_file_and_import() -> None:
    """The fixture tree breaks each rule once; the message names the file, the line and the import."""
    found = violations(PLANTED)
    assert any(
        p.startswith("dialogs/quiz/leaky.py:3: imports dialogs.roleplay.customer") and "feature quiz may not import feature roleplay" in p for p in found
    ), found
    assert any(p.startswith("dialogs/core/chatty.py:3: imports telegram") and "only bot/ may import telegram" in p for p in found), found
    assert any(p.startswith("dialogs/core/chatty.py:4: imports dialogs.roleplay.customer") and "ground floor" in p for p in found), found
    assert any(p.startswith("storage/upward.py:3: imports dialogs.engine") for p in found), found
    assert not any("reports" in p for p in found), found


def test_a_planted_cycle_is_found() -> None:
    """Two fixture modules that import each other make one cycle."""
    assert cycles(PLANTED) == [["dialogs.roleplay.customer", "dialogs.roleplay.scorecard"]]
