"""A scene: Telegram during one scenario, with the bot running, and the people in it."""

from __future__ import annotations

import itertools
from dataclasses import replace

from tests.e2e.bot_process import BotProcess
from tests.e2e.emulator import Emulator
from tests.e2e.people import TelegramUser

TOLERATED = (403, 429)
USERS_PER_SCENE = 100


class Scene:
    """Telegram during one scenario, with the bot running: hands out new people."""

    def __init__(self, emulator: Emulator, bot: BotProcess, number: int, admin_id: int) -> None:
        self.emulator, self.bot, self.number = emulator, bot, number
        self._ids = itertools.count(10_000 + number * USERS_PER_SCENE)
        self._admin_id = admin_id
        self._errors_before = len(emulator.errors)
        self._log_before = len(bot.log())

    def user(self, name: str, lang: str = "zh") -> TelegramUser:
        """Someone the bot has never seen, whose Telegram app is set to `lang`."""
        return self.emulator.user(next(self._ids), name, lang)

    def admin(self, name: str = "Boss", lang: str = "en") -> TelegramUser:
        """An admin (listed in ADMIN_IDS) the bot has never seen; one per scene."""
        return self.emulator.user(self._admin_id, name, lang)

    def unique(self, name: str) -> str:
        """`name` made unique to this scene (for teams and the like, which the bot keeps)."""
        return f"{name}{self.number}"

    def limits(self, **changes: float) -> None:
        """Changes Telegram's limits for the rest of the scene, e.g. `per_chat_burst=1`
        (people who appear from now on get them)."""
        self.emulator.limits = replace(self.emulator.limits, **changes)

    def refused(self, code: int) -> int:
        """How many calls Telegram refused with `code` (e.g. 429) during the scene."""
        return sum(1 for e in self.emulator.errors[self._errors_before :] if e[1] == code)

    def refusals(self) -> list[tuple[str, int, str]]:
        """What Telegram refused during the scene, apart from rate limits, blocked users, and
        button presses answered a second time (an answer the bot made again after a restart,
        not knowing Telegram had taken the first: nobody sees anything of it)."""
        return [
            e for e in self.emulator.errors[self._errors_before :] if e[1] not in TOLERATED and "not modified" not in e[2] and "query is too old" not in e[2]
        ]

    def log(self) -> str:
        """What the bot logged during the scene."""
        return self.bot.log()[self._log_before :]
