"""Shared steps for the captured-needs tests: a rep fills the form, a manager is set up."""

from __future__ import annotations

from sqlmodel import Session

from dialogs.engine import Engine
from storage.access import add_member, create_team, grant_role
from storage.users import preset_language
from tests.chat import Chat, shown

ADMIN = 42
MANAGER = 3
SKIP = {"zh": "⏭ 跳过", "en": "⏭ Skip"}
SAVE = {"zh": "✅ 保存", "en": "✅ Save"}

EN_ANSWERS = {
    "customer_company": "Acme Fruit Ltd",
    "contact_name": "Director Li, office",
    "contact_role": "Decider",
    "channel": "Visit to the customer",
    "situation": "Buys 2 tonnes of plums a week from two suppliers.",
    "problems": "In peak season restocking takes three days of chasing.",
    "implications": "Empty shelves lose them about 20k a week.",
    "explicit_needs": "Delivery within two days, orders any time.",
    "latent_needs": "The boss worries about the shop's reputation in peak season.",
    "budget": "50k",
    "decision_maker": "General manager decides",
    "timeline": "2026-03-15",
    "next_step": "Present the proposal next Thursday afternoon",
    "priority": "P1 important and urgent",
    "tags": "price, supply",
}
ZH_ANSWERS = {
    "customer_company": "鲜果超市",
    "contact_name": "李主任，办公室",
    "contact_role": "决策者",
    "channel": "电话",
    "situation": "每周从两家供应商进两吨李子。",
    "problems": "旺季补货要催三天。",
    "implications": "断货每周损失两万元左右。",
    "explicit_needs": "两天内到货，随时可以加单。",
    "latent_needs": "老板在意旺季的口碑。",
    "budget": "5万",
    "decision_maker": "总经理拍板",
    "timeline": "2026年3月15日",
    "next_step": "下周四下午给李主任讲方案",
    "priority": "P1 重要且紧急",
    "tags": "婚宴，供货",
}
CHOICE_FIELDS = ("contact_role", "channel", "priority")


def answer_all(chat: Chat, answers: dict[str, str | None], lang: str) -> None:
    """Answers every field in form order: choices by button, None by Skip, the rest typed."""
    for field_id, answer in answers.items():
        if answer is None:
            chat.press(SKIP[lang])
        elif field_id in CHOICE_FIELDS:
            chat.press(answer)
        else:
            chat.send(answer)


def rep(engine: Engine, user_id: int, lang: str = "en", name: str = "") -> Chat:
    """A rep who has chosen a language."""
    with Session(engine.db) as session:
        preset_language(session, user_id, name or f"rep{user_id}", lang)
    return Chat(engine, user_id, name=name or f"rep{user_id}", lang=lang)


def log_need(chat: Chat, lang: str = "en", **overrides: str | None) -> str:
    """A rep logs a complete need; returns what the bot answered to Save."""
    answers = dict(EN_ANSWERS if lang == "en" else ZH_ANSWERS, **overrides)
    chat.send("/need")
    answer_all(chat, answers, lang)
    return shown(chat.press(SAVE[lang]))


def manager(engine: Engine, team_members: tuple[int, ...], team: str = "east", user_id: int = MANAGER) -> Chat:
    """A manager of `team`, whose members are `team_members`."""
    with Session(engine.db) as session:
        created = create_team(session, team)
        assert created is not None and created.id is not None
        grant_role(session, user_id, "manager", ADMIN)
        for member in (user_id, *team_members):
            add_member(session, member, created.id)
        session.commit()
    return rep(engine, user_id, "en", name="Boss")
