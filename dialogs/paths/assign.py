"""/assign PATH_ID [TEAM|all] [deadline]: a trainer assigns a learning path to a team, like /push.

Each rep gets an invitation through the push queue, and a reminder before the deadline if they
have no certificate of the path yet; /path shows them the path first, with its deadline.
"""

from __future__ import annotations

from dialogs.core.context import Ctx
from dialogs.core.pushes import send_push
from storage.access import teams_of


def assign(ctx: Ctx, args: str) -> None:
    """Queues the path's invitation for every rep of the team and shows the push's progress."""
    words = args.split()
    if not words or words[0] not in ctx.knowledge.paths:
        if words:
            ctx.say("path_unknown", path_id=words[0][:40], paths=sorted(ctx.knowledge.paths))
        ctx.say("assign_usage")
        return
    path_id, target = words[0], words[1] if len(words) > 1 else ""
    if not target:
        own = teams_of(ctx.session, ctx.user.id)
        if len(own) != 1:
            ctx.say("assign_usage")
            return
        target = own[0].name
    send_push(ctx, target, " ".join(words[2:]), ctx.knowledge.paths[path_id].title.get(ctx.lang), path_id=path_id)
