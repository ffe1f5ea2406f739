"""The Dialog base: a `transitions` machine declared as data, one per dialog kind.

A dialog subclass lists its states and transitions as data. One Machine serves every
user: for each event a small model is made from the user's saved state, added to the
machine, driven, and removed again; the engine then saves the new state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

from transitions import Machine

from dialogs.core.callback import Press
from dialogs.core.context import Ctx
from dialogs.core.events import PollVote

_MACHINE_LOCK = threading.Lock()
# A trigger of a dialog's machine, which the machine binds on each model: calling it moves the
# dialog (True once moved). A dialog names its triggers with this type so the type checker knows them.
Trigger = Callable[..., bool]


class Dialog:
    """A conversation a user can be in. Subclasses declare `states` and `transitions`."""

    name: ClassVar[str]
    command: ClassVar[str]
    menu_label: ClassVar[str | None] = None
    states: ClassVar[list[Any]]
    transitions: ClassVar[list[dict[str, Any]]]
    initial: ClassVar[str]
    final: ClassVar[frozenset[str]] = frozenset()
    stale_notices: ClassVar[dict[str, str]] = {}
    # States in which a typed line is answered in a few milliseconds (no file, no long read): the
    # bot may then answer it on its event loop, without a thread hop (Engine.handle_here).
    quick_states: ClassVar[frozenset[str]] = frozenset()
    machine: ClassVar[Machine]

    state: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.machine = Machine(
            model=None,
            states=cls.states,
            transitions=cls.transitions,
            initial=cls.initial,
            auto_transitions=False,
        )

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx

    @property
    def data(self) -> dict[str, Any]:
        """This dialog's saved data (JSON-serialisable)."""
        return self.ctx.snap.data

    @classmethod
    def drive(cls, ctx: Ctx, step: str, *args: Any) -> Any:
        """Run one entry point (`begin`, `on_text`, `on_press`) for the user, then record the state."""
        fresh = ctx.snap.dialog != cls.name
        if fresh:
            ctx.snap.clear()
        model = cls(ctx)
        with _MACHINE_LOCK:
            cls.machine.add_model(model, initial=cls.initial if fresh else (ctx.snap.state or cls.initial))
        try:
            result = getattr(model, step)(*args)
        finally:
            with _MACHINE_LOCK:
                cls.machine.remove_model(model)
        if model.state in cls.final:
            ctx.snap.clear()
        else:
            ctx.snap.dialog, ctx.snap.state = cls.name, model.state
        return result

    @classmethod
    def in_menu(cls, ctx: Ctx) -> bool:
        """True if the main menu offers this dialog to the user (when it has a menu label)."""
        return cls.menu_label is not None

    def begin(self, args: str) -> None:
        """The user started this dialog (by command or menu button)."""
        raise NotImplementedError

    def on_text(self, text: str) -> None:
        """The user typed text while in this dialog."""
        raise NotImplementedError

    def on_cancel(self) -> None:
        """The user typed /cancel: a dialog with something half-done may wrap it up (nothing by default)."""

    def on_press(self, press: Press) -> bool:
        """The user pressed one of this dialog's current buttons; False if it is not ours."""
        raise NotImplementedError

    def on_vote(self, vote: PollVote) -> bool:
        """The user voted in a quiz poll; False if it is not this dialog's current poll (no dialog has one by default)."""
        return False
