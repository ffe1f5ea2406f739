"""/leaderboard: weekly boards of a team, listing only the reps who opted in.

`/leaderboard on` puts the rep on their teams' boards, `/leaderboard off` takes them off at once,
`/leaderboard nick NAME` sets the name the boards show instead of their first name (`nick` alone
goes back to it). `/leaderboard` alone shows the boards the viewer may see and whether they are on
them. Like /results: admins see every team's board; anyone else (rep, trainer, manager) sees the
boards of the teams they belong to, never another team's.

No rep may pass as a teammate: a nickname is refused when it is, letter case and spacing aside, the
name any other member of any of the rep's teams is shown by (their nickname, else their first name,
else "Rep 1234" / "销售 1234"), whether that teammate is on the boards or not, so that opting in later
never brings two reps of one board under one name. A teammate's first name counts only while they
have no nickname, since the boards never show it then.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from dialogs.core.context import Ctx
from dialogs.reports.weekly import Standing, team_week
from dialogs.review.days import week_starts
from knowledge.copy import copy_text
from knowledge.schema import LANGS
from storage.access import all_teams, teams_of
from storage.leaderboards import set_listed, set_nickname, teammates
from storage.models import Team, User

ON_WORDS = frozenset({"on", "开", "开启", "加入"})
OFF_WORDS = frozenset({"off", "关", "关闭", "退出"})
NICK_WORDS = frozenset({"nick", "nickname", "昵称"})
NICK_MIN, NICK_MAX = 2, 20
NICK_SIGNS = frozenset(" -_.·")
SHOWN = 10  # places on each ranking
TYPED_SHOWN = 40  # characters of a refused nickname said back


def leaderboard(ctx: Ctx, args: str) -> None:
    """Opts the rep in or out, or sets their nickname, then shows the boards they may see; anything
    else typed after the command gets the usage."""
    verb, _, rest = args.strip().partition(" ")
    verb = verb.lower()
    if verb in ON_WORDS or verb in OFF_WORDS:
        set_listed(ctx.session, ctx.user, verb in ON_WORDS)
        ctx.say("leaderboard_listed", listed=ctx.user.on_leaderboard, shown_as=shown_name(ctx.user, ctx.lang))
    elif verb in NICK_WORDS:
        if not change_nickname(ctx, rest):
            return
    elif verb:
        ctx.say("leaderboard_usage", nick_min=NICK_MIN, nick_max=NICK_MAX)
        return
    show_boards(ctx)


def valid_nickname(typed: str) -> str | None:
    """The nickname with its spaces tidied, or None unless it is NICK_MIN to NICK_MAX letters,
    digits, spaces and - _ . · (no markup, no emoji, no invisible characters)."""
    nickname = " ".join(typed.split())
    fits = NICK_MIN <= len(nickname) <= NICK_MAX
    return nickname if fits and all(unicodedata.category(ch)[0] in "LNM" or ch in NICK_SIGNS for ch in nickname) else None


def change_nickname(ctx: Ctx, typed: str) -> bool:
    """Sets the nickname typed (none typed: the first name again) and says so; False, with the
    rules, when it is refused, or with a word that a teammate is shown by that name."""
    nickname = valid_nickname(typed) if typed.strip() else ""
    if nickname is None:
        ctx.say("leaderboard_nick_refused", typed=typed.strip()[:TYPED_SHOWN], nick_min=NICK_MIN, nick_max=NICK_MAX)
        return False
    if nickname and same_name(nickname) in names_taken(ctx):
        ctx.say("leaderboard_nick_taken", typed=nickname)
        return False
    set_nickname(ctx.session, ctx.user, nickname)
    ctx.say("leaderboard_nick_set", nickname=nickname, shown_as=shown_name(ctx.user, ctx.lang), listed=ctx.user.on_leaderboard)
    return True


def first_name(user: User) -> str:
    """The first word of the rep's name ("" when they have none)."""
    words = user.name.split()
    return words[0] if words else ""


def shown_name(user: User, lang: str) -> str:
    """How a board in `lang` lists a rep: their nickname, else their first name, else "Rep 1234"
    ("销售 1234")."""
    return user.nickname or first_name(user) or copy_text().label("rep_unnamed", lang).format(id=user.id)


def same_name(name: str) -> str:
    """A name as two are compared for a clash: letter case and spacing aside."""
    return " ".join(name.split()).casefold()


def names_taken(ctx: Ctx) -> set[str]:
    """The names the rep's teammates are shown by on a board, in either language (a teammate
    without a name is "Rep 1234" in English and "销售 1234" in Chinese), as `same_name` gives them."""
    return {same_name(shown_name(user, lang)) for user in teammates(ctx.session, ctx.user.id) for lang in LANGS}


def teams_shown(ctx: Ctx) -> list[Team]:
    """The teams whose boards the viewer may see: every team for admins, else their own."""
    return all_teams(ctx.session) if "admin" in ctx.roles else teams_of(ctx.session, ctx.user.id)


def ranking(ctx: Ctx, standings: list[Standing], figure: Callable[[Standing], int | None]) -> list[tuple[int, str, int]]:
    """The reps with a figure, highest first (ties share a place: 1, 2, 2, 4), as (place, name, figure)."""
    scored = sorted(((value, shown_name(s.user, ctx.lang)) for s in standings if (value := figure(s))), key=lambda row: (-row[0], row[1]))
    places: list[tuple[int, str, int]] = []
    for position, (value, name) in enumerate(scored, start=1):
        place = places[-1][0] if places and places[-1][2] == value else position
        places.append((place, name, value))
    return places[:SHOWN]


def board(ctx: Ctx, team: Team) -> dict[str, Any]:
    """One team's board as the template shows it."""
    standings = team_week(ctx.session, ctx.knowledge, team.id or 0, ctx.now, ctx.settings.zone)
    return {
        "team": team.name,
        "listed": len(standings),
        "steps": ranking(ctx, standings, lambda s: s.steps),
        "streaks": ranking(ctx, standings, lambda s: s.streak),
        "best": ranking(ctx, standings, lambda s: s.best),
    }


def show_boards(ctx: Ctx) -> None:
    """The week's boards of the teams the viewer may see, and whether (and as whom) they are on them."""
    ctx.say(
        "leaderboard",
        boards=[board(ctx, team) for team in teams_shown(ctx)],
        week_from=week_starts(ctx.now, ctx.settings.zone).date().isoformat(),
        listed=ctx.user.on_leaderboard,
        shown_as=shown_name(ctx.user, ctx.lang),
    )
