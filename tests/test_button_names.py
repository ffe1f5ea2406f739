"""Buttons carry ids, never user-given names: any team, person, customer or tag name is shown
on a button without breaking its callback data (at most 64 bytes) or the dialog."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
from sqlmodel import Session, col, select

from bot.settings import Settings
from dialogs.core.events import Reply
from dialogs.engine import Engine
from knowledge.validate import cached_knowledge
from storage.access import add_member, create_team, grant_role
from storage.db import make_engine
from storage.models import Assignment, Delivery, User, utcnow
from storage.needs import record_need
from tests.chat import Chat

ADMIN, TRAINER, REP = 42, 2, 1000
MAX_BYTES = 64
names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60).filter(lambda n: n.strip() == n and n != "all")


def buttons_fit(replies: list[Reply]) -> bool:
    return all(len(b.data.encode()) <= MAX_BYTES for r in replies for row in r.buttons for b in row)


def everyone_named(engine: Engine, name: str) -> None:
    """A team, a rep and a need's customer and tag all called `name`; a trainer and an admin in the team."""
    with Session(engine.db) as session:
        team = create_team(session, name)
        assert team is not None and team.id is not None
        session.add(User(id=REP, name=name, lang="en", chat_id=REP))
        grant_role(session, TRAINER, "trainer", ADMIN)
        for member in (ADMIN, TRAINER, REP):
            add_member(session, member, team.id)
        record_need(session, rep_id=REP, source="field", fields={"customer_company": name, "situation": name, "tags": [name]}, lang="en", at=utcnow())
        session.commit()


def press_first(chat: Chat, action: str) -> list[Reply]:
    """Press the first current button whose action starts with `action` (by its number, as
    a label may read like another button's)."""
    number = next(n for n, b in enumerate(chat.buttons, 1) if b.action.startswith(action))
    return chat.send(f"/{number}")


@settings(max_examples=20, deadline=None)
@given(name=names)
def test_any_name_on_a_button_fits_and_works_in_every_dialog_that_shows_one(name: str) -> None:
    db = make_engine("sqlite://")
    engine = Engine(db, cached_knowledge(), Settings(_env_file=None, admin_ids=frozenset({ADMIN})).engine_settings())
    try:
        everyone_named(engine, name)
        admin, trainer, rep = Chat(engine, ADMIN, lang="en"), Chat(engine, TRAINER, lang="en"), Chat(engine, REP, lang="en")

        assert buttons_fit(admin.send("/team"))
        assert buttons_fit(press_first(admin, "show:"))

        trainer.send("/push")
        press_first(trainer, "pq:plum")
        assert buttons_fit(press_first(trainer, "pt:"))
        assert buttons_fit(press_first(trainer, "pd:1d"))
        with Session(db) as session:
            assert sorted(session.exec(select(Delivery.user_id)).all()) == [ADMIN, REP]

        trainer.send("/assign")
        assert buttons_fit(press_first(trainer, "ap:spin_basics"))
        press_first(trainer, "at:")
        press_first(trainer, "ad:none")
        assert buttons_fit(press_first(trainer, "ac"))
        with Session(db) as session:
            assert session.exec(select(Assignment.path_id).where(col(Assignment.path_id).is_not(None))).all() == ["spin_basics"]

        for kind in ("rep", "team", "tag"):
            admin.send("/needs")
            press_first(admin, "vf")
            assert buttons_fit(press_first(admin, f"vk:{kind}"))
            assert buttons_fit(press_first(admin, "vv:0"))
        assert buttons_fit(rep.send("/myneeds"))
        assert buttons_fit(press_first(rep, "mo:"))
    finally:
        db.dispose()
