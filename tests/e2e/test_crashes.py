"""The bot killed (kill -9) at the worst moments, and Telegram in trouble: nothing the rep sent
is lost, every reply arrives, one rep's trouble holds up nobody else."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.e2e.bot_process import BotProcess
from tests.e2e.emulator import ApiError
from tests.e2e.people import Seen, TelegramUser
from tests.e2e.scene import Scene
from tests.e2e.steps import join

RESTARTED = 30.0  # the bot starts again and the outbox job picks up what was left


def help_answers(seen: list[Seen]) -> int:
    return sum(1 for s in seen if s.kind == "message" and "/lang" in s.text)


def help_answers_to(telegram: Scene, rep: TelegramUser) -> Callable[[], int]:
    """How many /help answers the rep has seen since their last action (run on the emulator's loop)."""
    return lambda: help_answers(telegram.emulator.seen(rep.id)[rep.mark :])


def test_a_message_whose_handling_was_cut_short_by_kill_9_is_answered_after_the_restart(bot: BotProcess, telegram: Scene) -> None:
    rep = join(telegram.user("Kai", "en"))
    handed = len(telegram.emulator.handed_out)
    rep.send("/help")
    telegram.emulator.wait_until(lambda: len(telegram.emulator.handed_out) > handed)
    bot.kill()
    bot.start()
    rep.wait_for("/lang", RESTARTED)
    time.sleep(0.5)
    assert help_answers(rep.messages()) == 1


def test_a_reply_committed_but_not_yet_sent_at_kill_9_arrives_after_the_restart(bot: BotProcess, telegram: Scene) -> None:
    rep = join(telegram.user("Lan", "en"))
    held = telegram.emulator.fault("sendMessage", rep.id, hold="before")
    rep.send("/help")
    telegram.emulator.wait_until(lambda: held.arrived)
    bot.kill()
    telegram.emulator.hang_up(held)
    bot.start()
    rep.wait_for("/lang", RESTARTED)
    time.sleep(0.5)
    assert help_answers(rep.messages()) == 1


def test_a_reply_telegram_accepted_just_before_kill_9_is_sent_once_more_at_most(bot: BotProcess, telegram: Scene) -> None:
    rep = join(telegram.user("Mei", "en"))
    held = telegram.emulator.fault("sendMessage", rep.id, hold="after")
    rep.send("/help")
    rep.wait_for("/lang")
    bot.kill()
    telegram.emulator.hang_up(held)
    bot.start()
    telegram.emulator.wait_until(lambda: help_answers_to(telegram, rep)() == 2, RESTARTED)
    time.sleep(0.5)
    assert held.arrived == 1 and help_answers(rep.messages()) == 2, "the one message in flight, twice: the bot cannot know Telegram took it"


def test_a_429_for_one_rep_does_not_delay_another(telegram: Scene) -> None:
    limited, other = join(telegram.user("Nan", "en")), join(telegram.user("Ole", "en"))
    injected = len(telegram.emulator.injected)
    telegram.emulator.fault("sendMessage", limited.id, error=ApiError(429, "Too Many Requests: retry after 4", retry_after=4))
    limited.send("/help")
    telegram.emulator.wait_until(lambda: len(telegram.emulator.injected) > injected)
    refused_at = time.monotonic()
    other.send("/help")
    other.wait_for("/lang")
    assert time.monotonic() - refused_at < 2.5
    limited.wait_for("/lang")
    assert time.monotonic() - refused_at >= 4
