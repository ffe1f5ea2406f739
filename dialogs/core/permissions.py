"""Who may use which command. Checked on the server for commands and buttons alike."""

from __future__ import annotations

EVERYONE = frozenset({"rep", "trainer", "manager", "admin"})
COMMAND_ROLES: dict[str, frozenset[str]] = {
    "invite": frozenset({"admin", "trainer"}),
    "team": frozenset({"admin"}),
    "audit": frozenset({"admin"}),
    "push": frozenset({"trainer", "admin"}),
    "results": frozenset({"trainer", "manager", "admin"}),
    "needs": frozenset({"manager", "admin"}),
    "export": frozenset({"manager", "admin"}),
    "assign": frozenset({"trainer", "admin"}),
    "verify": frozenset({"trainer", "manager", "admin"}),
}


def may(roles: set[str], command: str) -> bool:
    """True if someone with `roles` may use `command`."""
    return bool(roles & COMMAND_ROLES.get(command, EVERYONE))


def open_to_everyone(command: str) -> bool:
    """True if every role may use `command`, so nobody's roles need reading to allow it."""
    return command not in COMMAND_ROLES
