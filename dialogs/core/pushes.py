"""Pushes: a quiz (/push) or a learning path (/assign) sent to a team with an optional deadline.

A trainer sends to their own teams, an admin to any team or to everyone ("all"); the sender is
never among the targets. A refusal is said to the user (and audited) here. The push itself only
queues one delivery per rep (storage.deliveries); the bot's sender works the queue.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from dialogs.core.context import Ctx
from dialogs.core.events import Button
from storage.access import all_teams, audit, member_ids, not_started, team_by_name, teams_of
from storage.deliveries import create_push
from storage.models import Team, User

_RELATIVE = re.compile(r"^(\d{1,3})([dh])$")
TYPED_LIMIT = 40  # characters of a typed deadline kept, and said back when it cannot be read


def parse_deadline(text: str, now: datetime) -> datetime | None | str:
    """A deadline from `3d`, `12h`, `2026-12-01` or `2026-12-01 18:00` (UTC); "bad" if unreadable."""
    text = text.strip().lower()
    if text in ("", "none"):
        return None
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        return now + (timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            moment = datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        if fmt == "%Y-%m-%d":
            moment = moment.replace(hour=23, minute=59)
        return moment if moment > now else "bad"
    return "bad"


def typed_deadline(ctx: Ctx, text: str) -> str | None:
    """A deadline typed at a picker's deadline step, as the push will read it; None, once the
    trainer has been told it cannot be read (or is past), when it cannot."""
    if parse_deadline(text, ctx.now) == "bad":
        ctx.say("push_bad_deadline", text=text[:TYPED_LIMIT])
        return None
    return text[:TYPED_LIMIT]


def audience(ctx: Ctx, command: str, target: str, detail: str) -> tuple[Team | None, list[int]] | None:
    """The team named `target` (None for "all") and the people a push to it reaches; None, with
    the reason said to the user and refusals audited, when there is nobody this user may reach."""
    session, me = ctx.session, ctx.user.id
    team: Team | None = None
    if target == "all":
        if "admin" not in ctx.roles:
            audit(session, me, command, False, f"all {detail}")
            ctx.say("push_all_admin_only")
            return None
        users = [uid for uid in session.exec(select(User.id)).all() if uid != me]
    else:
        team = team_by_name(session, target)
        if team is None:
            ctx.say("team_unknown", team=target[:60])
            return None
        if "admin" not in ctx.roles and team.id not in {t.id for t in teams_of(session, me)}:
            audit(session, me, command, False, f"team={target} {detail}")
            ctx.say("push_own_teams_only")
            return None
        users = [uid for uid in member_ids(session, team.id or 0) if uid != me]
    if not users:
        ctx.say("push_no_targets", target=target)
        return None
    return team, users


def push_targets(ctx: Ctx) -> dict[str, str]:
    """The teams this person may push to, by id (buttons carry ids, never names), with their
    names; admins also get "all"."""
    if "admin" in ctx.roles:
        return {str(t.id): t.name for t in all_teams(ctx.session)} | {"all": "all"}
    return {str(t.id): t.name for t in teams_of(ctx.session, ctx.user.id)}


def ask_target(ctx: Ctx, verb: str) -> bool:
    """Asks which team should get the push, one button each (action `verb:<team id>`); says there
    is none, and returns False, when this person may push to no team."""
    targets = push_targets(ctx)
    if not targets:
        ctx.say("push_no_team")
        return False
    ctx.say("push_pick_target", [[Button(ctx.label("push_all") if key == "all" else name, f"{verb}:{key}")] for key, name in targets.items()])
    return True


def send_push(ctx: Ctx, target: str, deadline_text: str, title: str, *, quiz_id: str = "", path_id: str | None = None) -> None:
    """Checks the target and deadline, queues the deliveries of a quiz or a path and starts the
    progress message, which the sender edits as the push goes out."""
    command, what = ("/assign", f"path={path_id}") if path_id else ("/push", f"quiz={quiz_id}")
    deadline = parse_deadline(deadline_text, ctx.now)
    if deadline == "bad":
        ctx.say("push_bad_deadline", text=deadline_text[:TYPED_LIMIT])
        return
    chosen = audience(ctx, command, target, what)
    if chosen is None:
        return
    team, users = chosen
    due = deadline if isinstance(deadline, datetime) else None
    assignment = create_push(ctx.session, quiz_id, ctx.user.id, team.id if team else None, due, users, path_id=path_id)
    audit(ctx.session, ctx.user.id, command, True, f"{what} target={target} reps={len(users)}")
    ctx.say(
        "push_progress",
        title=title,
        target=target,
        done=0,
        total=len(users),
        deadline=due.strftime("%Y-%m-%d %H:%M") if due else "",
        pending=len(not_started(ctx.session, users)),
    )
    ctx.replies[-1].progress_of = assignment.id
