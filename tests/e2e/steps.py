"""Steps many scenarios share: joining, inviting, setting up a team. Each is what a person does."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.e2e.people import TelegramUser
from tests.e2e.scene import Scene

LANGUAGE_BUTTON = {"en": "English", "zh": "中文"}
MENU_TITLE = {"en": "Main menu", "zh": "主菜单"}
# What a rep types into /need's first 13 fields (the customer's company first), None where they press Skip.
NEED_ANSWERS: tuple[str | None, ...] = (
    "Acme Fruit",
    None,
    None,
    None,
    "Buys plums every week",
    None,
    None,
    "Delivery within two days",
    None,
    None,
    None,
    None,
    "Call on Friday",
)


def join(person: TelegramUser, code: str = "") -> TelegramUser:
    """Opens the bot (by an invitation link when `code` is given) and picks their language."""
    person.send(f"/start {code}".strip())
    person.wait_for(LANGUAGE_BUTTON["en"])
    person.press(LANGUAGE_BUTTON[person.lang])
    person.wait_for(MENU_TITLE[person.lang])
    return person


def invite(inviter: TelegramUser, role: str, team: str, uses: int = 1) -> str:
    """Creates an invitation link with /invite and returns its code."""
    inviter.send(f"/invite {role} {team} {uses}")
    link = inviter.wait_for("?start=").text
    match = re.search(r"\?start=(\S+)", link)
    assert match, link
    return match.group(1)


@dataclass
class Team:
    """An admin, and a trainer and reps who joined team `name` by invitation links."""

    name: str
    admin: TelegramUser
    trainer: TelegramUser
    reps: list[TelegramUser]


def team_with_reps(telegram: Scene, name: str = "east", reps: int = 2) -> Team:
    """The admin creates a team (`name`, made unique to the scene) and invites a trainer, who
    invites the reps; everyone has chosen English."""
    name = telegram.unique(name)
    admin = join(telegram.admin())
    admin.send(f"/team create {name}")
    admin.wait_for(f'Team "{name}" created')
    trainer = join(telegram.user("Tina", "en"), invite(admin, "trainer", name))
    code = invite(trainer, "rep", name, reps)
    people = [join(telegram.user(f"Rep{i + 1}", "en"), code) for i in range(reps)]
    return Team(name, admin, trainer, people)
