"""Each dialog names its machine's triggers for the type checker (`name: Trigger`); the names it
declares are exactly the triggers its machine binds, so a trigger call mypy accepts is one that runs."""

from __future__ import annotations

import inspect

from dialogs.core.base import Dialog, Trigger
from dialogs.registry import DIALOGS


def declared_triggers(dialog: type[Dialog]) -> set[str]:
    """The names the dialog class declares as triggers."""
    return {name for name, kind in inspect.get_annotations(dialog, eval_str=True).items() if kind == Trigger}


def test_every_dialog_declares_exactly_the_triggers_its_machine_binds() -> None:
    differing = {d.name: (sorted(declared_triggers(d)), sorted(d.machine.events)) for d in DIALOGS.values() if declared_triggers(d) != set(d.machine.events)}
    assert differing == {}


def test_a_trigger_left_undeclared_is_found() -> None:
    class Quiet(Dialog):
        states = ["waiting", "done"]
        transitions = [{"trigger": "wake", "source": "waiting", "dest": "done"}]
        initial = "waiting"

    assert declared_triggers(Quiet) == set() != set(Quiet.machine.events)
