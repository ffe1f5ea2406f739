"""How many rows an UPDATE or DELETE run in an ORM session changed.

A conditional UPDATE that claims work (a reply, a push message, an invitation's use) is won by
the one process whose statement changed the row. The session hands back a CursorResult for
these statements, though SQLAlchemy's types promise only a Result, which has no rowcount.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Delete, Update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session


def changed_rows(session: Session, statement: Update | Delete) -> int:
    """Run `statement` in the session (which keeps its loaded objects in step) and count the rows it changed."""
    return cast(CursorResult[Any], session.execute(statement)).rowcount
