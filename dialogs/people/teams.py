"""/team: admins create and rename teams, move and remove members, and change roles."""

from __future__ import annotations

from dialogs.core.base import Dialog
from dialogs.core.callback import Press
from dialogs.core.commands import refresh_command_menu
from dialogs.core.events import Button
from storage.access import (
    ROLES,
    add_member,
    all_teams,
    audit,
    create_team,
    grant_role,
    member_ids,
    members_of,
    not_started,
    remove_member,
    revoke_role,
    roles_of,
    team_by_name,
)
from storage.models import Team, User
from storage.users import language_of

NAME_LIMIT = 60


class Teams(Dialog):
    """Shows the teams as buttons; each team's members can be removed with a tap."""

    name = "teams"
    command = "team"
    states = ["browsing"]
    transitions = []
    initial = "browsing"

    def begin(self, args: str) -> None:
        """Runs a typed sub-command if there is one, then shows the team overview."""
        if args.strip():
            self.run_subcommand(args.split())
        self.overview()

    def on_text(self, text: str) -> None:
        """Text while browsing is read as a sub-command (create, rename, add, move, remove, role)."""
        self.run_subcommand(text.split())
        self.overview()

    def on_press(self, press: Press) -> bool:
        """Shows a team's members, or removes one (the router re-checks the admin role before every press)."""
        if press.verb not in ("show", "rm", "back"):
            return False
        session = self.ctx.session
        if press.verb == "back":
            self.overview()
        elif press.verb == "show" and press.arg.isdigit():
            self.show_team(int(press.arg))
        elif press.verb == "rm":
            user_id, _, team_id = press.arg.partition(":")
            if not (user_id.isdigit() and team_id.isdigit()):
                return False
            removed = remove_member(session, int(user_id), int(team_id))
            team = session.get(Team, int(team_id))
            audit(session, self.ctx.user.id, "team.remove", True, f"{user_id} {team.name if team else team_id}")
            self.ctx.say("team_member_removed" if removed else "team_not_member", user_id=int(user_id))
            self.show_team(int(team_id))
        return True

    def overview(self) -> None:
        teams = all_teams(self.ctx.session)
        rows = [[Button(f"{t.name} ({len(member_ids(self.ctx.session, t.id or 0))})", f"show:{t.id}")] for t in teams]
        self.ctx.say("team_overview", rows, teams=[t.name for t in teams])

    def show_team(self, team_id: int) -> None:
        team = self.ctx.session.get(Team, team_id)
        if team is None:
            self.ctx.say("team_unknown", team=str(team_id))
            return
        members = members_of(self.ctx.session, team_id)
        pending = not_started(self.ctx.session, member_ids(self.ctx.session, team_id))
        roles = {m.id: sorted(roles_of(self.ctx.session, m.id, self.ctx.settings.admin_ids), key=ROLES.index) for m in members}
        rows = [[Button(f"✖ {self.ctx.person(m.name, m.id)}", f"rm:{m.id}:{team_id}")] for m in members]
        rows += [[Button(f"✖ {self.ctx.person('', user_id)}", f"rm:{user_id}:{team_id}")] for user_id in pending]
        rows.append([self.ctx.button("back", "back")])
        members_shown = [(m.id, self.ctx.person(m.name, m.id), roles[m.id]) for m in members]
        self.ctx.say("team_members", rows, team=team.name, members=members_shown, pending=[(uid, self.ctx.person("", uid)) for uid in pending])

    def run_subcommand(self, words: list[str]) -> None:
        """create NAME · rename OLD NEW · add USER TEAM · move USER FROM TO · remove USER TEAM · role USER ROLE add|remove."""
        session, me = self.ctx.session, self.ctx.user.id
        verb, rest = (words[0].lower(), words[1:]) if words else ("", [])
        if verb == "create" and len(rest) == 1 and len(rest[0]) <= NAME_LIMIT:
            done = create_team(session, rest[0]) is not None
            self.ctx.say("team_created" if done else "team_exists", team=rest[0])
        elif verb == "rename" and len(rest) == 2 and len(rest[1]) <= NAME_LIMIT:
            team = team_by_name(session, rest[0])
            if team is None or team_by_name(session, rest[1]) is not None:
                self.ctx.say("team_rename_failed", old=rest[0], new=rest[1])
                return
            team.name = rest[1]
            session.add(team)
            self.ctx.say("team_renamed", old=rest[0], new=rest[1])
        elif verb in ("add", "remove") and len(rest) == 2 and rest[0].isdigit():
            team = self.team_named(rest[1])
            if team is None:
                return
            changed = (add_member if verb == "add" else remove_member)(session, int(rest[0]), team.id or 0)
            self.ctx.say(
                ("team_member_added" if verb == "add" else "team_member_removed") if changed else "team_nothing_changed", user_id=int(rest[0]), team=team.name
            )
        elif verb == "move" and len(rest) == 3 and rest[0].isdigit():
            source, dest = self.team_named(rest[1]), self.team_named(rest[2])
            if source is None or dest is None:
                return
            if not remove_member(session, int(rest[0]), source.id or 0):
                self.ctx.say("team_not_member", user_id=int(rest[0]))
                return
            add_member(session, int(rest[0]), dest.id or 0)
            self.ctx.say("team_member_moved", user_id=int(rest[0]), source=source.name, dest=dest.name)
        elif verb == "role" and len(rest) == 3 and rest[0].isdigit() and rest[1] in ROLES and rest[2] in ("add", "remove"):
            self.change_role(int(rest[0]), rest[1], rest[2] == "add")
        else:
            self.ctx.say("team_usage")
            return
        audit(session, me, f"team.{verb}", True, " ".join(rest)[:200])

    def team_named(self, name: str) -> Team | None:
        team = team_by_name(self.ctx.session, name)
        if team is None:
            self.ctx.say("team_unknown", team=name)
        return team

    def change_role(self, user_id: int, role: str, add: bool) -> None:
        session = self.ctx.session
        changed = grant_role(session, user_id, role, self.ctx.user.id) if add else revoke_role(session, user_id, role)
        self.ctx.say("team_role_changed" if changed else "team_nothing_changed", user_id=user_id, role=role, add=add, team="")
        target = session.get(User, user_id)
        if changed and target is not None:
            session.flush()
            refresh_command_menu(self.ctx, user_id, language_of(target), roles_of(session, user_id, self.ctx.settings.admin_ids))
