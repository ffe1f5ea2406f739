"""End-to-end: reps answer a quiz marked `poll: true` in native Telegram quiz polls (buttons where
a question cannot be a poll), and it lands in the trainer's results and xAPI export."""

from __future__ import annotations

import json

from tests.e2e.people import TelegramUser
from tests.e2e.scene import Scene
from tests.e2e.steps import join, team_with_reps

WORDS = {
    "en": {"second": "question 2/4", "selected": ("Selected: A", "Selected: A, C"), "submit": "Submit", "third": "question 3/4"},
    "zh": {"second": "第 2/4 题", "selected": ("已选：A", "已选：A、C"), "submit": "提交答案", "third": "第 3/4 题"},
}


def answer_the_buttons_questions(rep: TelegramUser) -> None:
    """The several-answers question and the one with an option too long for a poll, by buttons."""
    words = WORDS[rep.lang]
    rep.wait_for(words["second"])
    rep.press("▫️ A")
    rep.wait_for(words["selected"][0])
    rep.press("▫️ C")
    rep.wait_for(words["selected"][1])
    rep.press(words["submit"])
    rep.wait_for(words["third"])
    rep.press("B")


def test_a_pushed_quiz_taken_by_polls_lands_in_the_results_and_the_xapi_export(telegram: Scene) -> None:
    team = team_with_reps(telegram, "polls", reps=1)
    trainer, (rep,) = team.trainer, team.reps
    trainer.send(f"/push poll_demo {team.name}")
    rep.wait_for("Your trainer has sent you a quiz")
    rep.press("▶ Start the quiz")
    first = rep.wait_for("[1/4] Which kind of question asks about the customer's difficulties?")
    assert first.kind == "poll" and first.options == ("Situation", "Problem", "Implication")
    rep.vote("Problem")
    answer_the_buttons_questions(rep)
    last = rep.wait_for("[4/4] The more situation questions you ask")
    assert last.options == ("True", "False")
    rep.vote("False")
    assert "Poll quiz: 100/100" in rep.wait_for("Poll quiz").text

    trainer.send("/results poll_demo")
    results = trainer.wait_for("Results: Poll quiz")
    assert "1 finished" in results.text and "average 100" in results.text
    trainer.press("⬇ xAPI")
    export = trainer.wait_for("poll_demo-results.jsonl")
    assert export.content is not None
    statements = [json.loads(line) for line in export.content.splitlines()]
    answered = {s["object"]["id"].rsplit("/", 1)[1]: s["result"]["response"] for s in statements if s["verb"]["display"]["en-US"] == "answered"}
    assert answered == {"poll01": "b", "poll02": "a,c", "poll03": "b", "poll04": "false"}
    assert statements[-1]["verb"]["display"]["en-US"] == "passed"


def test_a_rep_in_chinese_answers_the_polls_in_chinese(telegram: Scene) -> None:
    rep = join(telegram.user("Li", "zh"))
    rep.send("/quiz poll_demo")
    first = rep.wait_for("[1/4] 哪类问题询问客户遇到的困难？")
    assert first.options == ("背景问题", "难点问题", "暗示问题")
    rep.vote("背景问题")
    answer_the_buttons_questions(rep)
    last = rep.wait_for("[4/4] 背景问题问得越多")
    assert last.options == ("正确", "错误")
    rep.vote("错误")
    result = rep.wait_for("投票测验")
    assert "75 分" in result.text and "哪类问题询问客户遇到的困难？" in result.text, "the missed poll question is listed"
