"""Roles, teams, invitations and the audit log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.changed import changed_rows
from storage.dialog_state import StaleState
from storage.models import AuditEntry, Invitation, InvitationUse, Membership, RoleGrant, Team, User

ROLES = ("rep", "trainer", "manager", "admin")


def roles_of(session: Session, user_id: int, admin_ids: frozenset[int]) -> set[str]:
    """Everyone is a rep; other roles are granted, and ADMIN_IDS are always admins."""
    roles = {"rep"} | set(session.exec(select(RoleGrant.role).where(RoleGrant.user_id == user_id)).all())
    if user_id in admin_ids:
        roles.add("admin")
    return roles


def grant_role(session: Session, user_id: int, role: str, by: int | None) -> bool:
    """Give a role; False if the user already had it."""
    if role == "rep" or session.get(RoleGrant, (user_id, role)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(RoleGrant(user_id=user_id, role=role, granted_by=by))
    except IntegrityError:
        return False
    return True


def revoke_role(session: Session, user_id: int, role: str) -> bool:
    """Take a granted role away; False if the user did not hold it."""
    grant = session.get(RoleGrant, (user_id, role))
    if grant is None:
        return False
    session.delete(grant)
    return True


def team_by_name(session: Session, name: str) -> Team | None:
    return session.exec(select(Team).where(Team.name == name)).first()


def all_teams(session: Session) -> list[Team]:
    return list(session.exec(select(Team).order_by(Team.name)).all())


def create_team(session: Session, name: str) -> Team | None:
    """A new team, or None if the name is taken (also when another process took it a moment ago)."""
    if team_by_name(session, name) is not None:
        return None
    team = Team(name=name)
    try:
        with session.begin_nested():
            session.add(team)
    except IntegrityError:
        return None
    return team


def teams_of(session: Session, user_id: int) -> list[Team]:
    """The teams a user belongs to."""
    query = select(Team).join(Membership, col(Membership.team_id) == col(Team.id)).where(Membership.user_id == user_id).order_by(Team.name)
    return list(session.exec(query).all())


def members_of(session: Session, team_id: int) -> list[User]:
    """The users in a team (those who have talked to the bot)."""
    query = select(User).join(Membership, col(Membership.user_id) == col(User.id)).where(Membership.team_id == team_id).order_by(col(User.name), col(User.id))
    return list(session.exec(query).all())


def member_ids(session: Session, team_id: int) -> list[int]:
    """Ids of everyone in a team, including people who have not written to the bot yet."""
    return list(session.exec(select(Membership.user_id).where(Membership.team_id == team_id)).all())


def not_started(session: Session, user_ids: list[int]) -> list[int]:
    """Those of `user_ids` who have never written to the bot (no user row yet), in id order:
    pending team members Telegram does not let the bot write to."""
    known = set(session.exec(select(User.id).where(col(User.id).in_(user_ids or [-1]))).all())
    return sorted(set(user_ids) - known)


def add_member(session: Session, user_id: int, team_id: int) -> bool:
    if session.get(Membership, (user_id, team_id)) is not None:
        return False
    session.add(Membership(user_id=user_id, team_id=team_id))
    return True


def remove_member(session: Session, user_id: int, team_id: int) -> bool:
    membership = session.get(Membership, (user_id, team_id))
    if membership is None:
        return False
    session.delete(membership)
    return True


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def create_invitation(session: Session, role: str, team_id: int | None, by: int, max_uses: int, days: int, now: datetime) -> str:
    """A new random invitation code (shown once; only its hash is kept), good for `days` from `now` (the engine's time)."""
    code = secrets.token_urlsafe(18)
    expires_at = now + timedelta(days=days)
    session.add(Invitation(code_hash=hash_code(code), role=role, team_id=team_id, created_by=by, max_uses=max_uses, expires_at=expires_at, created_at=now))
    return code


def redeem_invitation(session: Session, code: str, user_id: int, now: datetime) -> tuple[str, Invitation | None]:
    """Use an invitation at `now` (the engine's time): ("ok", invitation), or ("unknown" | "expired" | "already" | "used", …).

    Each person uses a link once: re-opening a link they already redeemed ("already")
    uses nothing. The use counter is raised with a conditional UPDATE, so two people racing
    for the last use cannot both get it, whichever process serves them; the same person
    racing themselves in two processes gets StaleState in one of them (handled again, it
    is "already").
    """
    invitation = session.exec(select(Invitation).where(Invitation.code_hash == hash_code(code))).first()
    if invitation is None:
        return "unknown", None
    if session.get(InvitationUse, (invitation.id, user_id)) is not None:
        return "already", invitation
    if invitation.expires_at <= now:
        return "expired", invitation
    claimed = changed_rows(
        session, update(Invitation).where(col(Invitation.id) == invitation.id, col(Invitation.uses) < Invitation.max_uses).values(uses=Invitation.uses + 1)
    )
    if claimed != 1:
        return "used", invitation
    try:
        with session.begin_nested():
            session.add(InvitationUse(invitation_id=invitation.id or 0, user_id=user_id, used_at=now))
    except IntegrityError as exc:
        raise StaleState from exc
    grant_role(session, user_id, invitation.role, invitation.created_by)
    if invitation.team_id is not None:
        add_member(session, user_id, invitation.team_id)
    return "ok", invitation


def audit(session: Session, user_id: int, action: str, allowed: bool, detail: str = "") -> None:
    """Record a privileged action or a refusal."""
    session.add(AuditEntry(user_id=user_id, action=action[:60], allowed=allowed, detail=detail[:300]))


def recent_audit(session: Session, limit: int = 20) -> list[tuple[AuditEntry, str]]:
    """The latest audit entries, newest first, each with the name of who acted ("" if none)."""
    query = select(AuditEntry, User.name).join(User, col(User.id) == col(AuditEntry.user_id), isouter=True)
    return [(entry, name or "") for entry, name in session.exec(query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit)).all()]
