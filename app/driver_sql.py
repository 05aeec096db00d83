"""A Core statement compiled once and run on the database driver's own cursor, for the hottest path.

``Connection.execute`` costs far more than the driver's execute for a small
statement run thousands of times a minute: an execution context per call, the
parameters processed again, and an ``IN (...)`` list expanded at every call
(``_process_parameters_for_postcompile``). py-spy under wrk put SQLAlchemy at
about a sixth of the WeChat callback's CPU, psycopg itself at a third of that
(docs/benchmarks.md, part 5). ``DriverStatement`` compiles the statement once
for the engine's dialect, with the ``IN`` lists written out, keeps the bind
processors of its parameters (JSON to text, datetimes for SQLite), and then only
converts the values and calls the driver.

Each ``run`` is its own transaction (autocommit on psycopg: no BEGIN / COMMIT round
trips; a commit on SQLite, where it costs no round trip), on a connection of the
engine's pool. A driver error comes back as SQLAlchemy's ``DBAPIError``; a connection
the database dropped is dropped from the pool, as SQLAlchemy does. The engine's
``before_cursor_execute`` listeners see the statement (with no Connection), so
statement counts (tests, bench/callback_roundtrips.py) still include it.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.visitors import cloned_traverse


class DriverStatement:
    def __init__(self, engine: Engine, statement) -> None:
        dialect = engine.dialect
        binds = statement.compile(dialect=dialect).binds
        # The values given at each run; the others are the statement's own (an IN list of constants).
        given = {name for name, bind in binds.items()
                 if bind.value is None and bind.callable is None and not bind.expanding}
        # With no value required at compile time, the IN lists can be written out once (render_postcompile).
        compiled = cloned_traverse(statement, {"maintain_key": True}, {"bindparam": _optional}).compile(
            dialect=dialect, compile_kwargs={"render_postcompile": True})
        self.engine = engine
        self.sql = compiled.string
        self._order = compiled.positiontup   # the parameter order of a positional paramstyle (SQLite: ?)
        self._constants = {name: value for name, value in compiled.params.items() if name not in given}
        # An INSERT's columns with a Python-side default and no value in the statement: SQLAlchemy's
        # execution context would fill them in.
        self._column_defaults = {}
        if isinstance(statement, Insert):
            for column in statement.table.columns:
                default = column.default
                if column.key in given and default is not None and (default.is_scalar or default.is_callable):
                    self._column_defaults[column.key] = default
        self.needed = frozenset(given - self._column_defaults.keys())
        self._processors = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is None:
                continue
            if name not in given:
                raise ValueError(f"DriverStatement: the constant {name} would need its type's processing")
            self._processors[name] = processor
        self._autocommit = dialect.name == "postgresql"
        self._error = dialect.loaded_dbapi.Error

    def parameters(self, values: dict[str, Any]) -> dict[str, Any] | tuple:
        """The driver's parameters for ``values`` (with the statement's own constants)."""
        missing = self.needed - values.keys()
        if missing:
            raise ValueError(f"DriverStatement: no value for {', '.join(sorted(missing))}")
        params = dict(self._constants)
        for name, default in self._column_defaults.items():
            if name in values:
                params[name] = values[name]
            else:
                params[name] = default.arg if default.is_scalar else default.arg(None)
        params.update((name, values[name]) for name in self.needed)
        for name, processor in self._processors.items():
            params[name] = processor(params[name])
        if self._order is not None:
            return tuple(params[name] for name in self._order)
        return params

    def run(self, values: dict[str, Any]) -> tuple | None:
        """Execute with ``values``; the first row it returns, if any."""
        params = self.parameters(values)
        connection = self.engine.raw_connection()
        try:
            driver = connection.dbapi_connection
            cursor = connection.cursor()
            dispatch = self.engine.dispatch.before_cursor_execute
            if dispatch:
                dispatch(None, cursor, self.sql, params, None, False)
            if self._autocommit:
                driver.autocommit = True
            try:
                cursor.execute(self.sql, params)
                row = cursor.fetchone() if cursor.description else None
                if not self._autocommit:
                    driver.commit()
            finally:
                if self._autocommit:
                    driver.autocommit = False
            cursor.close()
            return row
        except self._error as error:
            if self.engine.dialect.is_disconnect(error, connection.dbapi_connection, None):
                connection.invalidate(error)
            raise DBAPIError.instance(self.sql, params, error, self._error) from error
        finally:
            connection.close()


def _optional(bind) -> None:
    # What ClauseElement.params() does, which INSERT does not offer: no value is required at compile time.
    bind.required = False
