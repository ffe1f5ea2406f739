"""Diagrams of state machines (Mermaid text, or PNG/SVG through Graphviz), drawn by `transitions`
from the same spec the bot runs.

States show their titles where the content gives one, end states lead to `[*]`, and moves that
leave the customer where they are (or start from an end state) are left out, so the picture
shows the ways through the conversation.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from transitions.extensions.diagrams import HierarchicalGraphMachine
from transitions.extensions.nesting import NestedState

from dialogs.registry import DIALOGS
from knowledge.loader import Knowledge


class TitledState(NestedState):
    """A state that carries the title the diagram shows for it (no nesting: `_` is part of names)."""

    separator = "/"

    def __init__(self, *args: Any, label: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label = label


class TitledGraphMachine(HierarchicalGraphMachine):
    """The diagram machine, with titled states (it also draws `final` states into `[*]`)."""

    state_cls = TitledState


def _machine(
    title: str, states: list[dict[str, Any]], transitions: list[dict[str, Any]], initial: str, engine: Literal["mermaid", "graphviz"]
) -> TitledGraphMachine:
    """The diagram machine for one spec, drawn by `engine` (mermaid or graphviz)."""
    names = [s["name"] for s in states]
    ends = {s["name"] for s in states if s.get("final")}
    ways = []
    for t in transitions:
        sources = names if t["source"] == "*" else [t["source"]] if isinstance(t["source"], str) else t["source"]
        moving = [name for name in sources if name not in ends and name != t["dest"]]
        if moving:
            ways.append({**t, "source": moving})
    return TitledGraphMachine(
        states=states,
        transitions=ways,
        initial=initial,
        title=title,
        graph_engine=engine,
        auto_transitions=False,
        show_state_attributes=False,
    )


def _spec(name: str, knowledge: Knowledge) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]], str] | None:
    """Title, states, transitions and initial state of scenario `name` (end states titled with
    their outcome, in English) or of the dialog called `name`; None if neither exists."""
    scenario = knowledge.scenarios.get(name)
    if scenario is not None:
        states = [{"name": s.id, "final": s.outcome is not None, "label": f"{s.id}: {s.label.en}" if s.label else s.id} for s in scenario.states]
        transitions = [{"trigger": t.trigger, "source": t.source, "dest": t.dest} for t in scenario.transitions]
        return scenario.title.en, states, transitions, scenario.initial
    dialog = DIALOGS.get(name)
    if dialog is not None:
        state_names = [s if isinstance(s, str) else s["name"] for s in dialog.states]
        return dialog.name, [{"name": n, "final": n in dialog.final} for n in state_names], dialog.transitions, dialog.initial
    return None


def _quotes_curled(text: str) -> str:
    """`Put off: "maybe later"` as `Put off: “maybe later”`: a straight quote would end a Mermaid
    state's quoted title."""
    parts = text.split('"')
    return "".join(part + ("“" if i % 2 == 0 else "”") for i, part in enumerate(parts[:-1])) + parts[-1]


def mermaid(name: str, knowledge: Knowledge) -> str | None:
    """The Mermaid diagram of scenario `name` or of the dialog called `name`; None if neither exists.
    Its front matter is YAML, so the title goes in as `title: "…"` (transitions writes the line as given)."""
    spec = _spec(name, knowledge)
    if spec is None:
        return None
    title, states, transitions, initial = spec
    titled = [{**state, "label": _quotes_curled(state["label"])} if "label" in state else state for state in states]
    front = f"title: {json.dumps(title, ensure_ascii=False)}"
    return str(_machine(front, titled, transitions, initial, engine="mermaid").get_graph().draw(None))


def picture(name: str, knowledge: Knowledge, fmt: str) -> bytes | None:
    """The same diagram drawn by Graphviz as `fmt` (png or svg), end states with a double border;
    None if there is no such scenario or dialog. Needs Graphviz's `dot` (Debian: graphviz)."""
    spec = _spec(name, knowledge)
    if spec is None:
        return None
    graph = _machine(*spec, engine="graphviz").get_graph()
    for state in spec[1]:
        if state.get("final"):
            graph.node(state["name"], peripheries="2")
    return bytes(graph.pipe(format=fmt))
