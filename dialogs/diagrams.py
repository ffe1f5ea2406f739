"""Mermaid diagrams of state machines, drawn by `transitions` from the same spec the bot runs."""

from __future__ import annotations

from typing import Any

from transitions.extensions.diagrams import GraphMachine

from dialogs.registry import DIALOGS
from knowledge.loader import Knowledge


def _draw(title: str, states: list[Any], transitions: list[dict[str, Any]], initial: str) -> str:
    machine = GraphMachine(
        states=states,
        transitions=transitions,
        initial=initial,
        title=title,
        graph_engine="mermaid",
        auto_transitions=False,
        show_state_attributes=False,
    )
    return str(machine.get_graph().draw(None))


def mermaid(name: str, knowledge: Knowledge) -> str | None:
    """The diagram of scenario `name`, or of the dialog called `name`; None if neither exists."""
    scenario = knowledge.scenarios.get(name)
    if scenario is not None:
        transitions = [{"trigger": t.trigger, "source": t.source, "dest": t.dest} for t in scenario.transitions]
        return _draw(scenario.title.en, [s.id for s in scenario.states], transitions, scenario.initial)
    dialog = DIALOGS.get(name)
    if dialog is not None:
        return _draw(dialog.name, dialog.states, dialog.transitions, dialog.initial)
    return None
