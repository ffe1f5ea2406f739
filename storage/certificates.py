"""Certificates of completed learning paths and their verification codes.

A code is 15 characters drawn by `secrets` from 31 letters and digits that cannot be mistaken for
one another (about 74 bits): nobody guesses one, and a manager can read one out over the phone.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.models import Certificate

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GROUPS, GROUP_SIZE = 3, 5
PREFIX = "SC"
_NOT_CODE = re.compile(r"[^A-Z0-9]")


def new_code() -> str:
    """A fresh verification code, e.g. SC-7KQ2M-XW4PA-93HTR."""
    groups = ["".join(secrets.choice(ALPHABET) for _ in range(GROUP_SIZE)) for _ in range(GROUPS)]
    return "-".join([PREFIX, *groups])


def normalise(text: str) -> str:
    """A code as typed (any case, spaces or dashes anywhere, with or without SC) in its stored form."""
    bare = _NOT_CODE.sub("", text.upper())
    bare = bare.removeprefix(PREFIX) if len(bare) == len(PREFIX) + GROUPS * GROUP_SIZE else bare
    return "-".join([PREFIX] + [bare[i : i + GROUP_SIZE] for i in range(0, len(bare), GROUP_SIZE)])


def certificates_of(session: Session, user_id: int) -> dict[str, Certificate]:
    """The rep's certificates by path id."""
    return {c.path_id: c for c in session.exec(select(Certificate).where(Certificate.user_id == user_id)).all()}


def issue(session: Session, user_id: int, path_id: str, name: str) -> Certificate | None:
    """A new certificate for the rep and path; None if they hold one already (another process may
    have issued it a moment ago)."""
    certificate = Certificate(code=new_code(), user_id=user_id, path_id=path_id, name=name[:200])
    try:
        with session.begin_nested():
            session.add(certificate)
    except IntegrityError:
        return None
    return certificate


def by_code(session: Session, typed: str) -> Certificate | None:
    """The certificate with this code, or None for a code nobody was given."""
    return session.exec(select(Certificate).where(Certificate.code == normalise(typed))).first()
