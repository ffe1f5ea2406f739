"""End-to-end scenarios: people talk to the real bot process over HTTP, as on Telegram.

Each runs twice, with the bot polling and behind a webhook (see conftest.py).
"""

from __future__ import annotations

import csv
import io

from tests.e2e.people import TelegramUser
from tests.e2e.scene import Scene
from tests.e2e.steps import join, team_with_reps


def test_a_new_rep_starts_and_chooses_english(telegram: Scene) -> None:
    rep = telegram.user("Li Lei", "zh")
    rep.send("/start")
    rep.wait_for("Li Lei，欢迎")
    rep.press("English")
    rep.wait_for("we will talk in English")
    rep.wait_for("Main menu")
    assert ("lang", "Switch language") in rep.commands()


def answer_demo_quiz(rep: TelegramUser, *, all_right: bool) -> None:
    """Opens the pushed quiz and answers its three questions (single, multiple, true/false)."""
    rep.wait_for("Your trainer has sent you a quiz")
    rep.press("▶ Start the quiz")
    rep.wait_for("question 1/3")
    rep.press("B" if all_right else "A")
    rep.wait_for("question 2/3")
    rep.press("▫️ A")
    rep.wait_for("Selected: A")
    rep.press("▫️ C")
    rep.wait_for("Selected: A, C")
    rep.press("Submit")
    rep.wait_for("question 3/3")
    rep.press("✔ True")
    rep.wait_for("Demo quiz: 100/100" if all_right else "Demo quiz: 67/100")


def test_a_trainer_pushes_a_quiz_two_reps_answer_and_the_trainer_reads_the_results(telegram: Scene) -> None:
    team = team_with_reps(telegram, "east", reps=2)
    trainer, (ann, bob) = team.trainer, team.reps

    trainer.send(f"/push demo_quiz {team.name}")
    trainer.wait_for("sent 0 / 2")
    answer_demo_quiz(ann, all_right=True)
    answer_demo_quiz(bob, all_right=False)
    trainer.wait_for("Push complete: 2 delivered, 0 undeliverable")

    trainer.send("/results demo_quiz")
    results = trainer.wait_for("Results: Demo quiz")
    assert "2 finished" in results.text and "average 83.5" in results.text
    assert "What kind of plums" in results.text, "the most missed question is named"
    trainer.press("⬇ CSV")
    export = trainer.wait_for("demo_quiz-results.csv")
    assert export.content is not None
    assert len(list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))) == 2


def test_a_rep_who_blocked_the_bot_is_counted_as_undeliverable(telegram: Scene) -> None:
    team = team_with_reps(telegram, "west", reps=2)
    team.reps[1].block()
    team.trainer.send(f"/push demo_quiz {team.name}")
    team.trainer.wait_for("Push complete: 1 delivered, 1 undeliverable")
    team.reps[0].wait_for("Your trainer has sent you a quiz")


def test_a_stale_button_gets_the_expired_notice_and_changes_nothing(telegram: Scene) -> None:
    rep = telegram.user("Wang", "zh")
    rep.send("/start")
    welcome = rep.wait_for("欢迎")
    rep.press("English", welcome)
    rep.wait_for("Main menu")
    rep.press("中文", welcome)
    rep.wait_for("This button has expired; nothing was changed.")
    assert [seen.kind for seen in rep.messages()] == ["notice"]
    rep.send("/help")
    assert "/lang" in rep.wait_for("/help").text and "帮助" not in rep.messages()[0].text, "still in English"


def test_html_like_and_overlong_text_comes_back_as_typed(telegram: Scene) -> None:
    rep = join(telegram.user("Zhao", "en"))
    rep.send('/quiz <b>plums</b> & "co"')
    rep.wait_for('There is no quiz with the id "<b>plums</b> & "co""')

    admin = join(telegram.admin())
    name = ("<i>&amp;" * 600)[: 4096 - len("/invite rep ")]
    admin.send(f"/invite rep {name}")
    admin.wait_for("Type /team to see every team")
    parts = admin.messages()
    assert len(parts) > 1 and name in "".join(part.text for part in parts), "split, every character kept"


def test_replies_over_the_per_chat_limit_arrive_late_but_in_order(telegram: Scene) -> None:
    telegram.limits(per_chat_burst=1)
    rep = join(telegram.user("Sun", "en"))
    assert [seen.text.split("\n")[0] for seen in rep.transcript()] == ["👋 Sun, welcome to SalesCoach!", "✅ Great, we will talk in English.", "Main menu"]
    assert telegram.refused(429) >= 1
