"""Fault injection: people play a role-play, take a quiz, fill in a need form and receive a push
while the bot is killed (kill -9) at random points, then started again; afterwards, what was
lost, stored twice, missing or shown twice is counted.

Used by tests/e2e/test_chaos.py (a fixed seed, ≥ 40 kills) and bench/chaos.py (`--kills 200`).
Each step is one thing a person does and the answer they wait for. Before a step the seeded
random generator decides whether the bot dies during it, and where:
- `random`: a random moment, 0-80 ms after the person acted;
- `handed_out`: as soon as Telegram has handed the update to the bot (it may not be stored yet);
- `before_send`: the bot's first call that would show the answer is held, unaccepted (the
  answer was committed, not yet sent);
- `after_accept`: Telegram accepts that call (the person sees it) and its answer is held (the
  bot cannot know it went out).
In each push the bot also dies twice while sending the invitations: after Telegram accepted
the first rep's, and before it accepts the second rep's. The bot is started again at once; the person waits for the answer as people do.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from tests.e2e.bot_process import BotProcess
from tests.e2e.emulator import Emulator, Limits
from tests.e2e.people import Seen, TelegramUser
from tests.e2e.steps import LANGUAGE_BUTTON, MENU_TITLE, NEED_ANSWERS

KINDS = ("random", "handed_out", "before_send", "after_accept")
# People here act at machine speed; Telegram's own per-chat limit is tested elsewhere.
LIMITS = Limits(per_chat_burst=20)
ANSWER_WAIT = 40.0  # a restart and the outbox job's next round fit well within it
PLUM_LINES = (
    "Hello! What kind of plums would you like?",
    "Why do you want sour ones?",
    "Congratulations, you'll soon be a grandmother!",
    "Let me weigh you a jin of sour plums.",
    "Kiwi fruit is full of vitamins, good for expecting mothers. Would you like a jin?",
    "I'm here every day, come again!",
)
NEED_TYPED = {
    "customer_company": "Acme Fruit",
    "situation": "Buys plums every week",
    "explicit_needs": "Delivery within two days",
    "next_step": "Call on Friday",
    "priority": "p1",
}
SKIP, SAVE, P1 = "⏭ Skip", "✅ Save", "P1 important and urgent"


class JourneyBroken(Exception):
    """A person waited in vain for an answer: the journey cannot go on."""


@dataclass
class Counts:
    """What a chaos run found; `line()` is its key=value summary."""

    kills: Counter[str] = field(default_factory=Counter)
    journeys: int = 0
    steps: int = 0
    inputs_lost: int = 0
    stored_twice: int = 0
    replies_missing: int = 0
    replies_twice: int = 0
    push_twice: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def killed(self) -> int:
        return sum(self.kills.values())

    def line(self) -> str:
        kinds = " ".join(f"kills_{kind}={self.kills[kind]}" for kind in (*KINDS, "push_before_send", "push_after_accept"))
        return (
            f"kills={self.killed} {kinds} journeys={self.journeys} steps={self.steps} inputs_lost={self.inputs_lost} "
            f"stored_twice={self.stored_twice} replies_missing={self.replies_missing} replies_twice={self.replies_twice} push_twice={self.push_twice}"
        )


class Chaos:
    """People going through the bot's main journeys while it is killed now and then."""

    def __init__(self, emulator: Emulator, bot: BotProcess, seed: int, admins: tuple[int, ...], kill_chance: float = 0.35) -> None:
        self.emulator, self.bot, self.rng, self.admins, self.kill_chance = emulator, bot, random.Random(seed), list(admins), kill_chance
        self.counts = Counts()
        self.people: list[TelegramUser] = []
        self.pushed: list[TelegramUser] = []
        self.checks: list[Callable[[Engine], None]] = []
        self._ids = iter(range(700_000, 800_000))
        self._teams = iter(range(1, 10_000))

    # --- people and steps -----------------------------------------------------------

    def person(self, name: str, user_id: int | None = None) -> TelegramUser:
        someone = self.emulator.user(user_id or next(self._ids), name, "en")
        self.people.append(someone)
        return someone

    def step(self, person: TelegramUser, act: Callable[[], None], expect: str | Callable[[Seen], bool]) -> Seen:
        """`person` acts and waits for `expect`; the bot may be killed on the way."""
        self.counts.steps += 1
        kind = self.rng.choice(KINDS) if self.rng.random() < self.kill_chance else None
        fault = self.emulator.fault("", person.id, hold="before" if kind == "before_send" else "after") if kind in ("before_send", "after_accept") else None
        handed = len(self.emulator.handed_out)
        act()
        if kind == "random":
            time.sleep(self.rng.uniform(0, 0.08))
            self.kill(kind)
        elif kind == "handed_out":
            self.emulator.wait_until(lambda: len(self.emulator.handed_out) > handed, 10)
            self.kill(kind)
        elif kind is not None and fault is not None:
            if self.emulator.wait_until(lambda: fault.arrived, 10):
                self.kill(kind)
                self.emulator.hang_up(fault)
            else:
                self.emulator.withdraw(fault)
        return self.wait(person, expect)

    def wait(self, person: TelegramUser, expect: str | Callable[[Seen], bool]) -> Seen:
        """What `person` waits for; a missing answer is counted and breaks the journey."""
        try:
            return person.wait_for(expect, ANSWER_WAIT)
        except AssertionError as exc:
            self.counts.replies_missing += 1
            self.counts.problems.append(f"{person.name}: {exc}")
            raise JourneyBroken from exc

    def kill(self, kind: str) -> None:
        self.counts.kills[kind] += 1
        self.bot.kill()
        self.bot.start()

    def join(self, person: TelegramUser, code: str = "") -> TelegramUser:
        self.step(person, lambda: person.send(f"/start {code}".strip()), LANGUAGE_BUTTON["en"])
        self.step(person, lambda: person.press(LANGUAGE_BUTTON["en"]), MENU_TITLE["en"])
        return person

    # --- the journeys ---------------------------------------------------------------

    def roleplay(self) -> None:
        """The plum case's third vendor, line by line, to the scorecard."""
        rep = self.join(self.person("Rita"))
        self.step(rep, lambda: rep.send("/roleplay plum"), "Granny Li:")
        for line in PLUM_LINES[:-1]:
            self.step(rep, lambda line=line: rep.send(line), "Granny Li:")  # type: ignore[misc]
        self.step(rep, lambda: rep.send(PLUM_LINES[-1]), "Scorecard")

        def check(db: Engine) -> None:
            with db.connect() as connection:
                said = (
                    connection.execute(
                        text("SELECT t.rep_text FROM roleplayturn t JOIN roleplay r ON r.id = t.roleplay_id WHERE r.user_id = :u ORDER BY t.number"),
                        {"u": rep.id},
                    )
                    .scalars()
                    .all()
                )
            self.compare(f"{rep.name}'s role-play turns", list(said), list(PLUM_LINES))

        self.checks.append(check)

    def quiz(self) -> None:
        """The three-question demo quiz, all answers right."""
        rep = self.join(self.person("Quinn"))
        self.step(rep, lambda: rep.send("/quiz demo_quiz"), "question 1/3")
        self.step(rep, lambda: rep.press("B"), "question 2/3")
        self.step(rep, lambda: rep.press("▫️ A"), "Selected: A")
        self.step(rep, lambda: rep.press("▫️ C"), "Selected: A, C")
        self.step(rep, lambda: rep.press("Submit"), "question 3/3")
        self.step(rep, lambda: rep.press("✔ True"), "Demo quiz: 100/100")

        def check(db: Engine) -> None:
            with db.connect() as connection:
                answers = (
                    connection.execute(
                        text("SELECT a.question_id FROM quizanswer a JOIN quizattempt q ON q.id = a.attempt_id WHERE q.user_id = :u ORDER BY a.question_id"),
                        {"u": rep.id},
                    )
                    .scalars()
                    .all()
                )
                finished = connection.execute(
                    text("SELECT count(*) FROM quizattempt WHERE user_id = :u AND finished_at IS NOT NULL"), {"u": rep.id}
                ).scalar_one()
            self.compare(f"{rep.name}'s quiz answers", [*answers, f"finished {finished}"], ["demo01", "demo02", "demo03", "finished 1"])

        self.checks.append(check)

    def need(self) -> None:
        """A need logged with the guided form: typed answers, skips, a priority, Save."""
        rep = self.join(self.person("Nadia"))
        self.step(rep, lambda: rep.send("/need"), "Field 1/15")
        for number, answer in enumerate(NEED_ANSWERS, start=2):
            act = (lambda: rep.press(SKIP)) if answer is None else (lambda answer=answer: rep.send(answer))  # type: ignore[misc]
            self.step(rep, act, f"Field {number}/15")
        self.step(rep, lambda: rep.press(P1), "Field 15/15")
        self.step(rep, lambda: rep.press(SKIP), "Customer company")
        self.step(rep, lambda: rep.press(SAVE), "Reference number")

        def check(db: Engine) -> None:
            with db.connect() as connection:
                needs = connection.execute(text("SELECT fields FROM need WHERE rep_id = :u"), {"u": rep.id}).scalars().all()
            stored = [{key: fields.get(key) for key in NEED_TYPED} for fields in map(json.loads, needs)]
            self.compare(f"{rep.name}'s needs", stored, [NEED_TYPED])

        self.checks.append(check)

    def push(self) -> None:
        """An admin sets up a team, a trainer and two reps join it, the trainer pushes the demo quiz."""
        admin = self.join(self.person("Ada", self.admins.pop()))
        team = f"chaos{next(self._teams)}"
        self.step(admin, lambda: admin.send(f"/team create {team}"), f'Team "{team}" created')
        link = self.step(admin, lambda: admin.send(f"/invite trainer {team} 1"), "?start=").text
        trainer = self.join(self.person("Tom"), link.split("?start=")[1].split()[0])
        link = self.step(trainer, lambda: trainer.send(f"/invite rep {team} 2"), "?start=").text
        reps = [self.join(self.person(f"Pia{i}"), link.split("?start=")[1].split()[0]) for i in range(2)]
        self.pushed += reps
        invitations = [self.emulator.fault("sendMessage", reps[0].id, hold="after"), self.emulator.fault("sendMessage", reps[1].id, hold="before")]
        trainer.send(f"/push demo_quiz {team}")
        for kind, invitation in zip(("push_after_accept", "push_before_send"), invitations, strict=True):
            if self.emulator.wait_until(lambda invitation=invitation: invitation.arrived, 15):  # type: ignore[misc]
                self.kill(kind)
                self.emulator.hang_up(invitation)
            else:
                self.emulator.withdraw(invitation)
        self.wait(trainer, "Push complete: 2 delivered")
        for rep in reps:
            self.wait(rep, "Your trainer has sent you a quiz")

    # --- running and counting -------------------------------------------------------

    def compare(self, what: str, stored: Sequence[object], expected: Sequence[object]) -> None:
        """Stored records against what the people did: a record twice, or one missing."""
        if stored == expected:
            return
        extra = sum((Counter(map(repr, stored)) - Counter(map(repr, expected))).values())
        missing = sum((Counter(map(repr, expected)) - Counter(map(repr, stored))).values())
        self.counts.stored_twice += extra
        self.counts.inputs_lost += missing
        self.counts.problems.append(f"{what}: stored {stored!r}, expected {expected!r}")

    def run(self, kills: int) -> Counts:
        """Journeys in turn until the bot has been killed `kills` times; then everything is counted."""
        journeys = [self.roleplay, self.quiz, self.need, self.push]
        while self.counts.killed < kills:
            journey = journeys[self.counts.journeys % len(journeys)]
            self.counts.journeys += 1
            with contextlib.suppress(JourneyBroken):
                journey()
        self.settle()
        self.count()
        return self.counts

    def settle(self, seconds: float = 10.0) -> None:
        """Waits until the bot has handled every update and sent everything it owes."""
        db = self.database()
        deadline = time.monotonic() + seconds
        with db.connect() as connection:
            while time.monotonic() < deadline:
                open_calls = connection.execute(
                    text(
                        "SELECT (SELECT count(*) FROM inboxupdate) + (SELECT count(*) FROM outboxmessage WHERE status IN ('pending', 'sending')) + (SELECT count(*) FROM delivery WHERE status IN ('pending', 'sending'))"
                    )
                ).scalar_one()
                if not open_calls:
                    break
                time.sleep(0.2)
                connection.rollback()
        time.sleep(0.5)
        db.dispose()

    def database(self) -> Engine:
        return create_engine(f"sqlite:///{self.bot.workdir / 'bot.db'}")

    def count(self) -> None:
        """Inputs lost (an update Telegram handed over that the bot never handled), records
        stored twice or missing, and answers shown twice."""
        db = self.database()
        with db.connect() as connection:
            handled = set(connection.execute(text("SELECT update_id FROM processedupdate")).scalars())
        lost = [u for u in self.emulator.queued if u not in handled]
        self.counts.inputs_lost += len(lost)
        if lost:
            self.counts.problems.append(f"updates never handled: {lost}")
        for check in self.checks:
            check(db)
        db.dispose()
        for person in self.people:
            shown = Counter((s.text, s.buttons) for s in self.emulator.on_loop(self.emulator.seen, person.id) if s.kind in ("message", "document", "photo"))
            twice = sum(n - 1 for n in shown.values())
            if person in self.pushed:
                extra = sum(n - 1 for (words, _), n in shown.items() if "Your trainer has sent you a quiz" in words)
                self.counts.push_twice += extra
                twice -= extra
            self.counts.replies_twice += twice
            if twice:
                self.counts.problems.append(f"{person.name} saw twice: {[t[0][:60] for t, n in shown.items() if n > 1]}")
