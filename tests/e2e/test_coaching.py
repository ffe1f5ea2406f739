"""End-to-end coaching scenarios: the SPIN coach, the plum role-play's three vendors, and a captured need.

Each runs twice, with the bot polling and behind a webhook (see conftest.py).
"""

from __future__ import annotations

import csv
import io

import pytest

from tests.e2e.scene import Scene
from tests.e2e.steps import NEED_ANSWERS, invite, join, team_with_reps


def test_a_rep_writes_a_situation_question_in_the_spin_coach(telegram: Scene) -> None:
    rep = join(telegram.user("Chen", "en"))
    rep.send("/spin")
    assert "Situation questions" in rep.wait_for("Step 1/4").text
    rep.wait_for("Practice 1/2")
    rep.send("How many people work in your office?")
    verdict = rep.wait_for("Yes, that is the type we asked for")
    assert "situation question (S)" in verdict.text and "A stronger one:" in verdict.text
    rep.wait_for("Practice 2/2")


PLUM_PATHS = [
    pytest.param("zh", ["我的李子又大又甜，可好吃了！"], "第一个小贩", "得分：0/100", id="first-vendor-walks-away"),
    pytest.param(
        "en",
        ["What kind of plums would you like?", "Here you go, shall I weigh you a jin?"],
        "the second vendor",
        "Score: 23/100",
        id="second-vendor-sells-plums",
    ),
    pytest.param(
        "en",
        [
            "Hello! What kind of plums would you like?",
            "Why do you want sour ones?",
            "Congratulations, you'll soon be a grandmother!",
            "Let me weigh you a jin of sour plums.",
            "Kiwi fruit is full of vitamins, good for expecting mothers. Would you like a jin?",
            "I'm here every day, come again!",
        ],
        "the third vendor",
        "Score: 95/100",
        id="third-vendor-wins-a-regular",
    ),
]


@pytest.mark.parametrize(("lang", "lines", "vendor", "score"), PLUM_PATHS)
def test_the_plum_case_ends_as_the_story_ranks_the_vendors(telegram: Scene, lang: str, lines: list[str], vendor: str, score: str) -> None:
    rep = join(telegram.user("Liu", lang))
    rep.send("/roleplay plum")
    rep.wait_for("李老太太：" if lang == "zh" else "Granny Li:")
    for line in lines[:-1]:
        rep.send(line)
        rep.wait_for("李老太太：" if lang == "zh" else "Granny Li:")
    rep.send(lines[-1])
    card = rep.wait_for("评分卡" if lang == "zh" else "Scorecard")
    assert vendor in card.text and score in card.text
    [chart] = [seen for seen in rep.messages() if seen.kind == "photo"]
    assert chart.text.startswith(
        "📊 图表：你每一轮发言的 SPIN 提问类型。" if lang == "zh" else "📊 Chart: the SPIN type of each of your messages, turn by turn."
    )
    assert chart.content is not None and chart.content.startswith(b"\x89PNG")


def test_a_rep_logs_a_need_and_a_manager_lists_and_exports_it(telegram: Scene) -> None:
    team = team_with_reps(telegram, "north", reps=1)
    manager = join(telegram.user("Mona", "en"), invite(team.admin, "manager", team.name))
    rep = team.reps[0]
    rep.send("/need")
    rep.wait_for("Field 1/15")
    for answer in ("Acme <Fruit> & Co", *NEED_ANSWERS[1:]):  # a company name with markup in it
        if answer is None:
            rep.press("⏭ Skip")
        else:
            rep.send(answer)
        rep.wait_for("Field ")
    rep.press("P1 important and urgent")
    rep.wait_for("Field 15/15")
    rep.press("⏭ Skip")
    rep.wait_for("Customer company")
    rep.press("✅ Save")
    saved = rep.wait_for("Reference number")
    ref = saved.text.split("Reference number ")[1].split(";")[0]

    manager.send("/needs")
    listing = manager.wait_for(ref)
    assert "Acme <Fruit> & Co" in listing.text
    manager.send("/export csv")
    export = manager.wait_for(".csv")
    assert export.content is not None
    [row] = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert row["customer_company"] == "Acme <Fruit> & Co" and row["explicit_needs"] == "Delivery within two days"
