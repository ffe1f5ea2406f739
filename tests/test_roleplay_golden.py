"""Golden role-plays through the real Application: the rep says, the customer answers, the scorecard shows.

The conversations live in tests/golden/roleplay/*.yaml; every shipped scenario's model
conversation is also played, in both languages, and must reach the scenario's best outcome.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session, select

from bot.text import plain_text
from knowledge.loader import Knowledge
from knowledge.validate import cached_knowledge
from storage.models import RolePlay
from tests.telegram_fake import FakeTelegram, texts

GOLDEN = Path(__file__).parent / "golden" / "roleplay"
USERS = itertools.count(1000)


def golden_conversations() -> list[Any]:
    cases = []
    for path in sorted(GOLDEN.glob("*.yaml")):
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        for conversation in data["conversations"]:
            cases.append(pytest.param(data["scenario"], conversation, id=f"{path.stem}: {conversation['name']}"))
    return cases


async def play(telegram: FakeTelegram, scenario: str, lang: str, lines: list[str]) -> list[str]:
    """A rep starts the scenario and says each line; what the bot answered to each line, as plain text."""
    user = next(USERS)
    await telegram.send(user, f"/roleplay {scenario}", lang=lang)
    answers = []
    for line in lines:
        answers.append("\n".join(plain_text(t) for t in texts(await telegram.send(user, line, lang=lang))))
    return answers


def stored(db: DbEngine) -> RolePlay:
    with Session(db) as session:
        return session.exec(select(RolePlay).order_by(RolePlay.id.desc())).first()  # type: ignore[union-attr]


@pytest.mark.parametrize(("scenario", "conversation"), golden_conversations())
async def test_golden_roleplay(telegram: FakeTelegram, db: DbEngine, scenario: str, conversation: dict[str, Any]) -> None:
    turns = conversation["turns"]
    answers = await play(telegram, scenario, conversation["lang"], [t["rep"] for t in turns])
    for turn, answer in zip(turns, answers, strict=True):
        assert turn["customer"] in answer, f"rep said {turn['rep']!r}; customer answered {answer!r}"
    scorecard = answers[-1]
    for part in conversation["scorecard"]:
        assert part in scorecard, f"{part!r} not in the scorecard:\n{scorecard}"
    row = stored(db)
    assert (row.outcome, row.score) == (conversation["outcome"], conversation["score"])


def every_scenario_in_both_languages(knowledge: Knowledge) -> list[Any]:
    return [pytest.param(sc.id, lang, id=f"{sc.id}-{lang}") for sc in knowledge.scenarios.values() for lang in ("zh", "en")]


@pytest.mark.parametrize(("scenario", "lang"), every_scenario_in_both_languages(cached_knowledge()))
async def test_the_model_conversation_reaches_the_best_outcome(telegram: FakeTelegram, db: DbEngine, knowledge: Knowledge, scenario: str, lang: str) -> None:
    """Scenarios list their archetypes from the weakest to the best seller."""
    sc = knowledge.scenarios[scenario]
    answers = await play(telegram, scenario, lang, [t.rep.get(lang) for t in sc.model_conversation])
    best = sc.archetypes[-1]
    row = stored(db)
    assert row.outcome in best.outcomes and row.finished_at is not None
    assert row.score is not None and row.score >= 90
    assert best.label.get(lang)[1:12] in answers[-1]
