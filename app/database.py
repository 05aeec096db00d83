"""A small SQLAlchemy 2.0 extension: one engine per app, one session per app context.

Flask-SQLAlchemy would do the same, but its declarative-base handling does not
support SQLAlchemy 2.1's per-base type maps; this is all we use of it.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask.globals import app_ctx
from sqlalchemy import Engine, create_engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from app.models.base import Base

_KEY = "linli.db"


def _scope() -> int:
    # One session per pushed app context (request, CLI command, job, thread).
    return id(app_ctx._get_current_object())


class Database:
    Model = Base

    def __init__(self) -> None:
        self.session: scoped_session[Session] = scoped_session(make_session_factory(), scopefunc=_scope)

    def init_app(self, app: Flask) -> None:
        engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"],
                               **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
        app.extensions[_KEY] = engine
        app.teardown_appcontext(self._remove_session)

    def _remove_session(self, _exc: BaseException | None) -> None:
        self.session.remove()

    def engine_for(self, app: Flask) -> Engine:
        return app.extensions[_KEY]

    @property
    def engine(self) -> Engine:
        return self.engine_for(current_app._get_current_object())

    @property
    def metadata(self):
        return Base.metadata

    def create_all(self) -> None:
        Base.metadata.create_all(self.engine)

    def drop_all(self) -> None:
        Base.metadata.drop_all(self.engine)


class _AppBoundSession(Session):
    """A Session that binds to the current app's engine when first used."""

    def get_bind(self, mapper=None, clause=None, **kwargs):
        if self.bind is None:
            return current_app.extensions[_KEY]
        return super().get_bind(mapper=mapper, clause=clause, **kwargs)


def make_session_factory() -> sessionmaker:
    return sessionmaker(class_=_AppBoundSession, expire_on_commit=False)


# ---- helpers shared by the handlers -------------------------------------------------------------

def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def conflict_insert(dialect: str):
    """The dialect's ``insert`` construct, the one with ``on_conflict_do_nothing`` (PostgreSQL, SQLite)."""
    if dialect == "postgresql":
        return pg_insert
    if dialect == "sqlite":
        return sqlite_insert
    raise RuntimeError(f"unsupported database {dialect}")  # pragma: no cover - the service supports these two


def insert_ignore(session: Session, model, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING in the session's transaction; True if the row was inserted."""
    insert = conflict_insert(dialect_name(session))
    # RETURNING tells reliably whether a row went in (rowcount is -1 with implicit RETURNING on PostgreSQL).
    inserted = session.execute(insert(model).values(**values).on_conflict_do_nothing()
                               .returning(model.id)).scalar_one_or_none()
    return inserted is not None


def begin_write_transaction(session: Session) -> None:
    """Start the transaction for real, taking SQLite's write lock up front.

    Python's sqlite3 driver only sends BEGIN before the first INSERT/UPDATE/
    DELETE: a SAVEPOINT issued first would become the outer transaction (its
    RELEASE would commit), and a transaction that read before writing can fail
    on the lock upgrade instead of waiting. BEGIN IMMEDIATE makes concurrent
    writers queue on busy_timeout. PostgreSQL needs nothing here: its row locks
    are taken by the statements themselves.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
