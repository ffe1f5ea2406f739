"""Rows in every table of a database, whatever its schema: for tests that upgrade, back up or
restore a database and check that nothing was lost.

The tables are read from the database itself (reflected), not from the models, so a database
made at an older revision is filled as that revision left it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Float, Integer, LargeBinary, MetaData, String, Text, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.schema import Column

from storage.schema import VERSION_TABLE

Rows = dict[str, list[dict[str, Any]]]


def _value(column: Column[Any], n: int) -> Any:
    """A plausible value of the column's type for row `n` (1, 2, …); references point at row `n` of the other table."""
    kind = column.type
    if column.foreign_keys or isinstance(kind, Integer) and not isinstance(kind, BigInteger):
        return n
    if isinstance(kind, BigInteger):
        return 7_000_000_000 + n  # Telegram ids past 32 bits
    if isinstance(kind, Boolean):
        return n % 2 == 0
    if isinstance(kind, DateTime):
        return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n)
    if isinstance(kind, Date):
        return date(2026, 1, 1) + timedelta(days=n)
    if isinstance(kind, Float):
        return n + 0.25  # a review card's stability or difficulty
    if isinstance(kind, JSON):
        return {"n": n, "text": "老太太买李子"}
    if isinstance(kind, LargeBinary):
        return bytes([n]) * 16  # a file a reply sends
    if isinstance(kind, (String, Text)):
        return f"{column.name}-{n}-李"[: getattr(kind, "length", None) or 100]
    raise AssertionError(f"no test value for column {column} of type {kind!r}: add one in tests/db_rows.py")


def fill(connection: Connection, count: int = 3) -> None:
    """Insert `count` rows into every table but Alembic's, referenced tables first."""
    tables = MetaData()
    tables.reflect(connection)
    for table in tables.sorted_tables:
        if table.name != VERSION_TABLE:
            connection.execute(insert(table), [{column.name: _value(column, n) for column in table.columns} for n in range(1, count + 1)])


def read(connection: Connection) -> Rows:
    """Every row of every table but Alembic's, in primary-key order."""
    tables = MetaData()
    tables.reflect(connection)
    return {
        table.name: [dict(row._mapping) for row in connection.execute(select(table).order_by(*table.primary_key.columns))]
        for table in tables.sorted_tables
        if table.name != VERSION_TABLE
    }


def kept(before: Rows, after: Rows) -> list[str]:
    """What of `before` is missing or changed in `after` (columns that `after` no longer has aside)."""
    problems = []
    for name, rows in before.items():
        now = after.get(name)
        if now is None:
            problems.append(f"table {name} is gone")
            continue
        if len(now) != len(rows):
            problems.append(f"{name}: {len(rows)} rows before, {len(now)} after")
            continue
        for old, new in zip(rows, now, strict=True):
            changed = {column: (value, new[column]) for column, value in old.items() if column in new and new[column] != value}
            if changed:
                problems.append(f"{name}: {changed}")
    return problems
