"""Roles, teams and invitations: each person may do only what their role allows."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from dialogs.engine import Engine
from storage.access import add_member, create_team, grant_role, revoke_role
from storage.models import AuditEntry, Delivery, DialogState, Invitation
from tests.chat import Chat, shown
from tests.clock import Clock, local

pytestmark = pytest.mark.both_databases

ADMIN = 42


def setup_people(engine: Engine) -> dict[str, Chat]:
    """An admin (from ADMIN_IDS), a trainer and a manager in team east, and a rep."""
    people = {role: Chat(engine, uid, lang="en") for role, uid in (("admin", ADMIN), ("trainer", 2), ("manager", 3), ("rep", 4))}
    for chat in people.values():
        chat.send("/help")
    with Session(engine.db) as session:
        team = create_team(session, "east")
        grant_role(session, 2, "trainer", ADMIN)
        grant_role(session, 3, "manager", ADMIN)
        add_member(session, 2, team.id)
        add_member(session, 3, team.id)
        session.commit()
    return people


@pytest.mark.parametrize(
    ("command", "allowed"),
    [
        ("/invite rep east", {"admin", "trainer"}),
        ("/team", {"admin"}),
        ("/audit", {"admin"}),
        ("/whoami", {"admin", "trainer", "manager", "rep"}),
    ],
)
def test_each_privileged_command_as_each_role(engine: Engine, command: str, allowed: set[str]) -> None:
    people = setup_people(engine)
    for role, chat in people.items():
        keys = chat.keys(command)
        assert ("not_allowed" not in keys) == (role in allowed), (role, command, keys)


def test_a_refusal_is_logged_and_admins_can_read_the_log(engine: Engine) -> None:
    people = setup_people(engine)
    assert "not allowed to use /team" in people["rep"].text("/team")
    with Session(engine.db) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.user_id == 4)).one()
        assert (entry.action, entry.allowed) == ("/team", False)
    assert "/team · ⛔ refused" in people["admin"].text("/audit")


def test_help_shows_each_person_only_their_commands(engine: Engine) -> None:
    people = setup_people(engine)
    assert "/team" in people["admin"].text("/help")
    rep_help = people["rep"].text("/help")
    assert "/team" not in rep_help and "/invite" not in rep_help and "/whoami" in rep_help


def test_a_forged_menu_button_for_a_privileged_command_is_refused(engine: Engine) -> None:
    people = setup_people(engine)
    assert [r.key for r in people["rep"].press_data("1|g|go:team")] == ["not_allowed"]
    assert [r.key for r in people["rep"].press_data("1|g|go:audit")] == ["not_allowed"]


def test_a_team_button_forged_or_kept_after_losing_the_role_changes_nothing(engine: Engine) -> None:
    people = setup_people(engine)
    admin = people["admin"]
    admin.send("/team")
    admin.press("east (2)")
    remove_trainer = admin.data_of("✖ user2")
    assert "expired" in shown(people["rep"].press_data(remove_trainer))

    with Session(engine.db) as session:
        grant_role(session, 5, "admin", ADMIN)
        session.commit()
    second_admin = Chat(engine, 5, lang="en")
    second_admin.send("/team")
    second_admin.press("east (2)")
    data = second_admin.data_of("✖ user2")
    second_admin.send("/lang")
    second_admin.send("/team")
    second_admin.press("east (2)")
    with Session(engine.db) as session:
        revoke_role(session, 5, "admin")
        session.commit()
    assert [r.key for r in second_admin.press_data(second_admin.data_of("✖ user2"))] == ["dialog_revoked"]
    assert "expired" in shown(second_admin.press_data(data))
    admin.send("/team")
    assert "user2" in shown(admin.press("east (2)"))


def test_admin_manages_teams_and_roles_by_typing(engine: Engine) -> None:
    admin = setup_people(engine)["admin"]
    assert 'Team "west" created' in admin.text("/team create west")
    assert "already a team" in admin.text("create west")
    assert 'now called "north"' in admin.text("rename west north")
    assert 'added to team "north"' in admin.text("add 4 north")
    assert 'moved from "north" to "east"' in admin.text("move 4 north east")
    replies = admin.send("role 4 manager add")
    assert "now has the manager role" in shown(replies)
    assert [r.chat_id for r in replies if r.command_menu is not None] == [4]
    assert "no longer has" in admin.text("role 4 manager remove")
    assert "removed from the team" in admin.text("remove 4 east")
    assert "didn't understand that team command" in admin.text("explode everything")


def test_whoami_shows_roles_and_teams(engine: Engine) -> None:
    trainer = setup_people(engine)["trainer"]
    text = trainer.text("/whoami")
    assert "Roles: rep, trainer" in text and "Teams: east" in text


def test_invitation_lifecycle(engine: Engine) -> None:
    people = setup_people(engine)
    text = people["admin"].text("/invite manager east 2")
    link = next(word for word in text.split() if word.startswith("https://t.me/"))
    assert link.startswith("https://t.me/SalesCoachBot?start=")
    code = link.split("start=", 1)[1]

    newcomer = Chat(engine, 10, lang="en")
    replies = newcomer.send(f"/start {code}")
    assert 'you are now a manager in team "east"' in shown(replies)
    assert any(r.command_menu and ("whoami", "My roles and teams") in r.command_menu for r in replies)
    assert "Roles: rep, manager" in newcomer.text("/whoami")

    assert "you are now a manager" in Chat(engine, 11, lang="en").text(f"/start {code}")
    assert "used up" in Chat(engine, 12, lang="en").text(f"/start {code}")
    assert "not valid" in Chat(engine, 13, lang="en").text("/start not-a-real-code")


def test_reopening_a_redeemed_link_does_not_use_it_again(engine: Engine) -> None:
    people = setup_people(engine)
    code = people["admin"].text("/invite manager east 2").split("start=", 1)[1].split()[0]
    newcomer = Chat(engine, 10, lang="en")
    assert "you are now a manager" in newcomer.text(f"/start {code}")
    assert 'You have already accepted this invitation: you are a manager in team "east"' in newcomer.text(f"/start {code}")
    with Session(engine.db) as session:
        assert session.exec(select(Invitation)).one().uses == 1
    assert "you are now a manager" in Chat(engine, 11, lang="en").text(f"/start {code}")
    assert "used up" in Chat(engine, 12, lang="en").text(f"/start {code}")


def test_an_invitation_is_good_for_a_week_from_when_it_was_made(engine: Engine) -> None:
    clock = Clock(local(1, 9))
    engine.clock = clock
    people = setup_people(engine)
    code = people["admin"].text("/invite trainer east 3").split("start=", 1)[1].split()[0]
    clock.at(local(8, 8, 59))
    assert "you are now a trainer" in Chat(engine, 21, lang="en").text(f"/start {code}")
    clock.at(local(8, 9))
    assert "This invitation link has expired" in Chat(engine, 20, lang="en").text(f"/start {code}")
    assert "邀请链接已经过期" in Chat(engine, 22, lang="zh").text(f"/start {code}")


def test_codes_are_stored_hashed(engine: Engine) -> None:
    people = setup_people(engine)
    code = people["admin"].text("/invite rep").split("start=", 1)[1].split()[0]
    with Session(engine.db) as session:
        stored = session.exec(select(Invitation)).one()
        assert code not in stored.code_hash and len(stored.code_hash) == 64


def test_trainers_invite_only_reps_to_their_own_teams(engine: Engine) -> None:
    people = setup_people(engine)
    with Session(engine.db) as session:
        create_team(session, "west")
        session.commit()
    trainer = people["trainer"]
    assert "Invitation link created" in trainer.text("/invite rep east")
    assert "Trainers may invite reps to their own teams only" in trainer.text("/invite rep west")
    assert "Trainers may invite reps to their own teams only" in trainer.text("/invite manager east")
    assert "Usage" in trainer.text("/invite")
    assert "no team called" in trainer.text("/invite rep south")


def revoke(engine: Engine, user_id: int, role: str) -> None:
    """Someone else takes `role` away from `user_id` while their dialog is open."""
    with Session(engine.db) as session:
        revoke_role(session, user_id, role)
        session.commit()


def closed_and_audited(engine: Engine, user_id: int, command: str) -> bool:
    """The user's dialog is closed and the refusal is in the audit log."""
    with Session(engine.db) as session:
        state = session.get(DialogState, user_id)
        entries = session.exec(select(AuditEntry).where(AuditEntry.user_id == user_id, AuditEntry.action == command)).all()
    return state is not None and state.dialog == "" and [e.allowed for e in entries][-1:] == [False]


def test_an_admin_demoted_inside_an_open_team_cannot_type_the_role_back(engine: Engine) -> None:
    setup_people(engine)
    with Session(engine.db) as session:
        grant_role(session, 5, "admin", ADMIN)
        session.commit()
    demoted = Chat(engine, 5, lang="en")
    assert "Teams" in demoted.text("/team")
    revoke(engine, 5, "admin")
    answer = demoted.text("role 5 admin add")
    assert "You no longer have the role for /team, so it has been closed" in answer
    assert "Roles: rep" in demoted.text("/whoami") and "admin" not in demoted.text("/whoami")
    assert closed_and_audited(engine, 5, "/team")
    assert "no longer have the role" not in demoted.text("hello")


def test_a_trainer_demoted_inside_an_open_push_cannot_send_it(engine: Engine) -> None:
    people = setup_people(engine)
    trainer = people["trainer"]
    assert trainer.send("/push")[0].key == "push_pick_quiz"
    revoke(engine, 2, "trainer")
    assert "You no longer have the role for /push" in trainer.text("plum_case east")
    with Session(engine.db) as session:
        assert session.exec(select(Delivery)).all() == []
    assert closed_and_audited(engine, 2, "/push")


def test_a_manager_demoted_inside_open_needs_sees_no_more(engine: Engine) -> None:
    people = setup_people(engine)
    manager = people["manager"]
    assert "not_allowed" not in manager.keys("/needs")
    revoke(engine, 3, "manager")
    assert [r.key for r in manager.send("tag:price")] == ["dialog_revoked"]
    assert closed_and_audited(engine, 3, "/needs")


def test_a_trainer_demoted_inside_open_results_sees_no_more(engine: Engine) -> None:
    people = setup_people(engine)
    trainer = people["trainer"]
    assert "not_allowed" not in trainer.keys("/results")
    revoke(engine, 2, "trainer")
    assert [r.key for r in trainer.send("plum_case")] == ["dialog_revoked"]
    assert closed_and_audited(engine, 2, "/results")
