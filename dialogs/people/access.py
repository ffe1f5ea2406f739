"""/whoami, /invite, /audit and invitation links: who holds which role, and how they got it."""

from __future__ import annotations

from dialogs.core.commands import refresh_command_menu
from dialogs.core.context import Ctx
from storage.access import ROLES, audit, create_invitation, recent_audit, redeem_invitation, team_by_name, teams_of
from storage.models import Team

INVITE_DAYS = 7
MAX_USES = 1000


def whoami(ctx: Ctx, args: str) -> None:
    """Shows the user's id, roles and teams."""
    ctx.say("whoami", user_id=ctx.user.id, roles=sorted(ctx.roles, key=ROLES.index), teams=[t.name for t in teams_of(ctx.session, ctx.user.id)])


def invite(ctx: Ctx, args: str) -> None:
    """Creates an invitation link: admins for any role and team, trainers for reps of their teams."""
    parts = args.split()
    if not parts or parts[0] not in ROLES or len(parts) > 3 or (len(parts) == 3 and not parts[2].isdigit()):
        ctx.say("invite_usage", roles=ROLES)
        return
    role, team_name = parts[0], parts[1] if len(parts) > 1 else None
    uses = min(int(parts[2]), MAX_USES) if len(parts) == 3 else 1
    team = team_by_name(ctx.session, team_name) if team_name else None
    if team_name and team is None:
        ctx.say("team_unknown", team=team_name)
        return
    if "admin" not in ctx.roles:
        own = {t.id for t in teams_of(ctx.session, ctx.user.id)}
        if role != "rep" or team is None or team.id not in own:
            audit(ctx.session, ctx.user.id, "/invite", False, f"trainer tried role={role} team={team_name}")
            ctx.say("invite_trainer_limits")
            return
    code = create_invitation(ctx.session, role, team.id if team else None, ctx.user.id, max(uses, 1), INVITE_DAYS, ctx.now)
    audit(ctx.session, ctx.user.id, "/invite", True, f"role={role} team={team_name or '-'} uses={uses}")
    ctx.say("invite_created", link=f"https://t.me/{ctx.settings.bot_username}?start={code}", role=role, team=team_name or "", uses=uses, days=INVITE_DAYS)


def redeem(ctx: Ctx, code: str) -> None:
    """Opening an invitation link gives its role and team, once per allowed use; someone
    re-opening a link they already used is reminded what it gave them, and uses nothing."""
    outcome, invitation = redeem_invitation(ctx.session, code.strip(), ctx.user.id, ctx.now)
    if outcome == "already" and invitation is not None:
        team = ctx.session.get(Team, invitation.team_id) if invitation.team_id else None
        ctx.say("invitation_already", role=invitation.role, team=team.name if team else "")
        return
    if outcome != "ok" or invitation is None:
        audit(ctx.session, ctx.user.id, "invitation", False, outcome)
        ctx.say(f"invitation_{outcome}")
        return
    ctx.forget_roles()
    joined = next((t.name for t in teams_of(ctx.session, ctx.user.id) if t.id == invitation.team_id), "")
    audit(ctx.session, ctx.user.id, "invitation", True, f"role={invitation.role} team={joined or '-'}")
    ctx.say("invitation_ok", role=invitation.role, team=joined)
    refresh_command_menu(ctx, ctx.user.id, ctx.lang, ctx.roles)


def audit_log(ctx: Ctx, args: str) -> None:
    """Shows admins the most recent privileged actions and refusals."""
    entries = [(e.at.strftime("%Y-%m-%d %H:%M"), ctx.person(name, e.user_id), e.action, e.allowed, e.detail) for e, name in recent_audit(ctx.session)]
    ctx.say("audit_log", entries=entries)
