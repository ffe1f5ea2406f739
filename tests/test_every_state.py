"""Every command works from every state of every dialog: the dialog is left, resumed or
restarted cleanly, never crashed.

A seeded random walk (an admin, who may use everything, pressing the buttons shown and
typing) reaches the states of every dialog and keeps a real saved state for each; then
every command (and the menu's buttons) is sent from each of those states.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session

from dialogs.core.events import Reply
from dialogs.engine import Engine
from dialogs.registry import DIALOGS
from storage.access import add_member, create_team
from storage.dialog_state import load_state
from storage.models import DialogState, utcnow
from storage.reviews import SPIN, missed
from tests.chat import Chat
from tests.needs_helpers import EN_ANSWERS, answer_all, log_need

ADMIN = 42
TYPED = [
    "plum_case",
    "plum",
    "east",
    "all",
    "3d",
    "hello",
    "What do you usually cook with plums?",
    "How many plums do you buy a week?",
    "Acme Fruit Ltd",
    "50k",
    "2026-03-15",
    "price, supply",
    "tag:price",
    "skip",
    "1",
    "create west",
    "role 4 manager add",
    "quiz_b_need_oriented_selling",
]
COMMANDS = [
    "/start",
    "/help",
    "/menu",
    "/cancel",
    "/lang",
    "/whoami",
    "/me",
    "/hint",
    "/end",
    "/export",
    "/audit",
    "/invite rep east",
    *[f"/{d.command}" for d in DIALOGS.values()],
    "/quiz plum_case",
    "/roleplay plum",
    "/push plum_case east",
    "/results plum_case",
]
MENU = "1|g|go:{}"
TRANSIENT = {("need", "starting"), ("spin", "starting")}  # left within the event that enters them
Saved = tuple[str, str, dict]


def walk(chat: Chat, start: Callable[[Chat], object], steps: int, seed: int) -> dict[tuple[str, str], Saved]:
    """`start`, then presses, typing and commands chosen at random; the first saved state seen per (dialog, state)."""
    rng = random.Random(seed)
    seen: dict[tuple[str, str], Saved] = {}
    for step in range(steps):
        roll = rng.random()
        if step == 0:
            start(chat)
        elif roll < 0.03:
            chat.send(rng.choice(COMMANDS[7:]))
        elif roll < 0.75 and chat.buttons:
            chat.send(f"/{rng.randrange(len(chat.buttons)) + 1}")
        else:
            chat.send(rng.choice(TYPED))
        with Session(chat.engine.db) as session:
            snap = load_state(session, chat.user_id)
        if snap.dialog:
            seen.setdefault((snap.dialog, snap.state), (snap.dialog, snap.state, snap.data))
    return seen


def fill_need_form(chat: Chat) -> None:
    """A need form filled in up to its summary, in English (a draft kept from the walk is started over)."""
    chat.send("/lang")
    chat.press("English")
    chat.send("/need")
    if any(b.label == "🔄 Start over" for b in chat.buttons):
        chat.press("🔄 Start over")
    answer_all(chat, EN_ANSWERS, "en")


def review_due(chat: Chat) -> None:
    """/review with an item due: a problem question the admin missed in practice two days ago."""
    with Session(chat.engine.db) as session:
        missed(session, chat.user_id, SPIN, "problem", "spin", utcnow() - timedelta(days=2))
        session.commit()
    chat.send("/review")


def press_first(chat: Chat, action: str) -> None:
    """Press the first current button whose action starts with `action`, if there is one."""
    number = next((n for n, b in enumerate(chat.buttons, 1) if b.action.startswith(action)), None)
    if number is not None:
        chat.send(f"/{number}")


def restore(engine: Engine, user_id: int, saved: Saved) -> None:
    """Put the user back into a state the walk reached (a new version, so no button is current)."""
    dialog, state, data = saved
    with Session(engine.db) as session:
        session.execute(
            update(DialogState).where(DialogState.user_id == user_id).values(dialog=dialog, state=state, data=data, version=DialogState.version + 1)
        )
        session.commit()


def shown_something(replies: list[Reply]) -> bool:
    return any(r.command_menu is None for r in replies)


def test_every_command_and_menu_button_works_from_every_state_of_every_dialog(engine: Engine) -> None:
    with Session(engine.db) as session:
        team = create_team(session, "east")
        add_member(session, ADMIN, team.id or 0)
        add_member(session, 4, team.id or 0)
        session.commit()
    Chat(engine, 4, lang="en").send("/help")
    admin = Chat(engine, ADMIN, lang="en")
    admin.send("/start")
    admin.press("English")
    log_need(admin)
    starts: list[Callable[[Chat], object]] = [
        fill_need_form,
        lambda chat: (fill_need_form(chat), chat.press("✏ Edit")),
        lambda chat: (chat.send("/needs"), press_first(chat, "vo:")),
    ]
    starts += [lambda chat: (chat.send("/needs"), press_first(chat, "vf"), press_first(chat, "vk:text")), review_due]
    starts += [lambda chat, d=d: chat.send(f"/{d.command}") for d in DIALOGS.values()]
    seen: dict[tuple[str, str], Saved] = {}
    for seed in range(6):
        for start in starts:
            for key, saved in walk(admin, start, 40, seed).items():
                seen.setdefault(key, saved)
    expected = {(d.name, s if isinstance(s, str) else s["name"]) for d in DIALOGS.values() for s in d.states}
    expected -= {(d.name, s) for d in DIALOGS.values() for s in d.final} | TRANSIENT
    assert sorted(expected - set(seen)) == [], f"the walk did not reach {sorted(expected - set(seen))}"

    menu = [MENU.format(d.command) for d in DIALOGS.values() if d.menu_label] + [MENU.format("lang"), MENU.format("help")]
    failures: list[str] = []
    for (dialog, state), saved in sorted(seen.items()):
        for line in COMMANDS + menu:
            restore(engine, ADMIN, saved)
            try:
                replies = admin.press_data(line) if line in menu else admin.send(line)
            except Exception as exc:  # noqa: BLE001 - every failure is collected and reported together
                failures.append(f"{dialog}/{state} then {line}: {type(exc).__name__}: {exc}")
                continue
            if not shown_something(replies):
                failures.append(f"{dialog}/{state} then {line}: no answer")
    assert failures == []
