"""Statements of a role-play turn's hot path, compiled once and run on the driver's cursor.

A turn runs about ten small statements. Through SQLAlchemy each costs 15-40 µs of Python
before and after the database's own 5-30 µs (an execution context, a result object, events),
which on SQLite is most of a statement's cost. A `Prepared` statement is an ordinary Core
statement, compiled once per dialect and set of columns, whose parameters and rows go through
the same type processors SQLAlchemy would apply (UTC datetimes, JSON), but which is executed on
the DB-API cursor of the session's own connection, inside the session's transaction. What
SQLAlchemy's events did for these statements is done here: a write first takes the SQLite
writer's place (storage/db.py, `before_write`), and a driver error is raised as SQLAlchemy's
(an IntegrityError stays an IntegrityError).

Used only where every event pays for it; everything else stays with the ORM or plain Core.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.dml import UpdateBase

from storage.db import before_write

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # parameter names in order (qmark drivers), None for named ones
    binds: tuple[tuple[str, Processor, Any], ...]  # name, type processor, value of a fixed bind
    keys: tuple[str, ...]
    results: tuple[Processor, ...]


@dataclass(frozen=True)
class Ran:
    """What a prepared statement gave back: the rows it returned (values as SQLAlchemy would
    give them) and how many rows it changed."""

    keys: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    rowcount: int

    def first_mapping(self) -> dict[str, Any] | None:
        """The first row returned as a dict by column name, or None."""
        return dict(zip(self.keys, self.rows[0], strict=True)) if self.rows else None

    def scalar(self) -> Any:
        """The first column of the only row returned."""
        (row,) = self.rows
        return row[0]


class Prepared:
    """A Core statement run without SQLAlchemy's per-execution machinery (see the module's docstring)."""

    def __init__(self, statement: Select[Any] | UpdateBase) -> None:
        self.statement = statement
        self.writes = not isinstance(statement, Select)
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    def _compile(self, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
        if compiled.insert_prefetch or compiled.update_prefetch:  # defaults SQLAlchemy would compute in Python
            missing = ", ".join(column.key for column in (*compiled.insert_prefetch, *compiled.update_prefetch))
            raise ValueError(f"a prepared statement is given every column it writes; missing: {missing}")
        unbound = [name for name, bind in compiled.binds.items() if bind.required and name not in keys]
        if unbound:
            raise ValueError(f"a prepared statement is given every parameter it names; missing: {', '.join(unbound)}")
        binds = tuple((name, bind.type.dialect_impl(dialect).bind_processor(dialect), bind.value) for name, bind in compiled.binds.items())
        columns = self.statement.selected_columns if isinstance(self.statement, Select) else self.statement.exported_columns
        results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
        positional = tuple(compiled.positiontup or ()) if compiled.positional else None
        return _Compiled(compiled.string, positional, binds, tuple(str(column.key) for column in columns), results)

    def run(self, connection: Connection, params: Mapping[str, Any]) -> Ran:
        """Execute with `params` (names as the statement's bind parameters and columns) in the
        connection's transaction."""
        compiled = self._compiled_for(connection.dialect, params)
        if self.writes:
            before_write(connection, compiled.sql)
        return self._execute(compiled, connection.connection.driver_connection, connection.dialect, params)

    def run_alone(self, engine: Engine, params: Mapping[str, Any]) -> Ran:
        """Execute with `params` in a transaction of its own. On PostgreSQL that is one round
        trip, the driver's autocommit (BEGIN, the statement and COMMIT were three: 0.09 ms
        against 0.21-0.25 ms measured here); elsewhere an ordinary transaction."""
        if engine.dialect.name != "postgresql":
            with engine.begin() as connection:
                return self.run(connection, params)
        with engine.connect() as connection:  # nothing begun: SQLAlchemy begins at its own first statement
            driver: Any = connection.connection.driver_connection
            driver.autocommit = True
            try:
                return self.run_on(driver, connection.dialect, params)
            finally:
                driver.autocommit = False

    def run_on(self, driver_connection: Any, dialect: Dialect, params: Mapping[str, Any]) -> Ran:
        """Execute on a driver's own connection (no writer lock taken: the caller holds it)."""
        return self._execute(self._compiled_for(dialect, params), driver_connection, dialect, params)

    async def run_async(self, driver_connection: Any, dialect: Dialect, params: Mapping[str, Any]) -> Ran:
        """Execute on an asyncio driver connection (psycopg's AsyncConnection), awaiting the database
        instead of blocking a thread; in whatever transaction that connection is in."""
        compiled = self._compiled_for(dialect, params)
        arguments = _arguments(compiled, params)
        cursor = driver_connection.cursor()
        try:
            await cursor.execute(compiled.sql, arguments)
            raw = await cursor.fetchall() if compiled.results else []
            rowcount = cursor.rowcount
        except dialect.loaded_dbapi.Error as exc:
            raise _raised(compiled, arguments, exc, dialect, driver_connection, cursor) from exc
        finally:
            await cursor.close()
        return _ran(compiled, raw, rowcount)

    @staticmethod
    def _execute(compiled: _Compiled, driver_connection: Any, dialect: Dialect, params: Mapping[str, Any]) -> Ran:
        arguments = _arguments(compiled, params)
        cursor = driver_connection.cursor()
        try:
            cursor.execute(compiled.sql, arguments)
            raw = cursor.fetchall() if compiled.results else []  # not a primary key PostgreSQL returns unasked
            rowcount = cursor.rowcount
        except dialect.loaded_dbapi.Error as exc:
            raise _raised(compiled, arguments, exc, dialect, driver_connection, cursor) from exc
        finally:
            cursor.close()
        return _ran(compiled, raw, rowcount)

    def _compiled_for(self, dialect: Dialect, params: Mapping[str, Any]) -> _Compiled:
        key = (dialect.name, tuple(params))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(dialect, key[1])
        return compiled


def _arguments(compiled: _Compiled, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
    """The driver's parameters: each value through its type processor, in the statement's order."""
    values: dict[str, Any] = {}
    for name, process, fixed in compiled.binds:
        value = params.get(name, fixed)
        values[name] = process(value) if process is not None else value
    return values if compiled.positional is None else tuple(values[name] for name in compiled.positional)


def _ran(compiled: _Compiled, raw: Sequence[Sequence[Any]], rowcount: int) -> Ran:
    """The rows as SQLAlchemy would give them (each value through its result processor)."""
    processors = compiled.results
    rows = [tuple(p(v) if p is not None else v for p, v in zip(processors, row, strict=True)) for row in raw]
    return Ran(compiled.keys, rows, rowcount)


def _raised(compiled: _Compiled, arguments: Any, exc: Any, dialect: Dialect, driver_connection: Any, cursor: Any) -> StatementError:
    """A driver's error as SQLAlchemy raises it, with whether the connection was lost (told apart as SQLAlchemy does)."""
    lost = dialect.is_disconnect(exc, driver_connection, cursor)
    error: StatementError = DBAPIError.instance(compiled.sql, arguments, exc, dialect.loaded_dbapi.Error, connection_invalidated=lost)
    return error
