"""Who this process is in the claims it makes, and which claimants on this host have died.

A claim (an update being handled, a reply or push message being sent) names its process as
`host:pid:token`. A process that starts releases the claims of dead processes on its host at
once, instead of waiting for their leases: a pid that no longer runs, or its own pid under
another token (a restarted container is pid 1 again).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket

from sqlalchemy.engine import Engine

from storage import claims

log = logging.getLogger(__name__)


def new_owner() -> str:
    """This process's name in the claims it makes: host, pid and a token of this start."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def dead(owners: set[str], me: str) -> list[str]:
    """The owners among `owners` that ran on this host and are no longer running."""
    host = socket.gethostname()
    found = []
    for owner in sorted(owners - {me}):
        parts = owner.rsplit(":", 2)
        if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
            continue
        pid = int(parts[1])
        if pid == os.getpid() or _gone(pid):
            found.append(owner)
    return found


def release_dead(db: Engine, me: str) -> int:
    """Release what dead processes on this host held; logs and returns how much."""
    count = claims.release(db, dead(claims.holders(db), me))
    if count:
        log.info("released %d updates, messages and job leases held by processes that died", count)
    return count
